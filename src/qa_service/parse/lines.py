"""What every input parser produces: lines of text with where they are (page, line number), the hints the
format gives (a markdown `#` or a large PDF font says "heading"), paragraph and page breaks. One rule on
lines is shared by all formats: running headers, footers and page numbers are dropped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from qa_service.models import BlockKind, Repair
from qa_service.text import collapse_ws

LineKind = Literal["text", "blank", "page"]
_HYPHEN_END_RE = re.compile(r"[A-Za-zÀ-ÿ]-$")
_URL_END_RE = re.compile(r"https?://\S*/$")
_URL_REST_RE = re.compile(r"[a-z0-9][\w.~%-]*(?:[/?#=&][\w./~%?#=&-]*)?(?:[.,;)]?\s|[.,;)]?$)")
_PAGE_NUMBER_RE = re.compile(
    r"(?:page\s+)?[-–—]?\s*\d{1,3}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,3})?|[ivx]{1,5}", re.IGNORECASE
)


@dataclass
class Line:
    """One line of the input. `kind` "blank" ends a paragraph, "page" ends a page (and a paragraph)."""

    text: str = ""
    kind: LineKind = "text"
    page: int | None = None
    number: int = 0  # 1-based: the line in the file (text), or the line on its page (PDF)
    heading: bool = False  # the format says so (markdown `#`, a PDF heading font)
    level: int = 0  # heading level: 1 is the largest
    item: bool = False  # a list item (markdown `-`, `*`): a paragraph of its own


def where(line: Line) -> str:
    """How an error names a place in the input: 'line 12' or 'page 3, line 12'."""
    return (
        f"page {line.page}, line {line.number}"
        if line.page is not None and line.number
        else (f"line {line.number}")
    )


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER_RE.fullmatch(text.strip()))


def _shape(text: str) -> str:
    """A line with its numbers blanked: a running header keeps its shape while the page number changes."""
    return re.sub(r"\d+", "#", text.strip().lower())


def drop_running_lines(
    pages: list[list[Line]],
    candidate: Callable[[list[Line], int], bool],
    repairs: list[Repair],
    keep_first_page: bool = False,
) -> list[list[Line]]:
    """Drop page numbers and the running headers and footers: among the lines `candidate(page, i)` allows
    (those near the top or bottom of a page), any that is a bare page number, or whose shape recurs on at
    least two pages (and a third of them when there are more than six). A heading the format marks is kept,
    and with `keep_first_page` every line of page 1 but its page number (a plain-text title page has no
    fonts to tell its title from a running header)."""
    shapes: Counter[str] = Counter()
    for page in pages:
        shapes.update(
            {_shape(ln.text) for i, ln in enumerate(page) if ln.kind == "text" and candidate(page, i)}
        )
    need = max(2, -(-len(pages) // 3) if len(pages) > 6 else 2)
    out = []
    for page in pages:
        kept = []
        for i, ln in enumerate(page):
            if ln.kind == "text" and candidate(page, i):
                if is_page_number(ln.text):
                    repairs.append(Repair(kind="page_number", detail=f"p. {ln.page}: {ln.text.strip()}"))
                    continue
                first = keep_first_page and ln.page == 1
                if shapes[_shape(ln.text)] >= need and not first and not ln.heading:
                    repairs.append(
                        Repair(kind="running_header", detail=f"p. {ln.page}: {ln.text.strip()[:60]}")
                    )
                    continue
            kept.append(ln)
        out.append(kept)
    return out


@dataclass
class Raw:
    """A paragraph of the input (lines between breaks), before sections and sentences."""

    text: str
    src: list[Line]
    kind: BlockKind = "paragraph"
    repairs: list[Repair] = field(default_factory=list)
    pages: list[tuple[int, int]] = field(default_factory=list)  # (offset into text, page) where a page starts

    @property
    def lines(self) -> list[str]:
        return [ln.text for ln in self.src]

    @property
    def hinted_heading(self) -> bool:
        return bool(self.src) and all(ln.heading for ln in self.src)

    @property
    def level(self) -> int:
        return self.src[0].level if self.src else 0

    def page_at(self, offset: int) -> int | None:
        """The page of the character at `offset` of `text`."""
        page = None
        for start, p in self.pages:
            if start > offset:
                break
            page = p
        return page

    def append(self, other: Raw) -> None:
        """Join `other` to this paragraph (a page break or a wrap split it)."""
        shift = len(self.text) + 1
        self.text = self.text + " " + other.text
        self.src += other.src
        self.pages += [(o + shift, p) for o, p in other.pages if p != self.pages[-1][1]] if self.pages else []


def line_joint(before: str, after: str) -> str:
    """What goes between a line and the next when they are joined: a space, or nothing after a hyphen
    that ends a line when the next starts in lower case (a word or a URL broken at a hyphen), or inside a
    URL broken after a slash ("https://x.org/" + "report.pdf")."""
    if not before or (_HYPHEN_END_RE.search(before) and after[:1].islower()):
        return ""
    if _URL_END_RE.search(before) and _URL_REST_RE.match(after):
        return ""
    return " "


def blocks_from_lines(lines: list[Line]) -> list[Raw]:
    """Paragraphs: runs of text lines between blank lines and page breaks, joined by a space (none after a
    hyphen ending a line when the next starts in lower case: "water-" + "sharing", "https://x.org/a-" +
    "b"); a heading or a list item the format marks starts a paragraph of its own."""
    out: list[Raw] = []
    run: list[Line] = []

    def flush() -> None:
        if run:
            text = ""
            pages: list[tuple[int, int]] = []
            for ln in run:
                piece = collapse_ws(ln.text)
                text += line_joint(text, piece)
                if ln.page is not None and (not pages or pages[-1][1] != ln.page):
                    pages.append((len(text), ln.page))
                text += piece
            out.append(Raw(text=text, src=list(run), pages=pages))
            run.clear()

    for ln in lines:
        if ln.kind != "text" or not ln.text.strip():
            flush()
            continue
        if run and (ln.heading != run[-1].heading or ln.item or ln.level != run[-1].level):
            flush()
        run.append(ln)
    flush()
    return out
