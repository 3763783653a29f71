"""Text and markdown papers -> lines.

Plain text (a PDF's text extraction, a report saved as text): blank lines end paragraphs, a form feed ends
a page (pages are counted only when there is one), and near each page break the running headers, footers
and page numbers are dropped. Markdown adds what its syntax says: `#` headings (own paragraphs, with their
level), list items (a paragraph each) and footnotes (`[^3]` and `[^3]: ...` read as `[3]` and a `[3] ...`
entry); emphasis and links are left to the shared repairs.
"""

from __future__ import annotations

import re

from qa_service.models import Repair
from qa_service.parse.lines import Line, drop_running_lines

_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_ITEM_RE = re.compile(r"^[-*+]\s+(?=\S)")
_MD_RULE_RE = re.compile(r"^(?:[-*_]\s*){3,}$")
_MD_NOTE_DEF_RE = re.compile(r"^\[\^(\d{1,3})\]:\s*")
_MD_NOTE_RE = re.compile(r"\[\^(\d{1,3})\]")
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running header or footer


def read_text(text: str, markdown: bool = False) -> tuple[list[Line], list[Repair]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paged = "\f" in text
    repairs: list[Repair] = []
    pages: list[list[Line]] = []
    number = 0
    for pi, page_text in enumerate(text.split("\f"), 1):
        page: list[Line] = []
        for k, raw in enumerate(page_text.split("\n")):
            if k or pi == 1:
                number += 1
            page += _lines(raw.strip(), markdown, pi if paged else None, number)
        pages.append(page)
    if paged:
        pages = drop_running_lines(pages, _near_edge, repairs, keep_first_page=True)
    lines: list[Line] = []
    for pi, page in enumerate(pages, 1):
        if pi > 1:
            lines.append(Line(kind="page", page=pi, number=page[0].number if page else number))
        lines += page
    return lines, repairs


def _lines(text: str, markdown: bool, page: int | None, number: int) -> list[Line]:
    """One input line as Lines: itself, or for markdown syntax, itself with the breaks the syntax implies."""
    blank = Line(kind="blank", page=page, number=number)
    if not text:
        return [blank]
    if markdown:
        # markdown footnotes: [^3] in the text and a "[^3]: ..." definition are the shared [3] forms
        text = _MD_NOTE_DEF_RE.sub(r"[\1] ", text)
        text = _MD_NOTE_RE.sub(r"[\1]", text)
        if h := _MD_HEADING_RE.match(text):
            heading = Line(text=h.group(2), heading=True, level=len(h.group(1)), page=page, number=number)
            return [blank, heading, Line(kind="blank", page=page, number=number)]
        if _MD_RULE_RE.match(text):
            return [blank]
        if _MD_ITEM_RE.match(text):
            return [blank, Line(text=_MD_ITEM_RE.sub("", text), item=True, page=page, number=number)]
    return [Line(text=text, page=page, number=number)]


def _near_edge(page: list[Line], i: int) -> bool:
    """One of the first or last EDGE_LINES non-blank lines of its page."""
    texts = [k for k, ln in enumerate(page) if ln.kind == "text"]
    return i in texts[:EDGE_LINES] or i in texts[-EDGE_LINES:]
