"""The source manifest (corpus/sources/manifest.json): one entry per footnote, generated from the parsed
references. Fields under "manual" are written by hand, kept across regeneration, and override the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from qa_service.errors import SourceError
from qa_service.models import Paper, Reference
from qa_service.text import normalize

_KINDS: list[tuple[str, str]] = [
    (r"\bCharter\b|\bDeclaration\b|sectsc\.org", "intergovernmental_document"),
    (r"digitallibrary\.un\.org|securitycouncilreport\.org|Security Council Meeting", "un_record"),
    (r"unmissions\.org|treaties\.un\.org|Monitoring Team|Resolution \d+|Report of the", "un_report"),
    (r"mid\.ru|fmprc\.gov\.cn|mfa\.gov\.cn|china-embassy|Ministry of Foreign Affairs", "ministry_statement"),
    (r"treasury\.gov|ofac\.|Fact Sheet", "government_fact_sheet"),
    (
        r"crsreports\.congress\.gov|sigar\.mil|Congressional Research Service|Inspector General",
        "government_report",
    ),
    (r"usip\.org|rand\.org|orfonline\.org|lkyspp\.nus\.edu\.sg|Brief|Institute of Peace", "think_tank_brief"),
    (r"hindustantimes\.com|apnews\.com|reuters\.com|nytimes\.com|AP News|Times\b", "news_article"),
]
_BOOK_RE = re.compile(
    r"\((?:[^()]*?)(?:University Press|Publishers|Macmillan|Press|edition)[^()]*\d{4}\)", re.I
)


class SourceEntry(BaseModel):
    number: int
    title: str | None = None
    author: str | None = None
    date: str | None = None
    urls: list[str] = Field(default_factory=list)
    kind: str = "other"
    fetchable: bool = False
    reason: str = Field(
        "", description="Why it cannot be fetched (a book, or the same source as another note)."
    )
    same_as: int | None = Field(None, description="An earlier footnote citing the same source.")
    text: str = ""
    manual: dict[str, Any] = Field(default_factory=dict, description="Hand-filled fields; they win.")

    def effective(self) -> SourceEntry:
        return self.model_copy(update={k: v for k, v in self.manual.items() if k in SourceEntry.model_fields})


def classify(ref: Reference) -> str:
    hay = ref.text + " " + " ".join(ref.urls)
    if not ref.urls and _BOOK_RE.search(ref.text):
        return "book"
    for pattern, kind in _KINDS:
        if re.search(pattern, hay):
            return kind
    return "book" if not ref.urls and re.search(r"\*|\d{4}\)", ref.text) else "other"


def build_entries(paper: Paper, previous: dict[int, SourceEntry] | None = None) -> list[SourceEntry]:
    previous = previous or {}
    by_title: dict[str, int] = {}
    entries: list[SourceEntry] = []
    for ref in paper.references:
        kind = classify(ref)
        same_as = None
        short = re.match(r"^([^,“*]+),\s*[\d–-]+(?:;.*)?\.?$", ref.text)  # "Buzan and Wæver, 483–88."
        if not ref.title and not ref.urls and short:
            author = short.group(1).strip()
            same_as = next(
                (e.number for e in entries if e.text.startswith(author) and e.kind == "book"), None
            )
        if ref.title:
            key = normalize(ref.title)
            if key in by_title and not ref.urls:
                same_as = by_title[key]
            by_title.setdefault(key, ref.number)
        root = next((e for e in entries if e.number == same_as), None)
        if root is not None and root.same_as:
            same_as = root.same_as  # point at the first note that cites the source
        if ref.urls:
            fetchable, reason = True, ""
        elif same_as is not None:
            fetchable, reason = False, f"same source as footnote {same_as}"
            kind = next((e.kind for e in entries if e.number == same_as), kind)
        elif kind == "book":
            fetchable, reason = False, "a book: not online; consult a library copy"
        else:
            fetchable, reason = False, "no URL given in the footnote"
        entry = SourceEntry(
            number=ref.number,
            title=ref.title,
            author=ref.author,
            date=ref.date,
            urls=ref.urls,
            kind=kind,
            fetchable=fetchable,
            reason=reason,
            same_as=same_as,
            text=ref.text,
        )
        if ref.number in previous:
            entry.manual = previous[ref.number].manual
        entries.append(entry)
    return entries


def manifest_path(corpus_dir: Path) -> Path:
    return corpus_dir / "sources" / "manifest.json"


def read_manifest(corpus_dir: Path) -> dict[int, SourceEntry]:
    path = manifest_path(corpus_dir)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {e["number"]: SourceEntry(**e) for e in data.get("sources", [])}
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{path}: unreadable source manifest ({exc})") from exc


def write_manifest(corpus_dir: Path, paper: Paper) -> list[SourceEntry]:
    entries = build_entries(paper, read_manifest(corpus_dir))
    path = manifest_path(corpus_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "paper": paper.doc_id,
        "note": "Generated by `qa-service sources manifest`; edit only the 'manual' "
        "objects (kept across regeneration, they override the other fields).",
        "sources": [e.model_dump() for e in entries],
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return entries


def entries_for(corpus_dir: Path, paper: Paper) -> dict[int, SourceEntry]:
    """The manifest's entries (effective values), generated in memory when no manifest is written yet."""
    stored = read_manifest(corpus_dir)
    entries = list(stored.values()) if stored else build_entries(paper)
    return {e.number: e.effective() for e in entries}
