from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

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
DocId = Annotated[str, Path(max_length=200, description="A document id from GET /documents.")]
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


class ContextSentence(BaseModel):
    id: str
    text: str
    footnotes: list[int] = Field(description="Footnote markers the sentence carries.")


class ContextParagraph(BaseModel):
    block_id: str
    section: str | None
    page: int | None = Field(None, description="Page, for sources extracted page by page.")
    kind: str
    current: bool = Field(description="True for the paragraph that holds the passage.")
    text: str
    sentences: list[ContextSentence]


class PassageContext(BaseModel):
    passage_id: str
    document: str
    footnote_document: str = Field(description="The document whose footnotes the sentences' numbers are.")
    paragraphs: list[ContextParagraph] = Field(
        description="The passage's paragraph and its neighbours, in order."
    )


@router.get("/passages/{passage_id}/context", response_model=PassageContext)
async def passage_context(
    passage_id: Annotated[str, Path(max_length=200)],
    engine: EngineDep,
    before: Annotated[int, Query(ge=0, le=20, description="Paragraphs before the passage's.")] = 3,
    after: Annotated[int, Query(ge=0, le=20, description="Paragraphs after the passage's.")] = 3,
) -> PassageContext:
    """The passage's paragraph with the paragraphs around it in its document (reading order): what the web
    page shows for "open in paper"."""
    chunk = engine.passage(passage_id)
    paper = engine.document(chunk.doc_id)
    blocks = [(sec, b) for sec in paper.sections for b in sec.blocks if b.kind not in ("toc", "heading")]
    at = next((i for i, (_, b) in enumerate(blocks) if b.id == chunk.block_id), None)
    window = blocks[max(0, at - before) : at + after + 1] if at is not None else []
    paragraphs = [
        ContextParagraph(
            block_id=b.id,
            section=sec.title,
            page=sec.page,
            kind=b.kind,
            current=b.id == chunk.block_id,
            text=b.text,
            sentences=[ContextSentence(id=s.id, text=s.text, footnotes=s.footnotes) for s in b.sentences],
        )
        for sec, b in window
    ]
    if not paragraphs:  # a passage whose paragraph is not in the parsed document: the passage alone
        paragraphs = [
            ContextParagraph(
                block_id=chunk.block_id,
                section=chunk.section,
                page=chunk.page,
                kind=chunk.kind,
                current=True,
                text=chunk.text,
                sentences=[
                    ContextSentence(id=s.id, text=s.text, footnotes=s.footnotes) for s in chunk.sentences
                ],
            )
        ]
    return PassageContext(
        passage_id=chunk.id, document=chunk.doc_id, footnote_document=chunk.notes_doc, paragraphs=paragraphs
    )


@router.post("/search", response_model=list[Passage])
async def search(body: SearchRequest, request: Request, engine: EngineDep) -> list[Passage]:
    """Ranked passages for a query (hybrid retrieval by default)."""
    hits = await run_engine(request, engine.search, body.query, body.k, body.mode, body.documents)
    return [to_passage(h) for h in hits]
