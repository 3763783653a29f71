"""`qa-service sources manifest | fetch | add | status | audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qa_service.cli.common import edge, emit_json, err, open_engine, out, settings
from qa_service.errors import InvalidInput

app = typer.Typer(no_args_is_help=True, help="The paper's cited primary sources.")


def _paper() -> Any:
    from qa_service.corpus import load_corpus

    return load_corpus(settings().corpus_dir)[0]


@app.command("manifest")
@edge
def manifest(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """(Re)generate corpus/sources/manifest.json from the references, keeping hand-filled 'manual' fields."""
    from qa_service.sources.manifest import manifest_path, write_manifest

    s = settings()
    entries = write_manifest(s.corpus_dir, _paper())
    if as_json:
        emit_json([e.model_dump() for e in entries])
        return
    kinds: dict[str, int] = {}
    for e in entries:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    out.print(
        f"{manifest_path(s.corpus_dir)}: {len(entries)} sources, "
        f"{sum(e.fetchable for e in entries)} fetchable; kinds {kinds}"
    )


@app.command("fetch")
@edge
def fetch(
    numbers: Annotated[
        list[int] | None, typer.Argument(help="Footnote numbers (default: all fetchable).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if already fetched.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Download the sources, extract their text and record provenance; failures never stop the others."""
    from qa_service.progress import progress_bar
    from qa_service.sources.fetch import fetch_sources
    from qa_service.sources.manifest import entries_for

    s = settings()
    entries = entries_for(s.corpus_dir, _paper())
    wanted = numbers or sorted(entries)
    bad = [n for n in wanted if n not in entries]
    if bad:
        raise InvalidInput(f"no footnote {bad[0]}: the paper has footnotes 1-{max(entries)}")
    chosen = [entries[n] for n in wanted]
    with progress_bar("fetching", len(chosen), s.show_progress()) as advance:
        results = fetch_sources(s.corpus_dir, chosen, s.sources, force=force, on_done=lambda p: advance(1))
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
def add(n: int, file: Path, url: Annotated[str, typer.Option(help="Where the file came from.")] = "") -> None:
    """Attach a source file downloaded by hand (PDF or HTML) to footnote N."""
    from qa_service.sources.fetch import add_file

    s = settings()
    paper = _paper()
    if paper.reference(n) is None:
        raise InvalidInput(f"no footnote {n}: the paper has footnotes 1-{len(paper.references)}")
    prov = add_file(s.corpus_dir, n, file, url)
    out.print(f"footnote {n}: attached {prov.kind.upper()}, {prov.pages} page(s). Run `qa-service ingest`.")


@app.command("status")
@edge
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One row per footnote: fetchable? fetched? why not?"""
    from qa_service.sources.fetch import status_table
    from qa_service.sources.manifest import entries_for

    s = settings()
    rows = status_table(s.corpus_dir, list(entries_for(s.corpus_dir, _paper()).values()))
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
def audit(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per footnote: source fetched? quotations verified (verbatim / approximate / not found)?"""
    engine = open_engine()
    rows = []
    for ref in engine.footnotes():
        c = engine.cite(ref.number)
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
