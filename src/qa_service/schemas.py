"""The response shapes every front door sends (HTTP, CLI --json, MCP, the evaluation), and the functions
that build them from the engine's models. Pydantic only: no web framework here.

One builder per shape (to_passage, to_chat, to_detail), so a field added to a response is added once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa_service.answer import Answer
from qa_service.engine import Citation, CitingSentence, DocumentInfo
from qa_service.generate import (
    AnswerMode,
    EvidenceSentence,
    GeneratedSentence,
    Generation,
    UnsupportedSentence,
)
from qa_service.models import Chunk, Hit, Reference

if TYPE_CHECKING:
    from qa_service.engine import Engine

__all__ = [
    "MAX_CONTENT",
    "AnswerCitation",
    "AnswerMode",
    "AskRequest",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "CiteRequest",
    "CitingSentence",
    "Content",
    "DocumentInfo",
    "DocumentList",
    "DocumentsRequest",
    "ErrorResult",
    "EvidenceSentence",
    "Footnote",
    "FootnoteNumber",
    "GeneratedSentence",
    "Health",
    "K",
    "Passage",
    "PassageDetail",
    "PassageId",
    "PassageRequest",
    "Query",
    "Ready",
    "SearchRequest",
    "SearchResponse",
    "UnsupportedSentence",
    "to_chat",
    "to_detail",
    "to_documents",
    "to_passage",
    "validation_detail",
]

MAX_CONTENT = 100_000  # hard schema cap; the configurable limit (server.max_question_chars) is enforced too
SearchMode = Literal["hybrid", "dense", "lexical", "sentence", "dense+lexical"]
# Argument types shared by the HTTP request bodies and the MCP tools: one set of rules, one set of errors.
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT, pattern=r"\S")]
K = Annotated[int, Field(ge=1, le=50, description="Passages to return.")]
Query = Annotated[str, Field(max_length=MAX_CONTENT)]
FootnoteNumber = Annotated[int, Field(ge=1, le=100_000, description="A footnote number (from 1).")]
PassageId = Annotated[str, Field(max_length=200, description="A passage id, as in `passages[].id`.")]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: Content


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    k: K | None = Field(None, description="Passages to return (default from settings).")
    documents: list[str] | None = Field(
        None,
        max_length=100,
        description="Answer only from these documents (ids from GET /documents) and the sources they cite.",
    )
    mode: AnswerMode | None = Field(
        None,
        description="extractive: the documents' own sentences; generate: written by the configured LLM from "
        "the numbered evidence, each sentence checked against what it cites (default from settings).",
    )


class Passage(BaseModel):
    id: str
    text: str
    section: str | None
    source: str
    footnotes: list[int]
    score: float
    kind: str
    page: int | None = None
    document: str
    footnote_document: str = Field(
        description="The document whose footnotes `footnotes` are (a fetched source's are its citing paper's)."
    )


Footnote = Reference  # number, document, text, url (the first of urls), urls, title, author, date


class AnswerCitation(BaseModel):
    marker: int
    passage_id: str
    sentence_id: str
    text: str
    document: str
    footnote_document: str
    footnotes: list[int]
    page: int | None = Field(None, description="The page of the document the sentence is on, when known.")
    context: bool = Field(
        False,
        description="Shown only for context (what a pronoun points back to, a weaker neighbour): the answer's "
        "`footnotes` are not cited on its account.",
    )


class ChatResponse(BaseModel):
    answer: str
    abstained: bool
    reason: str | None = Field(
        description="Why it abstained, in a sentence (None when it answered); the "
        "passages are then the nearest ones, not evidence. In generate mode, when the extractive answer was "
        "sent instead of the LLM's, why."
    )
    confidence: float = Field(description="The probability that the answer is right (decide.py), trained on other writers; its reliability per band is in eval/reports/latest.md.")
    kind: str = Field("", description="The question's kind as analysed (when, who, why, which_source, ...).")
    question: str
    standalone_question: str
    passages: list[Passage]
    footnotes: list[Footnote]
    citations: list[AnswerCitation] = Field(
        description="The document sentences the answer cites (in generate mode: the evidence its sentences cite)."
    )
    mode: AnswerMode = Field(
        "extractive", description="What `answer` is: extractive, or generated and checked."
    )
    evidence: list[EvidenceSentence] = Field(
        default_factory=list, description="generate mode: the numbered evidence the LLM was given."
    )
    generated: list[GeneratedSentence] = Field(
        default_factory=list, description="generate mode: the LLM's sentences that passed the checks."
    )
    unsupported: list[UnsupportedSentence] = Field(
        default_factory=list, description="generate mode: the LLM's sentences that failed a check, with why."
    )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Query
    k: K = 5
    mode: SearchMode = "hybrid"
    documents: list[str] | None = Field(
        None, max_length=100, description="Only these documents (ids from GET /documents) and their sources."
    )


class SearchResponse(BaseModel):
    passages: list[Passage] = Field(description="Ranked passages, as POST /search returns them.")


class AskRequest(BaseModel):
    """The MCP `ask` tool's arguments: a question and the turns before it."""

    model_config = ConfigDict(extra="forbid")
    question: Content
    history: list[ChatMessage] = Field(default_factory=list, max_length=999)
    mode: AnswerMode | None = None
    k: K | None = None
    documents: list[str] | None = Field(None, max_length=100)

    def chat_request(self) -> ChatRequest:
        user = ChatMessage(role="user", content=self.question)
        return ChatRequest(messages=[*self.history, user], k=self.k, mode=self.mode, documents=self.documents)


class CiteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: FootnoteNumber
    document: str | None = Field(
        None, max_length=64, description="Whose footnote: a document id (default: the primary document)."
    )


class PassageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: PassageId


class DocumentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class ErrorResult(BaseModel):
    """A failed call, as HTTP would answer it: the status code and the same `detail`."""

    status: int
    detail: str | list[dict[str, Any]]


class PassageDetail(Passage):
    sentences: list[dict[str, Any]]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    detail: str


def to_passage(hit_or_chunk: Hit | Chunk, score: float | None = None) -> Passage:
    chunk = hit_or_chunk.chunk if isinstance(hit_or_chunk, Hit) else hit_or_chunk
    s = hit_or_chunk.score if isinstance(hit_or_chunk, Hit) else (score or 0.0)
    return Passage(
        id=chunk.id,
        text=chunk.text,
        section=chunk.section,
        source=chunk.source,
        footnotes=chunk.footnotes,
        score=s,
        kind=chunk.kind,
        page=chunk.page,
        document=chunk.doc_id,
        footnote_document=chunk.notes_doc,
    )


def to_chat(answer: Answer, engine: Engine, generation: Generation | None = None) -> ChatResponse:
    gen = generation or Generation(mode="extractive")
    return ChatResponse(
        answer=answer.answer,
        abstained=answer.abstained,
        reason=answer.reason,
        confidence=answer.confidence,
        kind=answer.kind,
        question=answer.question,
        standalone_question=answer.standalone_question,
        passages=[to_passage(h) for h in answer.passages],
        footnotes=[engine.reference(f.number, f.document) for f in answer.footnotes],
        citations=[
            AnswerCitation(
                marker=s.marker,
                passage_id=s.passage_id,
                sentence_id=s.sentence_id,
                text=s.text,
                document=s.document,
                footnote_document=s.footnote_doc,
                footnotes=s.footnotes,
                page=s.page,
                context=s.context,
            )
            for s in answer.sentences
        ],
        mode=gen.mode,
        evidence=gen.evidence,
        generated=gen.sentences,
        unsupported=gen.unsupported,
    )


def to_documents(engine: Engine) -> DocumentList:
    return DocumentList(documents=engine.documents())


def validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as HTTP's 422 `detail` lists them (loc, msg, type)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def to_detail(chunk: Chunk) -> PassageDetail:
    return PassageDetail(
        **to_passage(chunk).model_dump(), sentences=[s.model_dump() for s in chunk.sentences]
    )
