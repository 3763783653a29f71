from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from api.deps import BUILD_HEADER, EngineDep, GeneratorDep, answer
from api.schemas import ERRORS, ChatRequest, ChatResponse
from qa_service.models import Message

router = APIRouter(tags=["chat"], responses=ERRORS)


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"}},
)
async def chat(
    body: ChatRequest, request: Request, engine: EngineDep, generator: GeneratorDep
) -> ChatResponse | EventSourceResponse:
    """Answer the last user message, in the context of the earlier ones. Every sentence of the answer ends
    with [n], the passage it comes from; `footnotes` are the references the sentences that answer cite (not
    those of a citation marked `context`, shown only for context), each with its `document`. When the documents don't say, `abstained` is true, `reason` says why, and `passages` are the
    nearest ones. With `"mode": "generate"` (and an LLM configured) the answer is the LLM's prose from the
    numbered evidence; only sentences whose citations pass the checks are kept, the others are listed in
    `unsupported`."""
    messages = [Message(role=m.role, content=m.content) for m in body.messages]
    response = await answer(request, engine, generator, messages, body.k, body.mode, body.documents)
    if not body.stream:
        return response
    headers = {BUILD_HEADER: engine.index.state.build}
    return EventSourceResponse(_events(response), sep="\n", headers=headers)


async def _events(response: ChatResponse) -> AsyncIterator[dict[str, str]]:
    yield _sse("passages", {"passages": [p.model_dump() for p in response.passages]})
    if response.mode == "generate":  # only sentences that passed the checks are ever sent
        for g in response.generated:
            markers = dict.fromkeys(response.evidence[n - 1].marker for n in g.evidence)
            yield _sse("delta", {"text": g.text + " " + "".join(f"[{m}]" for m in markers) + " "})
    else:
        for c in response.citations:
            yield _sse("delta", {"text": f"{c.text} [{c.marker}] "})
    if response.abstained:
        yield _sse("delta", {"text": response.answer})
    yield _sse("final", response.model_dump())


def _sse(event: str, data: object) -> dict[str, str]:
    """One event, framed by EventSourceResponse (with its separator, "\n")."""
    return {"event": event, "data": json.dumps(data, ensure_ascii=False)}
