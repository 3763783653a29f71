"""`qa-service bench retrieval | load | scale | encoder`: speed and memory, reported as ratios."""

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


@app.command("scale")
@edge
def bench_scale(
    sizes: Annotated[
        str, typer.Option(help="Corpus sizes, in multiples of the paper (comma-separated).")
    ] = "1,10,50",
    queries: Annotated[int, typer.Option(help="Distinct questions timed per size.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic papers.")] = 0,
    http: Annotated[bool, typer.Option(help="Also time a real server per size over HTTP.")] = True,
    raw_limit: Annotated[
        int, typer.Option(help="Encode at most this many of each size's new texts raw (0: all).")
    ] = 0,
    topical: Annotated[
        bool,
        typer.Option(
            help="Grow the corpus with copies of its own papers, names and numbers swapped (papers that "
            "compete for every question), not synthetic ones; writes bench-scale-topical.json."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest, latency, memory and disk as the corpus grows: seeded synthetic papers of the paper's size, or
    topical ones derived from the corpus's own papers."""
    from qa_service.bench import bench_scale as run
    from qa_service.errors import InvalidInput

    try:
        levels = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError as exc:
        raise InvalidInput(f"--sizes must be whole numbers separated by commas, got {sizes!r}") from exc
    if not levels or min(levels) < 1 or max(levels) > 500:
        raise InvalidInput(f"--sizes must be between 1 and 500, got {sizes!r}")
    result = run(settings(), levels, queries, seed, http, raw_limit, topical=topical)
    if as_json:
        emit_json(result)
        return
    for k, v in result.items():
        out.print(f"{k}: {v}")


@app.command("encoder")
@edge
def bench_encoder(
    queries: Annotated[int, typer.Option(min=16, help="Distinct questions timed (single and in 16s).")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """PyTorch fp32 against ONNX Runtime fp32 and int8: agreement over the corpus, every evaluation metric
    under each (shipped weights and leave-one-writer-out), single-query, batch and ingest speed, in one run
    (eval/reports/bench-encoder.json)."""
    from qa_service.bench import bench_encoder as run

    result = run(settings(), queries)
    if as_json:
        emit_json(result)
        return
    for k, v in result.items():
        out.print(f"{k}: {v}")
