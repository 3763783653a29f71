"""Wire models for HTTP: the shapes and builders live in qa_service.schemas (shared with the CLI and MCP);
this module adds what only HTTP has (error responses by status code)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from qa_service.schemas import (
    MAX_CONTENT,
    AnswerCitation,
    AnswerMode,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Citation,
    Footnote,
    Health,
    Passage,
    PassageDetail,
    Ready,
    SearchRequest,
    to_chat,
    to_detail,
    to_passage,
)

__all__ = [
    "ERRORS",
    "MAX_CONTENT",
    "AnswerCitation",
    "AnswerMode",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "Error",
    "Footnote",
    "Health",
    "Passage",
    "PassageDetail",
    "Ready",
    "SearchRequest",
    "to_chat",
    "to_detail",
    "to_passage",
]


class Error(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="What was wrong.")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": Error,
        "description": "The server requires an API key and the request has none or a wrong one "
        "(send `Authorization: Bearer <key>`).",
    },
    404: {"model": Error, "description": "No such footnote or passage."},
    413: {"model": Error, "description": "Request body over the size limit."},
    422: {"model": Error, "description": "Invalid input: the detail says what was wrong."},
    503: {"model": Error, "description": "No index yet, or the vector store is unavailable."},
    504: {"model": Error, "description": "The request ran past the time limit."},
}
