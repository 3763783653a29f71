"""`qa-service ingest`: build or update the index."""

from __future__ import annotations

from typing import Annotated

import typer

from qa_service.cli.common import edge, emit_json, out, settings

app = typer.Typer()


@app.command()
@edge
def ingest(
    rebuild: Annotated[bool, typer.Option(help="Re-embed everything, ignoring what is cached.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Build or update the index (incremental: unchanged text is not embedded again)."""
    from qa_service.engine import run_ingest

    report = run_ingest(settings(), rebuild=rebuild)
    if as_json:
        emit_json(report.model_dump())
        return
    verb = "unchanged" if report.unchanged else "built"
    out.print(
        f"index {report.generation} {verb}: {report.documents} documents, {report.chunks} passages, "
        f"{report.sentences} sentences; embedded {report.embedded}, reused {report.reused}"
        f"{f', truncated {report.truncated}' if report.truncated else ''}; {report.seconds:.2f} s "
        f"({report.store})"
    )
