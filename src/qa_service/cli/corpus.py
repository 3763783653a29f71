"""`qa-service corpus inspect | list | add | remove`: the parsed structure of the corpus, and changing it.
The logic is in qa_service.corpus; these commands only print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from qa_service.cli.common import edge, emit_json, out, settings

app = typer.Typer(
    no_args_is_help=True, help="The corpus: its documents, how they parse, adding and removing."
)
SHOWN_REPAIRS = 5  # repairs listed per kind (the count is always given)


def _summary_json(p: Any) -> dict[str, Any]:
    return {
        "doc_id": p.doc_id,
        "metadata": p.metadata.model_dump(),
        "sections": [
            {
                "title": s.title,
                "kind": s.kind,
                "paragraphs": sum(b.kind == "paragraph" for b in s.blocks),
                "captions": sum(b.kind == "caption" for b in s.blocks),
                "sentences": sum(len(b.sentences) for b in s.blocks),
                "pages": sorted({x.page for b in s.blocks for x in b.sentences if x.page is not None}),
            }
            for s in p.sections
        ],
        "references": [r.model_dump() for r in p.references],
        "repairs": [r.model_dump() for r in p.repairs],
        "problems": p.problems,
    }


def _print_summary(p: Any) -> None:
    m = p.metadata
    out.print(
        Text.assemble((p.doc_id, "bold"), f" · {m.title}" + (f": {m.subtitle}" if m.subtitle else "")),
        highlight=False,
    )
    out.print(f"{m.author or '(no author)'} · {m.publisher or '(no publisher)'} · {m.date or '(no date)'}")
    t = Table("section", "kind", "paragraphs", "captions", "sentences", "pages")
    for s in p.sections:
        pages = sorted({x.page for b in s.blocks for x in b.sentences if x.page is not None})
        t.add_row(
            s.title,
            s.kind,
            str(sum(b.kind == "paragraph" for b in s.blocks)),
            str(sum(b.kind == "caption" for b in s.blocks)),
            str(sum(len(b.sentences) for b in s.blocks)),
            f"{pages[0]}-{pages[-1]}" if len(pages) > 1 else (str(pages[0]) if pages else ""),
        )
    out.print(t)
    markers = {n for _, _, s in p.sentences() for n in s.footnotes}
    short = [r for r in p.references if r.same_as is not None]
    out.print(
        f"references: {len(p.references)} ({sum(bool(r.urls) for r in p.references)} with URLs"
        + (
            f", {len(short)} short forms: " + ", ".join(f"{r.number}→{r.same_as}" for r in short)
            if short
            else ""
        )
        + f") · markers resolved: {len(markers & {r.number for r in p.references})}",
        highlight=False,
    )
    kinds: dict[str, list[str]] = {}
    for r in p.repairs:
        kinds.setdefault(r.kind, []).append(r.detail)
    out.print("repaired: " + ("none" if not kinds else ""), highlight=False)
    for kind, details in kinds.items():
        more = f" (+{len(details) - SHOWN_REPAIRS} more)" if len(details) > SHOWN_REPAIRS else ""
        out.print(
            f"  {kind} ×{len(details)}: " + " · ".join(d[:60] for d in details[:SHOWN_REPAIRS]) + more,
            highlight=False,
        )
    # problems: what could not be resolved (a marker without a reference, a reference no sentence cites)
    out.print("problems: " + ("; ".join(p.problems) if p.problems else "none"), highlight=False)


@app.command("inspect")
@edge
def corpus_inspect(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    path: Annotated[Path | None, typer.Option(help="Parse this file instead of the corpus manifest.")] = None,
) -> None:
    """The parsed structure: sections, references, what was repaired and what could not be resolved."""
    from qa_service.corpus import load_corpus
    from qa_service.parse import parse_file

    papers = [parse_file(path)] if path else load_corpus(settings().corpus_dir)
    if as_json:
        emit_json([_summary_json(p) for p in papers])
        return
    for p in papers:
        _print_summary(p)


@app.command("list")
@edge
def corpus_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The documents of the manifest, the primary one first."""
    from qa_service.corpus import read_manifest

    specs = read_manifest(settings().corpus_dir)
    if as_json:
        emit_json([s.model_dump() for s in specs])
        return
    t = Table("id", "path", "title")
    for s in specs:
        t.add_row(s.id, s.path, s.title)
    out.print(t)


@app.command("add")
@edge
def corpus_add(
    file: Path,
    doc_id: Annotated[
        str | None, typer.Option("--id", help="Document id (default: from the file name).")
    ] = None,
    title: Annotated[str, typer.Option(help="Title (overrides the title page).")] = "",
    subtitle: Annotated[str, typer.Option(help="Subtitle.")] = "",
    author: Annotated[str, typer.Option(help="Author(s).")] = "",
    publisher: Annotated[str, typer.Option(help="Organisation or publisher.")] = "",
    date: Annotated[str, typer.Option(help="Publication date.")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a paper (.txt, .md or .pdf): validated, copied into corpus/papers/, listed in the manifest.
    Then `qa-service ingest` embeds only the new document. The same checks and limits (QA_PAPERS__*) as
    POST /documents."""
    from qa_service.corpus import add_document
    from qa_service.jobs import corpus_lock

    s = settings()
    meta = {"title": title, "subtitle": subtitle, "author": author, "publisher": publisher, "date": date}
    with corpus_lock(s):  # a server adding or removing a paper meanwhile waits, and the other way round
        spec, paper = add_document(s.corpus_dir, file, doc_id, meta, limits=s.papers)
    if as_json:
        emit_json({"added": spec.model_dump(), "document": _summary_json(paper)})
        return
    out.print(f"added '{spec.id}' ({spec.path}). Run `qa-service ingest` to index it.", highlight=False)
    _print_summary(paper)


@app.command("remove")
@edge
def corpus_remove(doc_id: Annotated[str, typer.Argument(metavar="ID", help="The document id.")]) -> None:
    """Remove a document: its manifest entry, its copy in corpus/papers/ and its fetched sources."""
    from qa_service.corpus import remove_document
    from qa_service.jobs import corpus_lock

    s = settings()
    with corpus_lock(s):
        spec = remove_document(s.corpus_dir, doc_id)
    out.print(
        f"removed '{spec.id}' ({spec.path}). Run `qa-service ingest` to update the index.", highlight=False
    )
