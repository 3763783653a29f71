"""Text from a fetched file: PDF pages with pypdf (page numbers kept), HTML main text with trafilatura."""

from __future__ import annotations

import io
from importlib.metadata import version
from typing import Literal

from qa_service.errors import SourceError

PAGE_BREAK = "\f"
Kind = Literal["pdf", "html"]


def sniff(body: bytes) -> Kind | None:
    """What the bytes are, whatever the Content-Type header said."""
    head = body[:2048].lstrip().lower()
    if body[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head:
        return "html"
    return None


def extract(body: bytes, kind: Kind) -> tuple[list[str], str]:
    """(pages, extractor name and version). HTML gives one page."""
    if kind == "pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(body))
            pages = [(p.extract_text() or "").strip() for p in reader.pages]
        except (PdfReadError, ValueError, KeyError) as exc:
            raise SourceError(f"unreadable PDF ({exc})") from exc
        if not any(pages):
            raise SourceError("the PDF has no extractable text (a scan?)")
        return pages, f"pypdf {version('pypdf')}"
    import trafilatura

    text = trafilatura.extract(
        body.decode("utf-8", errors="replace"), include_comments=False, include_tables=True, favor_recall=True
    )
    if not text or not text.strip():
        raise SourceError("no main text found in the HTML page")
    return [text.strip()], f"trafilatura {version('trafilatura')}"
