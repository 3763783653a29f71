"""`qa-service serve`: the HTTP API and web page (the only CLI module that imports api/)."""

from __future__ import annotations

from typing import Annotated

import typer

from qa_service.cli.common import edge, err, settings

app = typer.Typer()


@app.command()
@edge
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes, each with its own index and model in memory (see the README).")
    ] = 1,
    ingest: Annotated[
        bool | None,
        typer.Option(
            help="Ingest the corpus before serving. Default: yes with embedded Chroma and a corpus manifest, "
            "no with a Chroma server (replicas serve what an `ingest` anywhere publishes)."
        ),
    ] = None,
) -> None:
    """Serve the HTTP API and web page. The server follows the index: when an ingest (here or on another
    machine) publishes a new build, it moves to it without a restart."""
    import uvicorn

    from api.app import create_app
    from qa_service.embed import Embedder
    from qa_service.engine import Engine, run_ingest
    from qa_service.jobs import recover
    from qa_service.store import VectorStore

    s = settings()
    embedder = Embedder.from_settings(s)  # one model for ingest and serving
    for job in recover(s, VectorStore.from_settings(s)):  # before an ingest could publish a half-done upload
        err.print(f"job {job.id} ({job.kind} {job.document}): {job.error or job.message}", highlight=False)
    if ingest if ingest is not None else not s.chroma_host and (s.corpus_dir / "manifest.toml").exists():
        report = run_ingest(s, embedder=embedder)
        err.print(
            f"index {report.generation}: {report.chunks} passages "
            f"({'unchanged' if report.unchanged else 'built'} in {report.seconds:.1f} s)"
        )
    h, p = host or s.server.host, port or s.server.port
    err.print(f"serving on http://{h}:{p}  (API docs: http://{h}:{p}/docs, MCP: http://{h}:{p}/mcp)")
    if workers == 1:  # the app loads the index (or waits for one, saying so on /ready)
        uvicorn.run(
            create_app(s, engine=Engine(s, embedder=embedder)),
            host=h,
            port=p,
            log_level="warning",
            timeout_keep_alive=s.server.keep_alive_s,
        )
    else:  # each worker process loads its own engine
        uvicorn.run(
            "api.main:app",
            host=h,
            port=p,
            workers=workers,
            log_level="warning",
            timeout_keep_alive=s.server.keep_alive_s,
        )
