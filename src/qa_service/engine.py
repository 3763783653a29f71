"""Wiring: ingest(), and Engine with ask(), search(), cite(), footnotes(), passage(). The CLI and the API
call these and nothing deeper."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from qa_service.answer import (
    IDF,
    OVERVIEW_SECTIONS,
    Answer,
    asks_about_paper,
    asks_about_sources,
    asks_for_overview,
    compose_answer,
)
from qa_service.config import Settings
from qa_service.converse import Message, expand_query, resolve
from qa_service.corpus import load_corpus
from qa_service.embed import Embedder
from qa_service.errors import IndexMissing, InvalidInput, NotFound, QAServiceError
from qa_service.index import IngestReport, LoadedIndex, ingest, lexical_text, load_index, read_state
from qa_service.models import Chunk, Hit, Paper, Reference
from qa_service.retrieve import Mode, Retriever
from qa_service.store import VectorStore

_FOOTNOTE_RE = re.compile(r"\b(?:foot)?notes?\s*(?:no\.?|number|#)?\s*(\d{1,3})\b", re.I)


class CitingSentence(BaseModel):
    id: str
    text: str
    section: str | None
    carries: bool = Field(
        description="True when the sentence carries the marker; False when it is covered by it."
    )


class Citation(Reference):
    """A reference with the sentences that cite it and, once fetched, what its source says."""

    cited_by: list[CitingSentence] = Field(
        description="Sentences of the paper that carry marker n, and the unmarked ones before them in the same "
        "paragraph that the marker covers (carries=false), in reading order."
    )
    source: dict[str, Any] | None = None


def run_ingest(
    settings: Settings,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
) -> IngestReport:
    from qa_service.sources.documents import source_papers

    papers = load_corpus(settings.corpus_dir)
    papers += source_papers(settings, papers)
    return ingest(
        papers,
        settings,
        embedder or Embedder(settings.index.model_path),
        store or VectorStore(settings.data_dir, settings.chroma_host, settings.chroma_port),
        rebuild=rebuild,
    )


def describe_reference(ref: Reference) -> str:
    """A short description of a reference: author, title, date; else its text."""
    if not ref.title:
        return ref.text
    parts = [p for p in (ref.author, f"“{ref.title}”", ref.date) if p]
    return ", ".join(parts) + "."


class Engine:
    """Loaded once per process and shared by all requests (read-only after load)."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None
    ):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.index.model_path)
        self.store = store or VectorStore(settings.data_dir, settings.chroma_host, settings.chroma_port)
        self._lock = threading.Lock()
        self._index: LoadedIndex | None = None
        self._retriever: Retriever | None = None
        self._idf: IDF | None = None
        self._describe: dict[int, str] = {}
        self._references: dict[int, Chunk] = {}

    @classmethod
    def open(cls, settings: Settings, ingest_if_missing: bool = False, **kw: object) -> Engine:
        engine = cls(settings, **kw)  # type: ignore[arg-type]
        if ingest_if_missing:
            run_ingest(settings, embedder=engine.embedder, store=engine.store)
        engine.load()
        return engine

    def load(self) -> None:
        index = load_index(self.settings, self.embedder.name)
        paper = next(p for p in index.papers if p.kind == "paper")
        references = {
            c.sentences[0].covered_by[0]: c
            for c in index.chunks
            if c.doc_id == paper.doc_id
            and c.kind == "reference"
            and c.sentences
            and c.sentences[0].covered_by
        }
        with self._lock:
            self._references = (
                references  # footnote number -> its reference-list passage, looked up per request
            )
            self._describe = {r.number: describe_reference(r) for r in paper.references}
            self._index = index
            self._retriever = Retriever(index, self.store, self.embedder, self.settings.retrieval)
            self._idf = IDF(
                [lexical_text(c) for c in index.chunks], [c.kind == "reference" for c in index.chunks]
            )
        self.embedder.encode_query("warm-up")  # load the model now, not on the first request

    @property
    def index(self) -> LoadedIndex:
        if self._index is None:
            raise IndexMissing("the index is not loaded: run `qa-service ingest`")
        return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            raise IndexMissing("the index is not loaded: run `qa-service ingest`")
        return self._retriever

    @property
    def paper(self) -> Paper:
        return next(p for p in self.index.papers if p.kind == "paper")

    # ------------------------------------------------------------------ queries

    def ready(self) -> tuple[bool, str]:
        try:
            state = read_state(self.settings.data_dir)
            if self._index is None or state is None:
                return False, "index not loaded"
            if not self.store.heartbeat():
                return False, f"vector store unavailable ({self.store.mode})"
            self.store.count(self.index.state.collection)
            return True, f"generation {self.index.state.generation}, {len(self.index.chunks)} passages"
        except QAServiceError as exc:
            return False, exc.message

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        return self.retriever.retrieve(query, k, mode)

    def ask(self, messages: Sequence[Message], k: int | None = None, mode: Mode = "hybrid") -> Answer:
        limits = self.settings.server
        if len(messages) > limits.max_messages:
            raise InvalidInput(f"{len(messages)} messages; the limit is {limits.max_messages}")
        for m in messages:
            if len(m.content) > limits.max_question_chars:
                raise InvalidInput(
                    f"a message is {len(m.content)} characters; the limit is {limits.max_question_chars}"
                )
        standalone = resolve(messages)
        question = " ".join(messages[-1].content.split())
        k = self.settings.retrieval.final_k if k is None else k
        assert self._idf is not None
        about_sources = asks_about_sources(standalone) or self._idf.names_a_reference(standalone)
        query = expand_query(standalone)
        hits = self.retriever.retrieve(query, k, mode, references=about_sources)
        if about_sources:  # the references the best passages cite come right after them
            hits = self._with_references(hits, k)
        pinned = [c for n in _FOOTNOTE_RE.findall(standalone) for c in [self._reference_chunk(int(n))] if c]
        if asks_about_paper(standalone):  # "Who wrote the paper?": the title page and credits answer it
            pinned += [
                c
                for c in self.index.chunks
                if c.doc_id == self.paper.doc_id and c.section_kind == "front" and c.kind == "front"
            ]
        overview = asks_for_overview(standalone)
        if (
            overview
        ):  # "the paper's main conclusion": the first passages of its Conclusion (or Objective) section
            titles = OVERVIEW_SECTIONS[overview]
            pinned += [
                c
                for c in self.index.chunks
                if c.doc_id == self.paper.doc_id
                and c.kind == "paragraph"
                and (c.section or "").lower() in titles
            ][:2]
        if pinned:  # a question that names "footnote N" gets reference N as its first passage
            ids = {c.id for c in pinned}
            hits = ([Hit(chunk=c, score=1.0) for c in pinned] + [h for h in hits if h.chunk.id not in ids])[
                : max(k, len(pinned))
            ]
        qvec = self.retriever.embed(self.retriever.validate(query, k))
        assert self._idf is not None
        return compose_answer(
            question,
            query,
            qvec,
            hits,
            self.index,
            self._idf,
            self.settings.answer,
            pinned=frozenset(c.id for c in pinned),
            describe=self._describe,
            about_sources=about_sources,
        )

    def _with_references(self, hits: list[Hit], k: int, top: int = 2) -> list[Hit]:
        out: list[Hit] = []
        seen: set[str] = set()
        for i, h in enumerate(hits):
            if h.chunk.id not in seen:
                out.append(h)
                seen.add(h.chunk.id)
            if i < top and h.chunk.kind != "reference":
                for n in h.chunk.footnotes:
                    ref = self._reference_chunk(n)
                    if ref is not None and ref.id not in seen:
                        out.append(Hit(chunk=ref, score=h.score))
                        seen.add(ref.id)
        return out[:k]

    def _reference_chunk(self, n: int) -> Chunk | None:
        return self._references.get(n)

    def passage(self, passage_id: str) -> Chunk:
        i = self.index.by_id.get(passage_id)
        if i is None:
            raise NotFound(f"no passage with id '{passage_id}'")
        return self.index.chunks[i]

    def footnotes(self) -> list[Reference]:
        return list(self.paper.references)

    def reference(self, n: int) -> Reference:
        if n < 1:
            raise InvalidInput(f"footnote numbers start at 1, got {n}")
        ref = self.paper.reference(n)
        if ref is None:
            raise NotFound(
                f"footnote {n} does not exist: the paper has footnotes 1-{len(self.paper.references)}"
            )
        return ref

    def cite(self, n: int) -> Citation:
        ref = self.reference(n)
        cited = [
            CitingSentence(id=s.id, text=s.text, section=sec.title, carries=n in s.footnotes)
            for sec, _block, s in self.paper.sentences()
            if sec.kind == "body" and (n in s.footnotes or n in s.covered_by)
        ]
        from qa_service.sources.verify import source_support

        support = source_support(self.settings, self, ref, cited)
        return Citation(**ref.model_dump(exclude={"url"}), cited_by=cited, source=support)
