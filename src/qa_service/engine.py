"""Wiring: ingest(), and Engine with ask(), search(), cite(), footnotes(), passage(). The CLI and the API
call these and nothing deeper."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from qa_service.answer import Answer, compose_answer
from qa_service.config import Settings
from qa_service.corpus import load_corpus
from qa_service.embed import Embedder
from qa_service.errors import IndexMissing, InvalidInput, NotFound, QAServiceError
from qa_service.index import IngestReport, LoadedIndex, ingest, lexical_text, load_index, read_state
from qa_service.lexical import Expander, TermStats
from qa_service.models import Chunk, FootnoteRef, Hit, Message, Paper, Reference
from qa_service.question import Question, Vocabulary, analyse
from qa_service.retrieve import Mode, Retriever
from qa_service.selection import Selector
from qa_service.store import VectorStore


class CitingSentence(BaseModel):
    id: str
    text: str
    section: str | None
    carries: bool = Field(
        description="True when the sentence carries the marker; False when it is covered by it."
    )


class DocumentInfo(BaseModel):
    id: str
    kind: str = Field(description="'paper', or 'source' for a fetched source of a paper's footnote.")
    title: str
    subtitle: str = ""
    author: str = ""
    publisher: str = ""
    date: str = ""
    cites_document: str = Field("", description="For a source: the paper whose footnote points to it.")
    primary: bool = Field(
        False, description="The first paper of the manifest: what /footnotes and /citations/{n} answer for."
    )
    sections: int
    passages: int
    sentences: int
    footnotes: int


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
        from threadpoolctl import threadpool_limits

        threadpool_limits(settings.index.blas_threads, user_api="blas")  # process-wide: see the setting
        self.embedder = embedder or Embedder(settings.index.model_path)
        self.store = store or VectorStore(settings.data_dir, settings.chroma_host, settings.chroma_port)
        self.selector = Selector()
        self._lock = threading.Lock()
        self._index: LoadedIndex | None = None
        self._retriever: Retriever | None = None
        self._stats: TermStats | None = None
        self._vocabulary = Vocabulary()
        self._describe: dict[FootnoteRef, str] = {}
        self._expander: Expander | None = None
        self._word_vectors: dict[str, np.ndarray] = {}  # corpus words embedded once, kept across reloads
        self._references: dict[FootnoteRef, Chunk] = {}

    @classmethod
    def open(cls, settings: Settings, ingest_if_missing: bool = False, **kw: object) -> Engine:
        engine = cls(settings, **kw)  # type: ignore[arg-type]
        if ingest_if_missing:
            run_ingest(settings, embedder=engine.embedder, store=engine.store)
        engine.load()
        return engine

    def load(self, check_selector: bool = True) -> None:
        """Load the served index. `check_selector=False` skips validating the sentence-selection weights (the
        training script loads an engine to compute the very features those weights are fitted on)."""
        index = load_index(self.settings, self.embedder.name)
        references = {  # (document, footnote) -> its reference-list passage, looked up per request
            FootnoteRef(document=c.doc_id, number=c.sentences[0].covered_by[0]): c
            for c in index.chunks
            if c.kind == "reference" and c.sentences and c.sentences[0].covered_by
        }
        expander = self._build_expander(index) if self.settings.retrieval.expand else None
        vocab_file = self.settings.corpus_dir / "vocabulary.toml"
        vocabulary = Vocabulary.load(vocab_file) if self.settings.answer.vocabulary else Vocabulary()
        with self._lock:
            self._references = references
            self._describe = {
                FootnoteRef(document=p.doc_id, number=r.number): describe_reference(r)
                for p in index.papers
                for r in p.references
            }
            self._index = index
            self._stats = TermStats(
                [lexical_text(c) for c in index.chunks], [c.kind == "reference" for c in index.chunks]
            )
            self._retriever = Retriever(
                index, self.store, self.embedder, self.settings.retrieval, self._stats
            )
            self._vocabulary = vocabulary
            self._expander = expander
        if check_selector:  # a stale or missing weights file fails now, not on the first request
            _ = self.selector.sentence, self.selector.answerable
        self.embedder.encode_query("warm-up")  # load the model now, not on the first request

    def _build_expander(self, index: LoadedIndex) -> Expander:
        cfg = self.settings.retrieval
        vocabulary = Expander.corpus_words(c.text for c in index.chunks)
        new = [w for w in vocabulary if w not in self._word_vectors]
        if new:
            self._word_vectors.update(zip(new, self.embedder.encode(new, batch_size=256), strict=True))
        dim = self.embedder.dimension
        vectors = np.vstack([self._word_vectors[w] for w in vocabulary]) if vocabulary else np.zeros((0, dim))
        return Expander(
            vocabulary,
            vectors,
            lambda ws: self.embedder.encode(ws, batch_size=max(len(ws), 1)),
            cfg.expand_min_similarity,
            cfg.expand_per_word,
            cfg.expand_cache_words,
        )

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
    def expander(self) -> Expander | None:
        """Reader's words -> the corpus's (None when `retrieval.expand` is off)."""
        return self._expander

    @property
    def stats(self) -> TermStats:
        if self._stats is None:
            raise IndexMissing("the index is not loaded: run `qa-service ingest`")
        return self._stats

    @property
    def paper(self) -> Paper:
        """The primary document: the first paper of the manifest."""
        return next(p for p in self.index.papers if p.kind == "paper")

    def document(self, doc_id: str | None = None) -> Paper:
        if doc_id is None:
            return self.paper
        for p in self.index.papers:
            if p.doc_id == doc_id:
                return p
        known = ", ".join(p.doc_id for p in self.index.papers if p.kind == "paper")
        raise NotFound(f"no document '{doc_id}'; the documents are: {known}")

    def documents(self) -> list[DocumentInfo]:
        passages: dict[str, int] = {}
        sentences: dict[str, int] = {}
        for c in self.index.chunks:
            passages[c.doc_id] = passages.get(c.doc_id, 0) + 1
            sentences[c.doc_id] = sentences.get(c.doc_id, 0) + len(c.sentences)
        primary = self.paper.doc_id
        return [
            DocumentInfo(
                id=p.doc_id,
                kind=p.kind,
                title=p.metadata.title,
                subtitle=p.metadata.subtitle,
                author=p.metadata.author,
                publisher=p.metadata.publisher,
                date=p.metadata.date,
                cites_document=p.cites_document,
                primary=p.doc_id == primary,
                sections=len(p.sections),
                passages=passages.get(p.doc_id, 0),
                sentences=sentences.get(p.doc_id, 0),
                footnotes=len(p.references),
            )
            for p in self.index.papers
        ]

    def _filter(self, documents: Sequence[str] | None) -> frozenset[str] | None:
        if not documents:
            return None
        for d in documents:
            self.document(d)  # NotFound names the unknown id
        return frozenset(documents)

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

    def search(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", documents: Sequence[str] | None = None
    ) -> list[Hit]:
        return self.retriever.retrieve(query, k, mode, documents=self._filter(documents))

    def analyse(self, messages: Sequence[Message]) -> Question:
        """The question analysed, with its words the corpus lacks expanded to the corpus's own; the query
        and those words are embedded together, in one batch."""
        q = analyse(messages, self._vocabulary, self.stats.uses, self.stats.other_names)
        if q.injection:
            return q
        todo = self._expander.unknown(q.focus) if self._expander is not None else []
        query = " ".join(q.query.split())
        if todo and self._expander is not None:
            vectors = self.embedder.encode_queries([query, *todo])
            self.retriever.remember(query, vectors[0])
            self._expander.remember(dict(zip(todo, vectors[1:], strict=True)))
        if self._expander is not None and q.focus:
            q.expansions = self._expander.expand(q.focus)
        return q

    def ask(
        self,
        messages: Sequence[Message],
        k: int | None = None,
        mode: Mode = "hybrid",
        documents: Sequence[str] | None = None,
    ) -> Answer:
        limits = self.settings.server
        if len(messages) > limits.max_messages:
            raise InvalidInput(f"{len(messages)} messages; the limit is {limits.max_messages}")
        for m in messages:
            if len(m.content) > limits.max_question_chars:
                raise InvalidInput(
                    f"a message is {len(m.content)} characters; the limit is {limits.max_question_chars}"
                )
        q = self.analyse(messages)
        k = self.settings.retrieval.final_k if k is None else k
        q, query, hits, pinned = self.candidate_passages(q, k, mode, documents)
        return compose_answer(
            q,
            self.retriever.embed(query),
            hits,
            self.index,
            self.stats,
            self.selector,
            self.settings.answer,
            k,
            pinned=pinned,
            describe=self._describe.get,
            expander=self.expander,
        )

    def candidate_passages(
        self, q: Question, k: int, mode: Mode = "hybrid", documents: Sequence[str] | None = None
    ) -> tuple[Question, str, list[Hit], frozenset[str]]:
        """What the answer stage chooses from: (the question, with `about_sources` also set when it names
        something only the reference list has; the retrieval query; the passages, deep, with the passages
        the question points at first; the ids of those it names outright)."""
        allowed = self._filter(documents)
        query = self.retriever.validate(q.query, k)
        if not q.about_sources and self.stats.names_a_reference(q.standalone):
            q = q.model_copy(update={"about_sources": True})
        hits = self.retriever.retrieve(
            query,
            k,
            mode,
            references=q.about_sources,
            documents=allowed,
            depth=self.settings.answer.candidate_passages,
            lexical_query=q.lexical_query,
        )
        named = self._named_passages(q, hits, allowed)
        # "What does footnote 12 cite?", "Who wrote the paper?", "What is its main conclusion?": the passages
        # the question points at answer it, and come first; other named passages (the references the best
        # passages cite) only join the candidates.
        outright = bool(q.footnotes) or q.about_document or (q.overview is not None and not q.subject)
        pinned = frozenset(c.id for c in named) if outright else frozenset()
        ids = {c.id for c in named}
        if outright:
            hits = [Hit(chunk=c, score=0.0) for c in named] + [h for h in hits if h.chunk.id not in ids]
        else:
            present = {h.chunk.id for h in hits}
            hits = hits + [Hit(chunk=c, score=0.0) for c in named if c.id not in present]
        return q, query, hits, pinned

    def _named_passages(self, q: Question, hits: list[Hit], allowed: frozenset[str] | None) -> list[Chunk]:
        """Passages the question points at without the words to find them: reference N for "footnote N";
        the references the best passages cite for a question about sources; the title page for a question
        about the document itself; the opening passages of a concluding or introductory section for a
        question about the whole document's conclusion or purpose."""
        papers = [
            p for p in self.index.papers if p.kind == "paper" and (allowed is None or p.doc_id in allowed)
        ]
        out: list[Chunk] = []
        for n in q.footnotes:
            for p in papers if allowed else [self.paper]:
                if (c := self._references.get(FootnoteRef(document=p.doc_id, number=n))) is not None:
                    out.append(c)
        if q.about_sources:
            for h in hits[:2]:
                if h.chunk.kind != "reference":
                    for n in h.chunk.footnotes:
                        ref = FootnoteRef(document=h.chunk.notes_doc, number=n)
                        if (c := self._references.get(ref)) is not None:
                            out.append(c)
        docs = {p.doc_id for p in papers}
        if q.about_document:
            out += [
                c
                for c in self.index.chunks
                if c.doc_id in docs and c.section_kind == "front" and c.kind == "front"
            ]
        if q.overview:
            out += overview_passages(self.index.chunks, docs, q.overview)
        return list({c.id: c for c in out}.values())

    def passage(self, passage_id: str) -> Chunk:
        i = self.index.by_id.get(passage_id)
        if i is None:
            raise NotFound(f"no passage with id '{passage_id}'")
        return self.index.chunks[i]

    def footnotes(self, document: str | None = None) -> list[Reference]:
        return list(self.document(document).references)

    def reference(self, n: int, document: str | None = None) -> Reference:
        if n < 1:
            raise InvalidInput(f"footnote numbers start at 1, got {n}")
        paper = self.document(document)
        ref = paper.reference(n)
        if ref is None:
            raise NotFound(
                f"footnote {n} does not exist: {paper.doc_id} has "
                + (f"footnotes 1-{len(paper.references)}" if paper.references else "no footnotes")
            )
        return ref

    def describe(self, ref: FootnoteRef) -> str | None:
        return self._describe.get(ref)

    def cite(self, n: int, document: str | None = None) -> Citation:
        ref = self.reference(n, document)
        paper = self.document(document)
        cited = [
            CitingSentence(id=s.id, text=s.text, section=sec.title, carries=n in s.footnotes)
            for sec, _block, s in paper.sentences()
            if sec.kind == "body" and (n in s.footnotes or n in s.covered_by)
        ]
        from qa_service.sources.verify import source_support

        support = source_support(self.settings, self, ref, cited)
        return Citation(**ref.model_dump(exclude={"url"}), cited_by=cited, source=support)


_OVERVIEW_SECTIONS = {
    "conclusion": (
        "conclusion",
        "conclusions",
        "summary",
        "concluding",
        "final",
        "recommendations",
        "abstract",
    ),
    "purpose": (
        "objective",
        "objectives",
        "introduction",
        "abstract",
        "purpose",
        "overview",
        "aims",
        "summary",
    ),
}


def overview_passages(chunks: list[Chunk], docs: set[str], which: str, per_doc: int = 3) -> list[Chunk]:
    """The first paragraphs of each document's concluding (or introductory) section, by its title."""
    words = _OVERVIEW_SECTIONS[which]
    out: list[Chunk] = []
    count: dict[str, int] = {}
    for c in chunks:
        title = (c.section or "").lower()
        fits = any(w in title.split() or title.startswith(w) for w in words)
        if c.doc_id in docs and c.kind == "paragraph" and fits and count.get(c.doc_id, 0) < per_doc:
            out.append(c)
            count[c.doc_id] = count.get(c.doc_id, 0) + 1
    return out
