"""POST /v1/chat/completions and GET /v1/models, compatible with the OpenAI chat API, so existing chat clients
(and the `openai` package) can use the service. Citations come in the content as markdown."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from api.deps import EngineDep, GeneratorDep, answer
from api.schemas import ERRORS, MAX_CONTENT, AnswerMode, ChatResponse
from qa_service.errors import InvalidInput
from qa_service.models import Message

router = APIRouter(prefix="/v1", tags=["openai"], responses=ERRORS)
MODEL = "qa-service"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = Field(None, max_length=MAX_CONTENT)


class OAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = Field(None)


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[OAIMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    mode: AnswerMode | None = Field(None, description="extractive or generate (default from settings).")


def short_title(title: str, words: int = 4) -> str:
    """A title's first words, up to a colon: 'Rivers Without Borders: Drought Diplomacy in the Lower Mekong' ->
    'Rivers Without Borders'."""
    head = title.split(":")[0].split()
    return " ".join(head[:words]) + ("…" if len(head) > words else "")


def _text(m: OAIMessage) -> str:
    if isinstance(m.content, str):
        return m.content
    return " ".join(p.text or "" for p in m.content or [] if p.type == "text")


def to_markdown(r: ChatResponse, titles: dict[str, str] | None = None) -> str:
    """The answer as markdown. `titles`: short titles of the documents, given when the corpus has several
    papers, so a footnote says whose it is ("footnote 6 of *Rivers Without Borders*")."""
    titles = titles or {}

    def whose(doc: str) -> str:
        return f" of *{titles[doc]}*" if doc in titles else ""

    lines = [r.answer]
    if not r.abstained:
        used = sorted({c.marker for c in r.citations})
        lines += ["", "**Passages**"]
        for i in used:
            p = r.passages[i - 1]
            page = f", p. {p.page}" if p.page else ""
            fn = (
                f" (footnotes {', '.join(map(str, p.footnotes))}{whose(p.footnote_document)})"
                if p.footnotes
                else ""
            )
            lines.append(f"[{i}] *{p.section or p.document}*{page}{fn}: {p.text}")
        if r.footnotes:
            lines += ["", "**Footnotes cited**"]
            for f in r.footnotes:
                label = f"{f.number}{whose(f.document)}"
                lines.append(
                    f"- [^{f.document}-{f.number}] footnote {label}: {f.text}"
                    if titles
                    else f"- [^{f.number}] {f.text}"
                )
        if r.reason:  # generate mode sent the extractive answer: say why
            lines += ["", f"*{r.reason}*"]
    return "\n".join(lines)


@router.get("/models")
async def models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "qa-service"}],
    }


@router.post(
    "/chat/completions",
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"}},
)
async def completions(
    body: CompletionRequest, request: Request, engine: EngineDep, generator: GeneratorDep
) -> Any:
    messages = [
        Message(role=m.role, content=_text(m)) for m in body.messages if m.role in ("user", "assistant")
    ]
    if not messages:
        raise InvalidInput("messages holds no user message")
    papers = [d for d in engine.documents() if d.kind == "paper"]
    titles = {d.id: short_title(d.title or d.id) for d in papers} if len(papers) > 1 else None
    content = to_markdown(await answer(request, engine, generator, messages, mode=body.mode), titles)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    usage = {
        "prompt_tokens": sum(len(m.content.split()) for m in messages),
        "completion_tokens": len(content.split()),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if not body.stream:
        return {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": usage,
        }

    async def chunks() -> AsyncIterator[dict[str, str]]:
        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, str]:
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            return {"data": json.dumps(data, ensure_ascii=False)}

        yield chunk({"role": "assistant", "content": ""}, None)
        for line in content.splitlines(keepends=True):
            yield chunk({"content": line}, None)
        yield chunk({}, "stop")
        yield {"data": "[DONE]"}

    return EventSourceResponse(chunks(), sep="\n")
