from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import EngineDep, run_engine
from api.schemas import ERRORS, ChatRequest, ChatResponse, to_chat
from qa_service.models import Message

router = APIRouter(tags=["chat"], responses=ERRORS)


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"}},
)
async def chat(body: ChatRequest, request: Request, engine: EngineDep) -> ChatResponse | StreamingResponse:
    """Answer the last user message, in the context of the earlier ones. Every sentence of the answer ends
    with [n], the passage it comes from; `footnotes` are the references those sentences cite, each with its
    `document`. When the documents don't say, `abstained` is true, `reason` says why, and `passages` are the
    nearest ones."""
    messages = [Message(role=m.role, content=m.content) for m in body.messages]
    answer = await run_engine(request, engine.ask, messages, body.k, documents=body.documents)
    response = to_chat(answer, engine)
    if not body.stream:
        return response
    return StreamingResponse(_events(response), media_type="text/event-stream")


async def _events(response: ChatResponse) -> AsyncIterator[str]:
    yield _sse("passages", {"passages": [p.model_dump() for p in response.passages]})
    for c in response.citations or []:
        yield _sse("delta", {"text": f"{c.text} [{c.marker}] "})
    if response.abstained:
        yield _sse("delta", {"text": response.answer})
    yield _sse("final", response.model_dump())


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
