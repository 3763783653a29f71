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
from qa_service.engine import Citation, DocumentInfo

router = APIRouter(tags=["citations"], responses=ERRORS)
DocId = Annotated[str, Path(max_length=64, description="A document id from GET /documents.")]
Number = Annotated[int, Path(ge=1, le=100_000, description="The footnote number within the document.")]


@router.get("/documents", response_model=list[DocumentInfo])
async def documents(engine: EngineDep) -> list[DocumentInfo]:
    """The documents served: papers (the primary one first) and the fetched sources of their footnotes."""
    return engine.documents()


@router.get("/documents/{doc}/footnotes", response_model=list[Footnote])
async def document_footnotes(doc: DocId, engine: EngineDep) -> list[Footnote]:
    """All references of one document, in order."""
    return engine.footnotes(doc)


@router.get("/documents/{doc}/citations/{n}", response_model=Citation)
async def document_citation(doc: DocId, n: Number, engine: EngineDep) -> Citation:
    """What footnote n of document `doc` cites, the sentences that carry its marker (and those it covers),
    and, once its source is fetched, the quotation checks and the source's supporting passages."""
    return engine.cite(n, doc)


@router.get("/citations/{n}", response_model=Citation)
async def citation(n: Number, engine: EngineDep) -> Citation:
    """Footnote n of the primary document (the first in the manifest): see /documents/{doc}/citations/{n}."""
    return engine.cite(n)


@router.get("/footnotes", response_model=list[Footnote])
async def footnotes(engine: EngineDep) -> list[Footnote]:
    """All references of the primary document (the first in the manifest), in order."""
    return engine.footnotes()


@router.get("/passages/{passage_id}", response_model=PassageDetail)
async def passage(passage_id: Annotated[str, Path(max_length=200)], engine: EngineDep) -> PassageDetail:
    """One passage with its sentences and their footnotes."""
    return to_detail(engine.passage(passage_id))


@router.post("/search", response_model=list[Passage])
async def search(body: SearchRequest, request: Request, engine: EngineDep) -> list[Passage]:
    """Ranked passages for a query (hybrid retrieval by default)."""
    hits = await run_engine(request, engine.search, body.query, body.k, body.mode, body.documents)
    return [to_passage(h) for h in hits]
