"""`qa-service sources manifest | fetch | add | status | audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qa_service.cli.common import edge, emit_json, err, open_engine, out, settings
from qa_service.errors import InvalidInput, NotFound

app = typer.Typer(no_args_is_help=True, help="The primary sources cited by each paper's footnotes.")
DocumentOption = Annotated[
    str | None,
    typer.Option(
        "--document", help="The paper whose footnotes these are (default: the first in the manifest)."
    ),
]


def _paper(document: str | None) -> Any:
    """The paper (default: the primary one); the one-paper layout of corpus/sources/ is migrated first."""
    from qa_service.corpus import load_corpus
    from qa_service.sources.layout import migrate

    s = settings()
    for line in migrate(s.corpus_dir):
        err.print(f"moved {line}", highlight=False)
    papers = [p for p in load_corpus(s.corpus_dir) if p.kind == "paper"]
    if document is None:
        return papers[0]
    for p in papers:
        if p.doc_id == document:
            return p
    raise NotFound(f"no document '{document}'; the documents are: {', '.join(p.doc_id for p in papers)}")


@app.command("manifest")
@edge
def manifest(
    document: DocumentOption = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """(Re)generate corpus/sources/<doc>/manifest.json from the references, keeping hand-filled 'manual'
    fields."""
    from qa_service.sources.manifest import manifest_path, write_manifest

    s = settings()
    paper = _paper(document)
    entries = write_manifest(s.corpus_dir, paper)
    if as_json:
        emit_json([e.model_dump() for e in entries])
        return
    kinds: dict[str, int] = {}
    for e in entries:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    out.print(
        f"{manifest_path(s.corpus_dir, paper.doc_id)}: {len(entries)} sources, "
        f"{sum(e.fetchable for e in entries)} fetchable; kinds {kinds}"
    )


@app.command("fetch")
@edge
def fetch(
    numbers: Annotated[
        list[int] | None, typer.Argument(help="Footnote numbers (default: all fetchable).")
    ] = None,
    document: DocumentOption = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if already fetched.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Download the sources (each note's URLs in order until one works), extract their text and record
    provenance and every attempt; failures never stop the others."""
    from qa_service.progress import progress_bar
    from qa_service.sources.fetch import fetch_sources
    from qa_service.sources.manifest import entries_for

    s = settings()
    paper = _paper(document)
    entries = entries_for(s.corpus_dir, paper)
    wanted = numbers or sorted(entries)
    bad = [n for n in wanted if n not in entries]
    if bad:
        raise InvalidInput(
            f"no footnote {bad[0]} in {paper.doc_id}: it has footnotes 1-{max(entries, default=0)}"
        )
    chosen = [entries[n] for n in wanted]
    with progress_bar("fetching", len(chosen), s.show_progress()) as advance:
        results = fetch_sources(
            s.corpus_dir, paper.doc_id, chosen, s.sources, force=force, on_done=lambda p: advance(1)
        )
    if as_json:
        emit_json([r.model_dump() for r in results])
        return
    t = Table("footnote", "status", "kind", "pages", "reason / url")
    for r in results:
        t.add_row(str(r.number), r.status, r.kind, str(r.pages or ""), r.reason or r.final_url)
    out.print(t)
    ok = sum(r.status == "ok" for r in results)
    out.print(
        f"{ok} fetched, {sum(r.status == 'failed' for r in results)} failed, "
        f"{sum(r.status == 'skipped' for r in results)} not fetchable. Run `qa-service ingest` to index them."
    )


@app.command("add")
@edge
def add(
    n: int,
    file: Path,
    document: DocumentOption = None,
    url: Annotated[str, typer.Option(help="Where the file came from.")] = "",
) -> None:
    """Attach a source file downloaded by hand (PDF or HTML) to footnote N; for a short-form note (Ibid., a
    repeated title), to the note it repeats."""
    from qa_service.sources.fetch import add_file
    from qa_service.sources.manifest import attach_target

    s = settings()
    paper = _paper(document)
    target, _entry = attach_target(s.corpus_dir, paper, n)
    prov = add_file(s.corpus_dir, paper.doc_id, target, file, url)
    note = f"footnote {n} is a short form of footnote {target}: " if target != n else f"footnote {n}: "
    out.print(
        f"{paper.doc_id} {note}attached {prov.kind.upper()} to footnote {target}, {prov.pages} page(s). "
        "Run `qa-service ingest`.",
        highlight=False,
    )


@app.command("migrate")
@edge
def migrate_cmd() -> None:
    """Move sources kept in the one-paper layout (corpus/sources/<n>/) to corpus/sources/<doc>/<n>/."""
    from qa_service.sources.layout import migrate

    moved = migrate(settings().corpus_dir)
    out.print("\n".join(f"moved {m}" for m in moved) if moved else "nothing to migrate", highlight=False)


@app.command("status")
@edge
def status(document: DocumentOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One row per footnote: fetchable? fetched? why not?"""
    from qa_service.sources.fetch import status_table
    from qa_service.sources.manifest import entries_for

    s = settings()
    paper = _paper(document)
    rows = status_table(s.corpus_dir, paper.doc_id, list(entries_for(s.corpus_dir, paper).values()))
    if as_json:
        emit_json(rows)
        return
    t = Table("n", "kind", "status", "pages", "title / reason")
    for r in rows:
        t.add_row(
            str(r["number"]), r["kind"], r["status"], str(r["pages"] or ""), r["reason"] or (r["title"] or "")
        )
    out.print(t)


@app.command("audit")
@edge
def audit(document: DocumentOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per footnote: source fetched? quotations verified (verbatim / approximate / not found)?"""
    engine = open_engine()
    rows = []
    for ref in engine.footnotes(document):
        c = engine.cite(ref.number, document)
        src = c.source or {}
        quotes = src.get("quotes", [])
        counts = {k: sum(q["status"] == k for q in quotes) for k in ("verbatim", "approximate", "not_found")}
        rows.append(
            {
                "number": ref.number,
                "status": src.get("status"),
                "citing_sentences": len(c.cited_by),
                "quotes": len(quotes),
                **counts,
            }
        )
    if as_json:
        emit_json(rows)
        return
    t = Table("n", "source", "citing", "quotes", "verbatim", "approx.", "not found")
    for r in rows:
        t.add_row(
            *(
                str(r[k])
                for k in (
                    "number",
                    "status",
                    "citing_sentences",
                    "quotes",
                    "verbatim",
                    "approximate",
                    "not_found",
                )
            )
        )
    out.print(t)
    if not any(r["status"] == "fetched" for r in rows):
        err.print("no source is fetched yet: `qa-service sources fetch` (needs the public web)")
