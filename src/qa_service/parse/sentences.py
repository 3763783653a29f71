"""Sentences: the one normalised text of a document (TextBuilder) and sentence spans of clean text."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sgt",
        "gen",
        "col",
        "lt",
        "st",
        "no",
        "nos",
        "vol",
        "pp",
        "p",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "fig",
        "ed",
        "eds",
        "rep",
        "sen",
        "gov",
        "approx",
        "dept",
        "est",
    ]
)
_SENT_END_RE = re.compile(r"[.!?…]+[”’\"')\]]*(?=\s+[“‘\"'A-Z0-9À-Ý])")


class TextBuilder:
    """The one normalised text of a document: blocks joined by blank lines; add() gives a block's span."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._offset = 0

    def add(self, text: str) -> tuple[int, int]:
        if self._parts:
            self._parts.append("\n\n")
            self._offset += 2
        start = self._offset
        self._parts.append(text)
        self._offset += len(text)
        return start, self._offset

    @property
    def text(self) -> str:
        return "".join(self._parts)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of clean text (markers already removed)."""
    spans = []
    start = 0
    for m in _SENT_END_RE.finditer(text):
        end = m.end()
        before = text[start : m.start() + 1]
        word = re.search(r"(\S+)$", before)
        token = word.group(1).lower().lstrip("(“\"'‘[").rstrip(".") if word else ""
        if m.group(0).startswith(".") and (
            token in _ABBREVIATIONS
            or (re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) and len(token.replace(".", "")) <= 2)
        ):
            continue
        spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return [(a, b) for a, b in spans if text[a:b].strip()]
