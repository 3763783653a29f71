"""`qa-service search | ask | cite`: the engine's queries, with --json giving the same shapes as the API
(built by qa_service.schemas)."""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

import typer
from rich.text import Text

from qa_service.cli.common import edge, emit_json, err, open_engine, out, settings

app = typer.Typer()


@app.command()
@edge
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="Passages to return.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense, lexical, sentence or dense+lexical.")] = "hybrid",
    document: Annotated[
        list[str] | None,
        typer.Option("--document", help="Only this document (repeatable; ids: `corpus list`)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same JSON as POST /search.")] = False,
) -> None:
    """Ranked passages for a query."""
    from qa_service.errors import InvalidInput
    from qa_service.retrieve import MODES, Mode
    from qa_service.schemas import to_passage

    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
    engine = open_engine()
    passages = [to_passage(h) for h in engine.search(query, k, cast(Mode, mode), document or None)]
    if as_json:
        emit_json([p.model_dump() for p in passages])
        return
    for i, p in enumerate(passages, 1):
        fn = f" footnotes {p.footnotes}" if p.footnotes else ""
        out.print(
            Text.assemble((f"{i}.", "bold"), f" {p.score:.4f} ", (str(p.section), "cyan"), f"{fn}  ({p.id})"),
            highlight=False,
        )
        out.print(f"   {p.text}", highlight=False)


@app.command()
@edge
def ask(
    question: str,
    document: Annotated[
        list[str] | None, typer.Option("--document", help="Only this document (repeatable).")
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="extractive or generate (default from settings; generate needs QA_LLM__BASE_URL)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same JSON as POST /chat.")] = False,
) -> None:
    """Answer one question with passage markers and footnotes."""
    from qa_service.errors import InvalidInput
    from qa_service.generate import Generator
    from qa_service.generate import ask as answer_in_mode
    from qa_service.models import Message
    from qa_service.schemas import to_chat

    if mode not in (None, "extractive", "generate"):
        raise InvalidInput("mode must be extractive or generate")
    s = settings()
    engine = open_engine(s)
    answer, generation = answer_in_mode(
        engine,
        Generator.from_settings(s),
        [Message(role="user", content=question)],
        mode=cast(Any, mode),
        documents=document or None,
    )
    resp = to_chat(answer, engine, generation)
    if as_json:
        emit_json(resp.model_dump())
        return
    out.print(resp.answer, highlight=False)
    if resp.abstained and resp.passages:
        out.print("  nearest passages:", highlight=False)
        for p in resp.passages[:3]:
            out.print(f"  - {p.section} ({p.id}): {p.text[:160]}", highlight=False)
    if not resp.abstained:
        for c in sorted({c.marker for c in resp.citations}):
            p = resp.passages[c - 1]
            out.print(f"  [{c}] {p.section} ({p.id})", highlight=False)
        for f in resp.footnotes:
            out.print(f"  footnote {f.number} ({f.document}): {f.text}", highlight=False)
    for u in resp.unsupported:
        err.print(f"dropped: {u.text} ({u.why})", highlight=False)
    if resp.reason and not resp.abstained:
        err.print(f"note: {resp.reason}", highlight=False)


@app.command()
@edge
def cite(
    n: int,
    document: Annotated[
        str | None, typer.Option("--document", help="The document (default: the primary one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same JSON as GET /citations/{n}.")] = False,
) -> None:
    """What footnote N of a document cites and which of its sentences cite it."""
    engine = open_engine()
    c = engine.cite(n, document)
    if as_json:
        emit_json(c.model_dump())
        return
    out.print(Text.assemble((f"Footnote {c.number}", "bold"), f": {c.text}"), highlight=False)
    for s in c.cited_by:
        out.print(f"  • [{s.section}] {s.text}", highlight=False)
    if c.source:
        out.print(f"  source: {json.dumps(c.source, ensure_ascii=False)[:400]}", highlight=False)
