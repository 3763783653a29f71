"""qa-service: corpus | ingest | search | ask | cite | serve | eval | sources | bench.

Errors become a one-line message and exit code 2 here, at the edge; nothing below prints or exits.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from qa_service.config import Settings
from qa_service.errors import QAServiceError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
corpus_app = typer.Typer(no_args_is_help=True, help="The bundled corpus.")
sources_app = typer.Typer(no_args_is_help=True, help="The paper's cited primary sources.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (speed and memory, reported as ratios).")
app.add_typer(corpus_app, name="corpus")
app.add_typer(sources_app, name="sources")
app.add_typer(bench_app, name="bench")
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def edge(fn: F) -> F:
    """Turn the engine's errors into a clear message and exit code 2, without a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAServiceError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return Settings()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# ---------------------------------------------------------------- corpus


@corpus_app.command("inspect")
@edge
def corpus_inspect(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    path: Annotated[Path | None, typer.Option(help="Parse this file instead of the corpus manifest.")] = None,
) -> None:
    """The parsed structure: sections, references, repairs and problems."""
    from qa_service.corpus import load_corpus
    from qa_service.parse import parse_file

    papers = [parse_file(path)] if path else load_corpus(settings().corpus_dir)
    if as_json:
        emit_json(
            [
                {
                    "doc_id": p.doc_id,
                    "metadata": p.metadata.model_dump(),
                    "sections": [
                        {
                            "title": s.title,
                            "kind": s.kind,
                            "paragraphs": sum(b.kind == "paragraph" for b in s.blocks),
                            "captions": sum(b.kind == "caption" for b in s.blocks),
                            "sentences": sum(len(b.sentences) for b in s.blocks),
                        }
                        for s in p.sections
                    ],
                    "references": [r.model_dump() for r in p.references],
                    "repairs": [r.model_dump() for r in p.repairs],
                    "problems": p.problems,
                }
                for p in papers
            ]
        )
        return
    for p in papers:
        m = p.metadata
        out.print(f"[bold]{m.title}[/bold]: {m.subtitle}\n{m.author} · {m.publisher} · {m.date}")
        t = Table("section", "kind", "paragraphs", "captions", "sentences")
        for s in p.sections:
            t.add_row(
                s.title,
                s.kind,
                str(sum(b.kind == "paragraph" for b in s.blocks)),
                str(sum(b.kind == "caption" for b in s.blocks)),
                str(sum(len(b.sentences) for b in s.blocks)),
            )
        out.print(t)
        kinds: dict[str, int] = {}
        for r in p.repairs:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        out.print(f"references: {len(p.references)} · repairs: {kinds}")
        out.print("problems: " + ("; ".join(p.problems) if p.problems else "none"))


# ---------------------------------------------------------------- index


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


def _engine() -> Any:
    from qa_service.engine import Engine

    return Engine.open(settings())


@app.command()
@edge
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="Passages to return.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense, lexical, sentence or dense+lexical.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ranked passages for a query."""
    from qa_service.errors import InvalidInput
    from qa_service.retrieve import MODES

    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
    engine = _engine()
    hits = engine.search(query, k, mode)
    rows = [
        {
            "id": h.chunk.id,
            "score": h.score,
            "section": h.chunk.section,
            "source": h.chunk.source,
            "text": h.chunk.text,
            "footnotes": h.chunk.footnotes,
            "page": h.chunk.page,
        }
        for h in hits
    ]
    if as_json:
        emit_json(rows)
        return
    for i, r in enumerate(rows, 1):
        fn = f" footnotes {r['footnotes']}" if r["footnotes"] else ""
        out.print(
            f"[bold]{i}.[/bold] {r['score']:.4f} [cyan]{r['section']}[/cyan]{fn}  ({r['id']})",
            highlight=False,
        )
        out.print(f"   {r['text']}", highlight=False)


@app.command()
@edge
def ask(
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="The same JSON as POST /chat.")] = False,
) -> None:
    """Answer one question with passage markers and footnotes."""
    from api.schemas import to_chat
    from qa_service.converse import Message

    engine = _engine()
    resp = to_chat(engine.ask([Message(role="user", content=question)]), engine)
    if as_json:
        emit_json(resp.model_dump())
        return
    out.print(resp.answer, highlight=False)
    if not resp.abstained:
        for c in sorted({c.marker for c in resp.citations}):
            p = resp.passages[c - 1]
            out.print(f"  [{c}] {p.section} ({p.id})", highlight=False)
        for f in resp.footnotes:
            out.print(f"  footnote {f.number}: {f.text}", highlight=False)


@app.command()
@edge
def cite(
    n: int,
    as_json: Annotated[bool, typer.Option("--json", help="The same JSON as GET /citations/{n}.")] = False,
) -> None:
    """What footnote N cites and which sentences of the paper cite it."""
    engine = _engine()
    c = engine.cite(n)
    if as_json:
        emit_json(c.model_dump())
        return
    out.print(f"[bold]Footnote {c.number}[/bold]: {c.text}", highlight=False)
    for s in c.cited_by:
        out.print(f"  • [{s.section}] {s.text}", highlight=False)
    if c.source:
        out.print(f"  source: {json.dumps(c.source, ensure_ascii=False)[:400]}", highlight=False)


@app.command()
@edge
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (1 is fastest on 2 cores: see the README).")
    ] = 1,
) -> None:
    """Serve the HTTP API and web page, ingesting the corpus first if needed."""
    import uvicorn

    from api.app import create_app
    from qa_service.embed import Embedder
    from qa_service.engine import Engine, run_ingest

    s = settings()
    embedder = Embedder(s.index.model_path)  # one model for ingest and serving
    report = run_ingest(s, embedder=embedder)
    err.print(
        f"index {report.generation}: {report.chunks} passages "
        f"({'unchanged' if report.unchanged else 'built'} in {report.seconds:.1f} s)"
    )
    h, p = host or s.server.host, port or s.server.port
    err.print(f"serving on http://{h}:{p}  (API docs: http://{h}:{p}/docs)")
    if workers == 1:
        uvicorn.run(
            create_app(s, engine=Engine.open(s, embedder=embedder)), host=h, port=p, log_level="warning"
        )
    else:  # each worker process loads its own engine
        uvicorn.run("api.main:app", host=h, port=p, workers=workers, log_level="warning")


def main() -> None:
    app()


from qa_service import cli_extra  # noqa: E402, F401  (registers eval, sources and bench commands)
from qa_service.sources import cli as sources_cli  # noqa: E402, F401

if __name__ == "__main__":
    main()
