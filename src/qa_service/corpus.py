"""The corpus: manifest.toml lists the documents; load_corpus() parses them into Papers; add_document() and
remove_document() change it.

Adding validates first (the file parses, its id is new), then copies the file into papers/ and appends its
[[documents]] table; removing drops the table, the copied file and the document's fetched sources. Every
write replaces a whole file atomically, so a failure leaves the corpus as it was. Neither touches the index:
the next `ingest` embeds only what is new (vectors are reused by content hash)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from qa_service.config import PaperLimits
from qa_service.errors import DuplicateDocument, InvalidInput, NotFound, ParseError
from qa_service.models import Paper
from qa_service.parse import SUFFIXES, parse_file
from qa_service.sources.layout import document_dir

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
METADATA_FIELDS = ("title", "subtitle", "author", "publisher", "date")
_TABLE_RE = re.compile(r"^\s*\[\[documents\]\]\s*$", re.MULTILINE)


class DocumentSpec(BaseModel):
    id: str = Field(pattern=ID_PATTERN)
    path: str
    kind: str = "paper"
    title: str = ""
    subtitle: str = ""
    author: str = ""
    publisher: str = ""
    date: str = ""
    format: str = ""


def manifest_file(corpus_dir: Path) -> Path:
    return corpus_dir / "manifest.toml"


def _parse_manifest(path: Path, text: str) -> list[DocumentSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"{path}: not valid TOML ({exc})") from exc
    try:
        specs = [DocumentSpec(**d) for d in data.get("documents", [])]
    except ValidationError as exc:
        raise ParseError(f"{path}: bad document entry: {exc.errors()[0]['msg']}") from exc
    if len({s.id for s in specs}) != len(specs):
        raise ParseError(f"{path}: document ids must be unique")
    return specs


def read_manifest(corpus_dir: Path) -> list[DocumentSpec]:
    path = manifest_file(corpus_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ParseError(f"{path}: corpus manifest not found") from exc
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path}: not valid TOML ({exc})") from exc
    specs = _parse_manifest(path, text)
    if not specs:
        raise ParseError(f"{path}: lists no documents")
    return specs


def _overrides(spec: DocumentSpec) -> dict[str, str]:
    return {k: getattr(spec, k) for k in METADATA_FIELDS}


def load_corpus(corpus_dir: Path) -> list[Paper]:
    papers = []
    for spec in read_manifest(corpus_dir):
        papers.append(parse_file(corpus_dir / spec.path, doc_id=spec.id, overrides=_overrides(spec)))
    return papers


def document_id_for(path: Path) -> str:
    """A document id from a file name: 'Water Brief (final).pdf' -> 'water-brief-final'."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:64].strip("-")
    return slug or "document"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _toml_table(spec: DocumentSpec) -> str:
    lines = ["", "[[documents]]"]
    for key, value in spec.model_dump().items():
        if value or key in ("id", "path", "kind"):
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")  # a JSON string is a TOML string
    return "\n".join(lines) + "\n"


def add_document(
    corpus_dir: Path,
    file: Path,
    doc_id: str | None = None,
    metadata: dict[str, str] | None = None,
    limits: PaperLimits | None = None,
) -> tuple[DocumentSpec, Paper]:
    """Validate `file` (.txt, .md or .pdf) as a paper, copy it into papers/ and add its manifest entry.
    Raises (and changes nothing) when the file cannot be read or parsed, is over `limits` (pages, characters,
    what a PDF's streams expand to), or the id or file is already there."""
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"{file}: unsupported file type '{file.suffix}'; add a .txt, .md or .pdf file")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file}: cannot read file ({exc.strerror or exc})") from exc
    doc_id = doc_id or document_id_for(file)
    if not re.fullmatch(ID_PATTERN, doc_id):
        raise InvalidInput(
            f"document id '{doc_id}' is not valid: letters, digits, '.', '_' and '-', up to 64 characters"
        )
    manifest = manifest_file(corpus_dir)
    specs = read_manifest(corpus_dir)
    if any(s.id == doc_id for s in specs):
        raise DuplicateDocument(f"document id '{doc_id}' is already in {manifest}: choose another with --id")
    digest = hashlib.sha256(raw).hexdigest()
    for s in specs:
        other = corpus_dir / s.path
        if other.exists() and hashlib.sha256(other.read_bytes()).hexdigest() == digest:
            raise DuplicateDocument(f"{file}: the same file is already in the corpus as '{s.id}' ({s.path})")
    meta = {k: v for k, v in (metadata or {}).items() if k in METADATA_FIELDS and v}
    paper = parse_file(file, doc_id=doc_id, overrides=meta, limits=limits)  # errors name the file and line
    dest = corpus_dir / "papers" / f"{doc_id}{suffix}"
    if dest.exists():
        raise DuplicateDocument(f"{dest} already exists: choose another id with --id")
    spec = DocumentSpec(
        id=doc_id, path=dest.relative_to(corpus_dir).as_posix(), format=SUFFIXES[suffix], **meta
    )
    text = manifest.read_text(encoding="utf-8")
    new_text = text.rstrip("\n") + "\n" + _toml_table(spec)
    if [s.id for s in _parse_manifest(manifest, new_text)] != [*(s.id for s in specs), doc_id]:
        raise ParseError(f"{manifest}: could not add the entry for '{doc_id}'")  # pragma: no cover
    dest.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(dest, raw)
    try:
        _write_atomic(manifest, new_text.encode("utf-8"))
    except OSError:
        dest.unlink(missing_ok=True)
        raise
    return spec, paper


def find_document(specs: list[DocumentSpec], doc_id: str, where: str = "the corpus") -> DocumentSpec:
    """The manifest entry of `doc_id`; NotFound naming the documents `where` holds when there is none."""
    spec = next((s for s in specs if s.id == doc_id), None)
    if spec is None:
        raise NotFound(f"no document '{doc_id}' in {where}; the documents are: {', '.join(s.id for s in specs)}")
    return spec


def remove_document(corpus_dir: Path, doc_id: str) -> DocumentSpec:
    """Drop a document's manifest entry, its file in papers/ (unless another entry uses it) and its
    fetched sources."""
    manifest = manifest_file(corpus_dir)
    specs = read_manifest(corpus_dir)
    spec = find_document(specs, doc_id, str(manifest))
    if len(specs) == 1:
        raise InvalidInput(f"'{doc_id}' is the only document of the corpus: add another before removing it")
    text = manifest.read_text(encoding="utf-8")
    starts = [m.start() for m in _TABLE_RE.finditer(text)]
    pieces = [text[: starts[0]]] + [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    kept = [pieces[0]] + [p for p in pieces[1:] if tomllib.loads(p)["documents"][0].get("id") != doc_id]
    new_text = "".join(kept)
    if [s.id for s in _parse_manifest(manifest, new_text)] != [s.id for s in specs if s.id != doc_id]:
        raise ParseError(f"{manifest}: could not remove the entry for '{doc_id}'")  # pragma: no cover
    _write_atomic(manifest, new_text.encode("utf-8"))
    file = corpus_dir / spec.path
    papers_dir = (corpus_dir / "papers").resolve()
    if file.resolve().parent == papers_dir and all(s.path != spec.path for s in specs if s.id != doc_id):
        file.unlink(missing_ok=True)
    shutil.rmtree(document_dir(corpus_dir, doc_id), ignore_errors=True)
    return spec
