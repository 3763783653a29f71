"""Fetched sources as corpus documents (one Paper per source, one section per page)."""

from __future__ import annotations

from qa_service.config import Settings
from qa_service.models import Paper


def source_papers(settings: Settings, papers: list[Paper]) -> list[Paper]:
    return []
