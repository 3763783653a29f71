"""`qa-service bench retrieval | load`: speed and memory, reported as ratios."""

from __future__ import annotations

from typing import Annotated

import typer

from qa_service.cli.common import edge, emit_json, out, settings

app = typer.Typer(no_args_is_help=True, help="Benchmarks (speed and memory, reported as ratios).")


@app.command("retrieval")
@edge
def bench_retrieval(
    queries: Annotated[int, typer.Option(help="Queries timed (from the evaluation set).")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest and search speed against the bare model, and the llama-index quickstart as a baseline."""
    from qa_service.bench import bench_retrieval as run

    result = run(settings(), queries)
    if as_json:
        emit_json(result)
        return
    for k, v in result.items():
        out.print(f"{k}: {v}")


@app.command("load")
@edge
def bench_load(
    requests: Annotated[int, typer.Option(help="Requests per concurrency level.")] = 1000,
    concurrency: Annotated[str, typer.Option(help="Comma-separated concurrency levels.")] = "16,64",
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    unique: Annotated[
        bool, typer.Option(help="Distinct questions (no cache hits); --no-unique repeats them.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Start the service on loopback and load it with /chat and /search requests."""
    from qa_service.bench import bench_load as run

    levels = [int(x) for x in concurrency.split(",") if x.strip()]
    result = run(settings(), requests, levels, workers, unique)
    if as_json:
        emit_json(result)
        return
    for k, v in result.items():
        out.print(f"{k}: {v}")
