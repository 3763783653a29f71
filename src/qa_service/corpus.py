"""The corpus: manifest.toml lists the documents; load_corpus() parses them into Papers."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from qa_service.errors import ParseError
from qa_service.models import Paper
from qa_service.parse import parse_file


class DocumentSpec(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    path: str
    kind: str = "paper"
    title: str = ""
    subtitle: str = ""
    author: str = ""
    publisher: str = ""
    date: str = ""
    format: str = ""


def read_manifest(corpus_dir: Path) -> list[DocumentSpec]:
    path = corpus_dir / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ParseError(f"{path}: corpus manifest not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{path}: not valid TOML ({exc})") from exc
    try:
        specs = [DocumentSpec(**d) for d in data.get("documents", [])]
    except ValidationError as exc:
        raise ParseError(f"{path}: bad document entry: {exc.errors()[0]['msg']}") from exc
    if not specs:
        raise ParseError(f"{path}: lists no documents")
    if len({s.id for s in specs}) != len(specs):
        raise ParseError(f"{path}: document ids must be unique")
    return specs


def load_corpus(corpus_dir: Path) -> list[Paper]:
    papers = []
    for spec in read_manifest(corpus_dir):
        overrides = {k: getattr(spec, k) for k in ("title", "subtitle", "author", "publisher", "date")}
        papers.append(parse_file(corpus_dir / spec.path, doc_id=spec.id, overrides=overrides))
    return papers
