"""PDF papers -> lines, with pdfplumber (pdfminer.six underneath).

Each page's words (with their font size and name) are grouped into lines by vertical overlap. A word set
smaller than its line and raised above the line's baseline is a superscript: digits (and lists or ranges
of them) become superscript characters, the footnote markers the shared rules read; anything else raised
is glued to the word before it. Nothing is guessed from bare digits. Paragraphs end at a gap wider than the
usual line spacing, at a change of font size, and after a short line that ends a sentence; lines set larger
than the body text (or bold and short) are headings, level 1 the largest. Near the top and bottom of each
page, page numbers and running headers and footers are dropped by the rule shared with text files;
footnotes printed at the foot of the pages are gathered into one list at the end, under a heading. Pages
are the physical pages of the file, from 1. Text in several columns is read line by line across them.
"""

from __future__ import annotations

import io
import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from qa_service.config import PaperLimits
from qa_service.errors import ParseError, TooLarge
from qa_service.models import Repair
from qa_service.parse.lines import Line, drop_running_lines
from qa_service.text import SUPERSCRIPT_DIGITS

_TO_SUPER = str.maketrans("0123456789", SUPERSCRIPT_DIGITS)
_MARKER_TEXT_RE = re.compile(r"\d{1,3}(?:[,–-]\d{1,3})*")
_BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
SUPER_SIZE = 0.85  # a superscript is set at most this share of its line's size...
SUPER_RISE = 0.15  # ...with its baseline raised by at least this share of the line's size
HEADING_SIZE = 1.15  # a line set this much larger than the body text is a heading
EDGE_ZONE = 0.12  # share of the page height at the top and the bottom where running headers live
EDGE_LINES = 2  # and only the first or last lines of a page there
FOOTNOTE_SIZE = 0.92  # lines at the foot of a page set smaller than this share of the body size are notes
_NOTE_START_RE = re.compile(rf"^(?:\d{{1,3}}[.)]?\s|[{SUPERSCRIPT_DIGITS}]{{1,3}}\s?\S)")


@dataclass
class _PdfLine:
    words: list[dict[str, Any]]
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    text: str = ""
    bold: bool = False
    x0: float = 0.0
    x1: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def finish(self) -> None:
        sizes: Counter[float] = Counter()
        for w in self.words:
            sizes[round(w["size"], 1)] += len(w["text"])
        self.size = sizes.most_common(1)[0][0]
        main = [w for w in self.words if w["size"] >= 0.9 * self.size]
        self.top = min(w["top"] for w in main)
        self.bottom = statistics.median(w["bottom"] for w in main)
        self.x0 = min(w["x0"] for w in self.words)
        self.x1 = max(w["x1"] for w in self.words)
        self.bold = all(_BOLD_RE.search(w["fontname"] or "") for w in main)
        self.words.sort(key=lambda w: w["x0"])
        out: list[str] = []
        for w in self.words:
            raised = (
                w["size"] <= SUPER_SIZE * self.size and w["bottom"] <= self.bottom - SUPER_RISE * self.size
            )
            if raised and _MARKER_TEXT_RE.fullmatch(w["text"]):
                sup = w["text"].translate(_TO_SUPER)
                if out:
                    out[-1] += sup
                else:
                    out.append(sup)
            elif raised and out:
                out[-1] += w["text"]
            else:
                out.append(w["text"])
        self.text = " ".join(out)


_ENCRYPTED = "the PDF is encrypted (it needs a password): save an unencrypted copy"


def check_pdf(raw: bytes, limits: PaperLimits) -> int:
    """Before pdfminer reads it (pdfminer decodes every stream it meets, whatever its size): the number of
    pages, and what the file's streams expand to, with pypdf, whose decoders stop at a limit. TooLarge over
    `limits`; ParseError when it needs a password or cannot be read at all. Returns the page count."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError
    from pypdf.filters import decode_stream_data
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    bomb = (
        f"its compressed streams expand past {limits.max_stream_bytes:,} bytes in all (a decompression "
        "bomb?): refused before reading it (QA_PAPERS__MAX_STREAM_BYTES)"
    )
    one_bomb = (
        "one of its compressed streams expands past pypdf's limit for one stream (a decompression bomb?): "
        "refused before reading it"
    )
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):  # an empty user password opens many PDFs
            raise ParseError(_ENCRYPTED)
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise TooLarge(
                f"the PDF has {pages:,} pages; the limit is {limits.max_pages:,} (QA_PAPERS__MAX_PAGES)"
            )
        total, seen = 0, set()
        stack: list[Any] = [reader.trailer]
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if (obj.idnum, obj.generation) in seen:
                    continue
                seen.add((obj.idnum, obj.generation))
                obj = obj.get_object()
            if isinstance(obj, StreamObject):
                if obj.get("/Subtype") != "/Image":  # images are never decoded for their text
                    try:
                        total += len(decode_stream_data(obj))
                    except LimitReachedError as exc:
                        raise TooLarge(one_bomb) from exc
                    except (PyPdfError, NotImplementedError, ValueError):
                        pass  # a filter pypdf lacks or a damaged stream: pdfminer decides what it can read
                    if total > limits.max_stream_bytes:
                        raise TooLarge(bomb)
                stack.extend(obj.values())
            elif isinstance(obj, DictionaryObject):
                stack.extend(obj.values())
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except (ParseError, TooLarge):
        raise
    except LimitReachedError as exc:
        raise TooLarge(one_bomb) from exc
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise ParseError(f"unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    return pages


def read_pdf(
    raw: bytes, limits: PaperLimits | None = None
) -> tuple[list[Line], list[Repair], dict[str, str]]:
    """(lines, repairs, the file's own title and author) of a PDF; ParseError when it cannot be read.
    `limits`: a paper being added is checked first (check_pdf), and its text is counted as it is read."""
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    if b"%PDF-" not in raw[:1024]:
        raise ParseError("not a PDF file (no %PDF- header)")
    if limits is not None:
        check_pdf(raw, limits)
    try:
        pdf = pdfplumber.open(io.BytesIO(raw))
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if cause.__class__.__name__ in ("PDFPasswordIncorrect", "PDFEncryptionError"):
            raise ParseError(_ENCRYPTED) from exc
        raise ParseError(f"unreadable PDF ({cause.__class__.__name__}: {cause})") from exc
    with pdf:
        pages: list[tuple[float, list[dict[str, Any]]]] = []
        chars = 0
        try:
            for p in pdf.pages:
                words = p.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
                chars += sum(len(w["text"]) for w in words)
                if limits is not None and chars > limits.max_chars:
                    raise TooLarge(
                        f"the PDF's text runs past {limits.max_chars:,} characters by page {len(pages) + 1} "
                        "(QA_PAPERS__MAX_CHARS)"
                    )
                pages.append((p.height, words))
        except TooLarge:
            raise
        except Exception as exc:  # pdfminer raises many kinds on a damaged content stream
            raise ParseError(f"unreadable PDF page ({exc.__class__.__name__}: {exc})") from exc
        meta = pdf.metadata or {}
    if not pages:
        raise ParseError("the PDF has no pages")
    if not any(words for _, words in pages):
        raise ParseError(
            f"no text in any of its {len(pages)} page(s): an image-only (scanned) PDF; run OCR on it first"
        )
    by_page = [(height, _group(words)) for height, words in pages]
    sizes: Counter[float] = Counter()
    for _, lines in by_page:
        for ln in lines:
            sizes[ln.size] += len(ln.text)
    body = sizes.most_common(1)[0][0]
    heading_sizes = sorted(
        {ln.size for _, lines in by_page for ln in lines if ln.size >= HEADING_SIZE * body}
    )
    levels = {s: i + 1 for i, s in enumerate(reversed(heading_sizes))}
    body_bold = all(ln.bold for _, lines in by_page for ln in lines if ln.size == body)

    repairs: list[Repair] = []
    paged: list[list[Line]] = []
    extras: dict[int, _PdfLine] = {}
    for pno, (height, lines) in enumerate(by_page, 1):
        out: list[Line] = []
        for i, ln in enumerate(lines):
            heading = ln.size in levels or (
                ln.bold and not body_bold and len(ln.text.split()) <= 12 and not ln.text.endswith(".")
            )
            line = Line(
                text=ln.text,
                page=pno,
                number=i + 1,
                heading=heading,
                level=levels.get(ln.size, len(levels) + 1) if heading else 0,
            )
            ln.extra["height"] = height
            extras[id(line)] = ln
            out.append(line)
        paged.append(out)

    def near_edge(page: list[Line], i: int) -> bool:
        ln = extras[id(page[i])]
        zone = EDGE_ZONE * ln.extra["height"]
        edge = i < EDGE_LINES or i >= len(page) - EDGE_LINES
        return edge and (ln.top < zone or ln.bottom > ln.extra["height"] - zone)

    paged = drop_running_lines(paged, near_edge, repairs)
    paged, foot = _page_foot_notes(paged, extras, body, repairs)
    gaps = [
        extras[id(b)].top - extras[id(a)].bottom
        for page in paged
        for a, b in itertools.pairwise(page)
        if extras[id(a)].size == extras[id(b)].size == body
    ]
    usual = statistics.median(gaps) if gaps else 0.0
    result: list[Line] = []
    for pno, page in enumerate(paged, 1):
        if pno > 1:
            result.append(Line(kind="page", page=pno, number=1))
        prev: _PdfLine | None = None
        right = max((extras[id(ln)].x1 for ln in page), default=0.0)
        left = min((extras[id(ln)].x0 for ln in page), default=0.0)
        for line in page:
            cur = extras[id(line)]
            if prev is not None and _new_paragraph(prev, cur, usual, body, left, right):
                result.append(Line(kind="blank", page=pno, number=line.number))
            result.append(line)
            prev = cur
    if foot:  # notes printed at the foot of the pages become one list at the end, under a heading
        last = paged[-1][-1] if paged and paged[-1] else None
        at = {"page": last.page if last else len(paged), "number": (last.number if last else 0) + 1}
        result += [Line(kind="blank", **at), Line(text="Notes", heading=True, level=len(levels) + 1, **at)]  # type: ignore[arg-type]
        for line in foot:
            if _NOTE_START_RE.match(line.text):
                result.append(Line(kind="blank", page=line.page, number=line.number))
            result.append(line)
    info = {
        key: str(meta.get(name, "")).strip()
        for key, name in (("title", "Title"), ("author", "Author"))
        if str(meta.get(name, "")).strip(" ()").lower() not in ("", "untitled", "anonymous", "unknown")
    }
    return result, repairs, info


def _page_foot_notes(
    paged: list[list[Line]], extras: dict[int, _PdfLine], body: float, repairs: list[Repair]
) -> tuple[list[list[Line]], list[Line]]:
    """Footnotes printed at the foot of a page: the page's last lines, set smaller than the body text, below
    body text of that page, at least one of them starting with a note number. They leave the page flow
    (so the text around them joins up) and come back as one list at the end."""
    kept: list[list[Line]] = []
    notes: list[Line] = []
    for page in paged:
        i = len(page)
        while i > 0 and extras[id(page[i - 1])].size < FOOTNOTE_SIZE * body and not page[i - 1].heading:
            i -= 1
        run, above = page[i:], page[:i]
        numbered = [ln for ln in run if _NOTE_START_RE.match(ln.text)]
        body_above = any(not ln.heading and extras[id(ln)].size >= FOOTNOTE_SIZE * body for ln in above)
        if numbered and body_above and not (above and above[-1].heading):
            notes += run
            repairs.append(
                Repair(
                    kind="page_footnotes",
                    detail=f"p. {run[0].page}: {len(numbered)} note(s) moved to the end",
                )
            )
            kept.append(above)
        else:
            kept.append(page)
    return kept, notes


def _group(words: list[dict[str, Any]]) -> list[_PdfLine]:
    """Words -> lines: the largest words first, each smaller word joining the line it overlaps most
    (a superscript overlaps its line's upper half)."""
    lines: list[_PdfLine] = []
    for w in sorted(words, key=lambda w: (-w["size"], w["top"], w["x0"])):
        height = max(w["bottom"] - w["top"], 0.1)
        best, best_overlap = None, 0.0
        for ln in lines:
            overlap = min(ln.bottom, w["bottom"]) - max(ln.top, w["top"])
            if overlap > best_overlap:
                best, best_overlap = ln, overlap
        if best is not None and best_overlap >= 0.3 * height:
            best.words.append(w)
            best.top, best.bottom = min(best.top, w["top"]), max(best.bottom, w["bottom"])
        else:
            lines.append(_PdfLine(words=[w], top=w["top"], bottom=w["bottom"]))
    for ln in lines:
        ln.finish()
    return sorted(lines, key=lambda ln: ln.top)


def _new_paragraph(
    prev: _PdfLine, cur: _PdfLine, usual: float, body: float, left: float, right: float
) -> bool:
    if abs(prev.size - cur.size) > 0.5 or prev.bold != cur.bold:
        return True
    if cur.top - prev.bottom > usual + 0.45 * body:
        return True
    short = prev.x1 < right - 0.15 * (right - left)
    return short and bool(re.search(r"[.!?:][”’\"')\]]*$", prev.text)) and cur.text[:1].isupper()
