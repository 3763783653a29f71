from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.deps import EngineDep, run_engine
from api.schemas import (
    ERRORS,
    Footnote,
    Passage,
    PassageDetail,
    SearchRequest,
    to_detail,
    to_passage,
)
from qa_service.engine import Citation

router = APIRouter(tags=["citations"], responses=ERRORS)


@router.get("/citations/{n}", response_model=Citation)
async def citation(n: Annotated[int, Path(ge=1, le=100_000)], engine: EngineDep) -> Citation:
    """What footnote n cites, the sentences of the paper that carry its marker (and those it covers), and,
    once its source is fetched, the quotation checks and the source's supporting passages."""
    return engine.cite(n)


@router.get("/footnotes", response_model=list[Footnote])
async def footnotes(engine: EngineDep) -> list[Footnote]:
    """All references of the paper, in order."""
    return engine.footnotes()


@router.get("/passages/{passage_id}", response_model=PassageDetail)
async def passage(passage_id: Annotated[str, Path(max_length=200)], engine: EngineDep) -> PassageDetail:
    """One passage with its sentences and their footnotes."""
    return to_detail(engine.passage(passage_id))


@router.post("/search", response_model=list[Passage])
async def search(body: SearchRequest, request: Request, engine: EngineDep) -> list[Passage]:
    """Ranked passages for a query (hybrid retrieval by default)."""
    hits = await run_engine(request, engine.search, body.query, body.k, body.mode)
    return [to_passage(h) for h in hits]
