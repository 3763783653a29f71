"""`qa-service corpus inspect`: the parsed structure of the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qa_service.cli.common import edge, emit_json, out, settings

app = typer.Typer(no_args_is_help=True, help="The bundled corpus.")


@app.command("inspect")
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
