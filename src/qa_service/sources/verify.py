"""Claim support: quotation checks and supporting passages of a footnote's source."""

from __future__ import annotations

from typing import Any

from qa_service.config import Settings
from qa_service.models import Reference


def source_support(settings: Settings, engine: Any, ref: Reference, cited: list[Any]) -> dict[str, object] | None:
    return None
