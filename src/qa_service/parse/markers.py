"""In-text footnote markers, for every input kind: superscript digits (¹, ¹⁰, ¹,³, ²⁻⁴) and bracketed numbers
([1], [1, 3], [2–4]); ranges expand. The marker format itself is in qa_service.text (MARKER_RE)."""

from __future__ import annotations

from qa_service.text import MARKER_RE, marker_numbers


def clean_with_markers(text: str) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]]]:
    """Remove markers: (clean text, (footnote, offset in clean text) pairs, and the removed spans as
    (clean offset, characters removed) so a clean offset maps back to the raw text)."""
    out: list[str] = []
    markers: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    pos = 0
    offset = 0
    for m in MARKER_RE.finditer(text):
        piece = text[pos : m.start()]
        cut = len(m.group(0))
        if m.group(0).startswith("[") and piece.endswith(" "):
            piece = piece[:-1]  # "disagree [1]." -> "disagree."
            cut += 1
        out.append(piece)
        offset += len(piece)
        markers += [(n, offset) for n in marker_numbers(m.group(0))]
        removed.append((offset, cut))
        pos = m.end()
    out.append(text[pos:])
    # a marker removed between two words leaves no space issue ("exceptions³² to" -> "exceptions to")
    return "".join(out), markers, removed


def raw_offset(clean_offset: int, removed: list[tuple[int, int]]) -> int:
    """The offset in the raw text of a character at `clean_offset` of the clean text."""
    return clean_offset + sum(cut for at, cut in removed if at <= clean_offset)
