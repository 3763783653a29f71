"""Where a document's sources live: corpus/sources/<doc>/manifest.json and corpus/sources/<doc>/<n>/ for
footnote n of document <doc> (raw file, text.txt, provenance.json).

The one-paper layout of earlier versions (corpus/sources/manifest.json naming its paper, and
corpus/sources/<n>/) is still read for that paper, and `migrate()` moves it into place."""

from __future__ import annotations

import json
import os
from pathlib import Path

LEGACY_MANIFEST = "manifest.json"


def sources_root(corpus_dir: Path) -> Path:
    return corpus_dir / "sources"


def document_dir(corpus_dir: Path, doc: str) -> Path:
    return sources_root(corpus_dir) / doc


def source_dir(corpus_dir: Path, doc: str, n: int) -> Path:
    """Where footnote n's source of document `doc` is written."""
    return document_dir(corpus_dir, doc) / str(n)


def legacy_owner(corpus_dir: Path) -> str | None:
    """The paper the one-paper layout belongs to (its manifest says), if that layout is still there."""
    path = sources_root(corpus_dir) / LEGACY_MANIFEST
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("paper") or "") or None
    except (OSError, ValueError, AttributeError):
        return None


def existing_source_dir(corpus_dir: Path, doc: str, n: int) -> Path:
    """Where to read footnote n's source: the per-document folder, else the one-paper layout's for its paper."""
    new = source_dir(corpus_dir, doc, n)
    if new.exists():
        return new
    old = sources_root(corpus_dir) / str(n)
    if old.exists() and legacy_owner(corpus_dir) == doc:
        return old
    return new


def migrate(corpus_dir: Path) -> list[str]:
    """Move the one-paper layout under its paper's folder; what moved, for the user (nothing on a second run).
    A folder already present in the new layout wins and the old one is left for the user to check."""
    root = sources_root(corpus_dir)
    doc = legacy_owner(corpus_dir)
    if doc is None:
        return []
    target = document_dir(corpus_dir, doc)
    target.mkdir(parents=True, exist_ok=True)
    moved = []
    for d in sorted(
        (p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    ):
        if not (target / d.name).exists():
            os.replace(d, target / d.name)
            moved.append(f"sources/{d.name}/ -> sources/{doc}/{d.name}/")
    if not (target / LEGACY_MANIFEST).exists():
        os.replace(root / LEGACY_MANIFEST, target / LEGACY_MANIFEST)
        moved.append(f"sources/{LEGACY_MANIFEST} -> sources/{doc}/{LEGACY_MANIFEST}")
    return moved
