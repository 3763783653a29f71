"""Title-page metadata, read generically: title, subtitle, authors, organisation/publisher, date.

Each short line of the front matter is classified (a copyright or "Published by" line, a date, a by-line,
a list of names, an organisation, other text); the title is the format's level-1 heading, else the first
"Title: Subtitle" line, else the first line of other text, and the subtitle the line after it.
"""

from __future__ import annotations

import re

from qa_service.models import Metadata
from qa_service.parse.lines import Raw
from qa_service.text import FULL_DATE

DATE_RE = re.compile(rf"(?:{FULL_DATE}|\d{{4}}-\d\d-\d\d)")
_COPYRIGHT_RE = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s+)?(?:by\s+)?(?:the\s+)?(.+?)(?:\.\s.*|\.)?$", re.I
)
_PUBLISHED_RE = re.compile(r"(?:published\s+by|publisher:)\s+(?:the\s+)?(.+?)\.?$", re.I)
_BYLINE_RE = re.compile(r"(?:by|authors?:|written\s+by)\s+(.+?)\.?$", re.I)
_DATED_RE = re.compile(rf"(?:date|published|dated)?:?\s*({DATE_RE.pattern})\.?", re.I)
_ORG_WORDS = re.compile(
    r"\b(?:Institute|Institution|Foundation|Centre|Center|Council|University|Press|Programme|Program|"
    r"Network|Association|Forum|Initiative|Trust|Society|Observatory|Agency|Commission|Alliance|Unit|"
    r"Laboratory|Lab|Consortium|Collective)\b"
)
_SERIES_RE = re.compile(
    r"(?:policy|issue|research|discussion|working)?\s*(?:brief|paper|report|note)\b.*\b(?:no\.?|number|#)\s*\d+",
    re.I,
)
_PARTICLE = r"(?:de|da|di|van|von|der|den|la|le|del|dos|du|bin|ibn|al)"
_NAME_WORD = rf"(?:[A-ZÀ-Þ]\.|[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ]?[a-zß-ÿ'’]+)?|{_PARTICLE})"
_NAME_RE = re.compile(rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}")
MAX_WORDS = 20  # a front-matter line longer than this is prose (rights, credits), not a title-page field


def _is_names(text: str) -> bool:
    """'J. K. Smith', 'Linh Tran and Samuel Okafor', 'Ana Lima, Tomás Ruiz & Mei Chen'."""
    if text.isupper():
        return False
    pieces = [p for p in re.split(r",\s*(?:and\s+)?|\s+(?:and|&)\s+", text) if p]
    return 0 < len(pieces) <= 6 and all(_NAME_RE.fullmatch(p.strip()) for p in pieces)


def classify_line(text: str) -> tuple[str, str]:
    """(class, value) of one front-matter line."""
    if m := _COPYRIGHT_RE.match(text):
        return "publisher", m.group(1).strip()
    if m := _PUBLISHED_RE.match(text):
        return "publisher", m.group(1).strip()
    if m := _DATED_RE.fullmatch(text):
        return "date", m.group(1)
    if m := _BYLINE_RE.match(text):
        return "byline", m.group(1).strip()
    if _SERIES_RE.fullmatch(text):
        return "series", text
    if text.isupper() and len(text.split()) <= 6:
        return "org", text.title()
    if _ORG_WORDS.search(text) and len(text.split()) <= 10 and not text.endswith("."):
        return "org", text
    if _is_names(text):
        return "names", text
    return "other", text


def read_metadata(
    front: list[Raw], overrides: dict[str, str], info: dict[str, str] | None = None
) -> Metadata:
    units: list[tuple[str, bool, int]] = []  # (text, the format marks it a heading, its level)
    for b in front:
        if b.kind == "toc":
            continue
        if b.hinted_heading or len(b.src) == 1:
            units.append((b.text, b.hinted_heading, b.level))
        else:
            units += [(ln.text, False, 0) for ln in b.src]
    meta = Metadata()
    classes = [classify_line(t) if len(t.split()) <= MAX_WORDS else ("prose", t) for t, _, _ in units]
    for (t, _, _), (cls, _) in zip(units, classes, strict=True):  # "© 2025 by X" inside a rights paragraph
        if (
            cls == "prose"
            and not meta.publisher
            and (m := re.search(r"©\s*\d{4}\s+by\s+(?:the\s+)?(.+?)\.?$", t))
        ):
            meta.publisher = m.group(1).strip()
    titled = [i for i, (_, hint, level) in enumerate(units) if hint and level == 1]
    colon = [i for i, (c, v) in enumerate(classes) if c == "other" and ": " in v]
    plain = [i for i, (c, _) in enumerate(classes) if c in ("other", "names")]
    at: int | None = None
    if titled:
        at = titled[0]
        meta.title = units[at][0]
    elif colon:
        at = colon[0]
        meta.title, meta.subtitle = (s.strip() for s in classes[at][1].split(":", 1))
    elif plain:
        at = plain[0]
        meta.title = classes[at][1]
    if at is not None and not meta.subtitle and at + 1 < len(classes):
        cls, value = classes[at + 1]
        # names-like text right after the title is the subtitle when the authors are named further on
        if cls == "other" or (cls == "names" and any(c in ("names", "byline") for c, _ in classes[at + 2 :])):
            meta.subtitle = value
            at += 1
    for cls, value in classes:
        if cls == "publisher" and not meta.publisher:
            meta.publisher = value
        elif cls == "date" and not meta.date:
            meta.date = value
        elif cls == "byline" and not meta.author:
            meta.author = value
    if not meta.author:
        later = [v for i, (c, v) in enumerate(classes) if c == "names" and (at is None or i > at)]
        meta.author = later[0] if later else ""
    if not meta.publisher:
        meta.publisher = next((v for c, v in classes if c == "org"), "")
    for key, value in (info or {}).items():  # the file's own metadata fills what the title page lacks
        if hasattr(meta, key) and value and not getattr(meta, key):
            setattr(meta, key, value)
    for key, value in overrides.items():
        if hasattr(meta, key) and value:
            setattr(meta, key, value)
    return meta
