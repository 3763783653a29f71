"""Papers -> the paper model: one parser per input kind, one set of rules shared by all.

    textfile.py    text and markdown -> lines          pdf.py         PDF (pdfplumber) -> lines
    lines.py       lines, paragraphs, running headers  references.py  the reference list and its entries
    markers.py     in-text footnote markers            metadata.py    title-page metadata
    sentences.py   sentence spans, the one text        structure.py   sections, repairs, assembly

parse_file(path) reads .txt, .md and .pdf; parse_paper(text) parses text already in memory. A paper that
cannot be parsed raises ParseError naming the file, the line and the problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa_service.config import PaperLimits
from qa_service.errors import ParseError, TooLarge
from qa_service.models import Paper
from qa_service.parse.sentences import TextBuilder, split_sentences
from qa_service.parse.structure import build_paper
from qa_service.parse.textfile import read_text

__all__ = ["SUFFIXES", "TextBuilder", "parse_bytes", "parse_file", "parse_paper", "split_sentences"]

SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".pdf": "pdf"}


def parse_file(
    path: Path,
    doc_id: str | None = None,
    overrides: dict[str, str] | None = None,
    limits: PaperLimits | None = None,
) -> Paper:
    """Read and parse one paper (.txt, .md or .pdf); errors name the file, the line and the problem. With
    `limits` (a paper being added), one over them is refused (TooLarge) before it is parsed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    try:
        return parse_bytes(
            raw, path.suffix, doc_id=doc_id or path.stem, path=str(path), overrides=overrides, limits=limits
        )
    except ParseError as exc:
        raise ParseError(f"{path}: {exc.message}") from exc
    except TooLarge as exc:
        raise TooLarge(f"{path}: {exc.message}") from exc


def parse_bytes(
    raw: bytes,
    suffix: str,
    doc_id: str,
    path: str = "",
    overrides: dict[str, str] | None = None,
    limits: PaperLimits | None = None,
) -> Paper:
    kind = SUFFIXES.get(suffix.lower(), "text")
    if not raw.strip():
        raise ParseError("the document is empty")
    if kind == "pdf":
        from qa_service.parse.pdf import read_pdf

        lines, repairs, info = read_pdf(raw, limits)
        sha = hashlib.sha256(raw).hexdigest()
        return build_paper(lines, doc_id, path, sha, overrides, repairs, info)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParseError(f"line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from exc
    if limits is not None and len(text) > limits.max_chars:
        raise TooLarge(
            f"the text has {len(text):,} characters; the limit is {limits.max_chars:,} (QA_PAPERS__MAX_CHARS)"
        )
    return parse_paper(text, doc_id=doc_id, path=path, overrides=overrides, markdown=kind == "markdown")


def parse_paper(
    text: str,
    doc_id: str = "paper",
    path: str = "",
    overrides: dict[str, str] | None = None,
    markdown: bool = False,
) -> Paper:
    """Parse a text (or markdown) paper already in memory."""
    if not text.strip():
        raise ParseError("the document is empty")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lines, repairs = read_text(text, markdown=markdown)
    return build_paper(lines, doc_id, path, sha, overrides, repairs)
