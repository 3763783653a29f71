"""Wiring: ingest(), and Engine with ask(), search(), cite(), footnotes(), passage(). The CLI and the API
call these and nothing deeper."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from qa_service.answer import Answer, Choice, choose, compose, eligible, one_document, refuse
from qa_service.config import Settings
from qa_service.corpus import load_corpus
from qa_service.decide import Decision, decide
from qa_service.embed import Embedder
from qa_service.errors import IndexCorrupt, IndexMissing, InvalidInput, NotFound, QAServiceError
from qa_service.index import IngestReport, LoadedIndex, current_state, ingest, lexical_text, load_index
from qa_service.lexical import Expander, TermStats, Truecaser, terms
from qa_service.models import Chunk, ChunkSentence, FootnoteRef, Hit, Message, Paper, Reference
from qa_service.parse.references import issuer
from qa_service.question import MONTHS, Question, Vocabulary, analyse, answer_sentences
from qa_service.read import Candidate, gather, load_places, pool
from qa_service.retrieve import Mode, Retriever
from qa_service.store import VectorStore
from qa_service.text import normalize
from qa_service.weights import Weights

log = logging.getLogger("qa_service.engine")


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
        embedder or Embedder.from_settings(settings),
        store or VectorStore.from_settings(settings),
        rebuild=rebuild,
    )


def describe_reference(ref: Reference) -> str:
    """A short description of a reference: author, title, date; else its text. With no author before the
    title, who issued it where the entry names them after it ('“Sanctions,” Zenda Treasury, May 2, 2022'),
    so the description still says whose document it is."""
    if not ref.title:
        return ref.text
    parts = [p for p in (ref.author or issuer(ref), f"“{ref.title}”", ref.date) if p]
    return ", ".join(parts) + "."


@dataclass(frozen=True)
class Prepared:
    """What the answer stage reads of one question: the analysis, the passage pool (retrieval order, then
    neighbours), the candidate sentences, the passages the question names outright, and k."""

    question: Question
    passages: list[Hit]
    candidates: list[Candidate]
    pinned: frozenset[str]
    k: int
    # a follow-up's: the reference entries behind the last answer's sentences, which may answer it as well as
    # any sentence ("When was that signed?", "Where was it announced?": the cited record may say)
    behind: frozenset[str] = frozenset()
    # the request named several documents (`documents`), or asked for a footnote number of no paper in particular
    # that several papers have: its answer may quote each, as when comparing them
    several: bool = False

    def quoting_one_document(self, allowed: list[Candidate]) -> list[Candidate]:
        """The candidates that may answer, of one document (`answer.one_document`) unless the request named
        several."""
        return allowed if self.several else one_document(allowed)

    @property
    def read_as_follow_up(self) -> bool:
        """Whether the follow-ups' reader reads it (`Weights.reader_for`): a follow-up, but not one whose question
        names what answers it ("What's the source for that?": the references behind the last answer), which no
        single question asks, so only the reader that learnt from follow-ups has seen it."""
        return self.question.follow_up and not self.pinned


@dataclass(frozen=True)
class Snapshot:
    """One index build and everything derived from it. A request reads one snapshot; a reload builds the next
    one beside it and swaps it in whole, so no request ever sees parts of two builds."""

    index: LoadedIndex
    retriever: Retriever
    stats: TermStats
    vocabulary: Vocabulary
    describe: dict[FootnoteRef, str]
    authors: dict[FootnoteRef, str]  # the author a reference names, where it names one
    references: dict[FootnoteRef, Chunk]
    expander: Expander | None
    truecase: Truecaser


class Engine:
    """Loaded once per process and shared by all requests. What requests read is one immutable Snapshot;
    refresh() (called by the follower thread a server runs, see follow()) replaces it when an ingest anywhere
    publishes a new build. A request that must see one build throughout takes a view()."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None
    ):
        self.settings = settings
        from threadpoolctl import threadpool_limits

        threadpool_limits(settings.index.blas_threads, user_api="blas")  # process-wide: see the setting
        self.embedder = embedder or Embedder.from_settings(settings)
        self.store = store or VectorStore.from_settings(settings)
        self._weights: Weights | None = None
        self._snapshot: Snapshot | None = None
        self._problem = ""  # why nothing is served, or why the newest build could not be loaded
        self._reload = threading.Lock()
        self._word_vectors: dict[str, np.ndarray] = {}  # corpus words embedded once, kept across reloads
        self.server_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._loading = ""
        self._refused: dict[str, str] = {}  # builds that could not be loaded (incomplete, damaged): why
        self._follower: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()

    @classmethod
    def open(cls, settings: Settings, ingest_if_missing: bool = False, **kw: object) -> Engine:
        engine = cls(settings, **kw)  # type: ignore[arg-type]
        if ingest_if_missing:
            run_ingest(settings, embedder=engine.embedder, store=engine.store)
        engine.load()
        return engine

    @property
    def weights(self) -> Weights:
        """The trained reader, decider and composition, with what the settings override."""
        if self._weights is None:
            self._weights = Weights.load().with_settings(self.settings.answer)
        return self._weights

    def load(self, check_weights: bool = True) -> None:
        """Load the published index. `check_weights=False` skips reading the answer stage's weights (the
        training script loads an engine to compute the very features those weights are fitted on)."""
        if check_weights:  # a stale or missing weights file fails now, not on the first request
            _ = self.weights
        self.refresh(force=True)
        self.embedder.encode_query("warm-up")  # load the model now, not on the first request
        load_places()  # and the place names the decider reads (about 3 s)

    def refresh(self, force: bool = False) -> bool:
        """Serve the published build if it is not the one served (or always, with `force`); True when the
        served build changed. The new build is loaded beside the old one, which serves until the swap. A
        build pruned while it was being loaded (ingests in quick succession) is retried with the newer one."""
        with self._reload:
            for _ in range(3):
                state = current_state(self.store)
                if state is None:
                    self._problem = f"no index in {self.store.mode} yet: run `qa-service ingest` to build it"
                    if self._snapshot is None:
                        raise IndexMissing(self._problem)
                    return False
                held = self._snapshot.index.state.build if self._snapshot else ""
                if state.build == held and not force:
                    self._problem = ""
                    return False
                if state.build in self._refused and not force:  # damaged: not read again at every check
                    self._problem = self._refused[state.build]
                    return False
                self._loading = state.build
                self._heartbeat()  # a lease on what is being loaded: no ingest prunes it meanwhile
                try:
                    snapshot = self._build_snapshot(
                        load_index(
                            self.settings,
                            self.embedder.model_name,
                            self.store,
                            state,
                            encoder=self.embedder.backend,
                        )
                    )
                except IndexCorrupt as exc:
                    latest = current_state(self.store)
                    if latest is not None and latest.build != state.build:
                        continue  # superseded while loading: load the newer one
                    self._problem = f"index build {state.build} cannot be served: {exc.message}"
                    self._refused[state.build] = self._problem
                    if self._snapshot is None:
                        raise
                    log.warning("%s; still serving %s", self._problem, held)
                    return False
                finally:
                    self._loading = ""
                self._snapshot = snapshot  # the swap: one reference, so a request sees the old or the new
                self._problem = ""
                self._heartbeat()
                return True
            return False

    def _build_snapshot(self, index: LoadedIndex) -> Snapshot:
        references = {  # (document, footnote) -> its reference-list passage, looked up per request
            FootnoteRef(document=c.doc_id, number=c.sentences[0].covered_by[0]): c
            for c in index.chunks
            if c.kind == "reference" and c.sentences and c.sentences[0].covered_by
        }
        expander = self._build_expander(index) if self.settings.retrieval.expand else None
        # the corpus's vocabulary.toml as ingested: a replica has the index, not the corpus
        state, used = index.state, self.settings.answer.vocabulary
        aliases = {k: v for k, v in state.vocabulary.items() if k not in state.seats}
        vocabulary = Vocabulary(aliases=aliases, seats=state.seats) if used else Vocabulary()
        stats = TermStats(
            [lexical_text(c) for c in index.chunks], [c.kind == "reference" for c in index.chunks]
        )
        return Snapshot(
            index=index,
            retriever=Retriever(index, self.store, self.embedder, self.settings.retrieval, stats),
            stats=stats,
            vocabulary=vocabulary,
            describe={
                FootnoteRef(document=p.doc_id, number=r.number): describe_reference(r)
                for p in index.papers
                for r in p.references
            },
            authors={
                FootnoteRef(document=p.doc_id, number=r.number): r.author
                for p in index.papers
                for r in p.references
                if r.author
            },
            references=references,
            expander=expander,
            # the prose's own capitals: a reference list or a title page capitalises common words
            truecase=Truecaser(
                [c.text for c in index.chunks if c.kind == "paragraph"],
                stats.lower,
                frozenset(MONTHS),  # read as months in any case; "march" and "may" are verbs too
            ),
        )

    # ------------------------------------------------------------------ following new builds (servers)

    def follow(self, interval_s: float) -> None:
        """Check for a new build every `interval_s` seconds (and when woken) in a background thread, and hold
        a lease on the builds this process serves or loads, renewed at each check."""
        if self._follower is not None or interval_s <= 0:
            return
        self._stop.clear()
        self._follower = threading.Thread(
            target=self._follow, args=(interval_s,), name="index-follower", daemon=True
        )
        self._follower.start()

    def _follow(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
                self._heartbeat()
            except QAServiceError as exc:  # store down, nothing published yet: say so on /ready, try again
                self._problem = exc.message
            except Exception:  # never let the follower die: the next check tries again
                log.exception("index check failed")
            self._wake.wait(interval_s)
            self._wake.clear()

    def wake(self) -> None:
        """Check for a new build now (the follower thread does it)."""
        self._wake.set()

    def stop_following(self) -> None:
        follower, self._follower = self._follower, None
        if follower is None:
            return
        self._stop.set()
        self._wake.set()
        follower.join(timeout=self.settings.server.request_timeout_s)
        with contextlib.suppress(QAServiceError):  # else the lease lapses by itself
            self.store.release(self.server_id)

    def _heartbeat(self) -> None:
        if self._follower is None:
            return  # one-shot engines (CLI, tests) hold no lease
        held = [b for b in (self._snapshot.index.state.build if self._snapshot else "", self._loading) if b]
        if held:
            self.store.hold(self.server_id, held)

    def view(self) -> Engine:
        """This engine fixed to the build it serves now: everything one request does through a view sees
        one build, even when the engine moves to a new one meanwhile."""
        view = copy.copy(self)
        view._follower = None  # a view neither follows nor holds leases
        return view

    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    @property
    def snapshot(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            raise IndexMissing(self._problem or "the index is not loaded: run `qa-service ingest`")
        return snapshot

    @property
    def _references(self) -> dict[FootnoteRef, Chunk]:
        return self.snapshot.references

    @property
    def _describe(self) -> dict[FootnoteRef, str]:
        return self.snapshot.describe

    @property
    def _vocabulary(self) -> Vocabulary:
        return self.snapshot.vocabulary

    @property
    def _expander(self) -> Expander | None:
        return self.snapshot.expander

    def _build_expander(self, index: LoadedIndex) -> Expander:
        cfg = self.settings.retrieval
        vocabulary = Expander.corpus_words(c.text for c in index.chunks)
        known = {**self._word_vectors, **index.word_vectors}  # ingest stored them; a reload reuses its own
        new = [w for w in vocabulary if w not in known]
        if new:
            known.update(zip(new, self.embedder.encode(new, batch_size=256), strict=True))
        self._word_vectors = {w: known[w] for w in vocabulary}
        dim = self.embedder.dimension
        vectors = np.vstack([known[w] for w in vocabulary]) if vocabulary else np.zeros((0, dim))
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
        return self.snapshot.index

    @property
    def retriever(self) -> Retriever:
        return self.snapshot.retriever

    @property
    def expander(self) -> Expander | None:
        """Reader's words -> the corpus's (None when `retrieval.expand` is off)."""
        return self._expander

    @property
    def stats(self) -> TermStats:
        return self.snapshot.stats

    @property
    def paper(self) -> Paper:
        """The primary document: the first paper of the manifest."""
        return next(p for p in self.index.papers if p.kind == "paper")

    def document(self, doc_id: str | None = None) -> Paper:
        if doc_id is None:
            return self.paper
        paper = self.index.paper_by_id.get(doc_id)
        if paper is not None:
            return paper
        known = ", ".join(p.doc_id for p in self.index.papers if p.kind == "paper")
        raise NotFound(f"no document '{doc_id}'; the documents are: {known}")

    def documents(self) -> list[DocumentInfo]:
        by_doc = self.index.chunks_by_doc
        sentences = self.index.sentences_by_doc
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
                passages=len(by_doc.get(p.doc_id, [])),
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
        """(ready, why): an index is served and the vector store answers. A server keeps answering from the
        build it holds while the store is down, but cannot follow new builds: it says so and is not ready."""
        snapshot = self._snapshot
        if snapshot is None:
            return False, self._problem or "index not loaded"
        state = snapshot.index.state
        if not self.store.heartbeat():
            return False, (
                f"vector store unavailable ({self.store.mode}); answering from build {state.build} in memory, "
                "new builds are followed when it returns"
            )
        try:
            latest = current_state(self.store)
        except QAServiceError as exc:
            return False, exc.message
        if latest is not None and latest.build != state.build:
            self.wake()  # the follower loads it; this probe does not wait for that
        detail = f"generation {state.generation} (build {state.build}), {len(snapshot.index.chunks)} passages"
        return True, detail + (f"; {self._problem}" if self._problem else "")

    def search(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", documents: Sequence[str] | None = None
    ) -> list[Hit]:
        return self.retriever.retrieve(query, k, mode, documents=self._filter(documents))

    def analyse(self, messages: Sequence[Message]) -> Question:
        """The question analysed, with its words the corpus lacks expanded to the corpus's own; the query
        and those words are embedded together, in one batch."""
        stats = self.stats
        q = analyse(
            messages,
            self._vocabulary,
            stats.uses,
            stats.other_names,
            stats.common,
            stats.same_as,
            self._paragraphs,
            self.snapshot.truecase,
        )
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
        """analyse -> retrieve -> read -> decide -> compose, each once."""
        return self.answer(self.prepare(messages, k, mode, documents))

    def prepare(
        self,
        messages: Sequence[Message],
        k: int | None = None,
        mode: Mode = "hybrid",
        documents: Sequence[str] | None = None,
        features: frozenset[str] | None = None,
    ) -> Prepared:
        """The question analysed, the passages retrieved and their sentences as the reader's candidates:
        everything the answer stage reads, which no trained weight changes. `features`: the candidate
        features to compute; by default the shipped readers' (training asks for all of them)."""
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
        if q.injection:
            return Prepared(q, [], [], frozenset(), k)
        q, query, hits, pinned = self.candidate_passages(q, k, mode, documents)
        several = len(set(documents or ())) > 1
        numbered = [h.chunk for h in hits if h.chunk.id in pinned and _numbered(h.chunk, q.footnotes)]
        if not documents and len(notes := {c.doc_id for c in numbered}) > 1:
            # "What does footnote 12 cite?" of no paper in particular, where several have a footnote 12: a follow-up
            # means the paper the conversation is about; a first question could mean any, and is answered for each
            # with its footnote 12 alone (not the entries its best passages cite, pinned beside it)
            talked = {c.notes_doc for c in self._answered_from(messages, documents)} & notes if q.follow_up else set()
            if talked:
                pinned = frozenset(h.chunk.id for h in hits if h.chunk.id in pinned and h.chunk.doc_id in talked)
            else:
                pinned, several = frozenset(c.id for c in numbered), True
        if q.sources_of and (sources := self._sources_of(q.sources_of, documents)):
            # "What's the source for that?": the references behind what the last answer said answer it
            ids = {c.id for c in sources}
            hits = [Hit(chunk=c, score=0.0) for c in sources] + [h for h in hits if h.chunk.id not in ids]
            pinned = frozenset(ids)
        behind: frozenset[str] = frozenset()
        if q.follow_up:  # what the last answer used competes too: a follow-up often asks about it
            chunks = self._answered_from(messages, documents)
            if not pinned:  # and so do the references its footnotes cite
                refs = self._sources_of(answer_sentences(messages), documents)
                behind = frozenset(c.id for c in refs)
                chunks += refs
            present = {h.chunk.id for h in hits}
            hits += [Hit(chunk=c, score=0.0) for c in chunks if c.id not in present]
        passages = pool(hits, self.index, self.settings.answer.neighbour_passages)
        cands = gather(
            q,
            self.retriever.embed(query),
            passages,
            self.index,
            self.stats,
            self.expander,
            self.weights.features if features is None else features,
        )
        authors = self.snapshot.authors
        for c in cands:  # who wrote what the sentence cites: it may answer "which analyst reported..."
            said = (authors.get(FootnoteRef(document=c.chunk.notes_doc, number=n)) for n in c.sentence.covered_by)
            c.cited = "; ".join(a for a in said if a)
        return Prepared(q, passages, cands, pinned, k, behind, several)

    def answer(self, p: Prepared, weights: Weights | None = None) -> Answer:
        """Read, decide and compose (`weights`: others than the trained ones, as the evaluation's folds)."""
        w = weights or self.weights
        q, cands = p.question, p.candidates
        if q.injection:
            return refuse(q)
        per_part = w.reader_for(p.read_as_follow_up).score(q, cands)
        why = [part.asks_why for part in q.parts]
        allowed = p.quoting_one_document(eligible(q, cands, p.pinned, p.behind))
        if p.pinned and p.several and (numbered := [c for c in allowed if _numbered(c.chunk, q.footnotes)]):
            choice = Choice(sorted(numbered, key=lambda c: c.row))  # footnote N of each paper asked about: each answers
        else:
            dated = [part.answer_type == "date" for part in q.parts]
            choice = choose(
                cands, allowed, per_part, w.composition, terms(q.standalone), why, dated, q.about_sources
            )
        # the question named the passage (footnote N, the title page): it answers
        if p.pinned and choice.sentences:
            decision = Decision(1.0, False, None)
        else:
            decision = decide(q, choice.judged, self.stats, w.decider)
        cfg = self.settings.answer
        return compose(
            q,
            cands,
            choice,
            decision,
            p.passages,
            p.k,
            cfg.longest_answer_words,
            cfg.evidence_sentences,
            p.pinned,
            self._describe.get,
        )

    def _where(self) -> dict[str, list[tuple[Chunk, ChunkSentence]]]:
        """Every sentence of the index by its normalised text, with every passage that holds it (passages
        overlap, and two documents may share a sentence): where an answer's sentence came from."""
        index = self.index

        def build() -> dict[str, list[tuple[Chunk, ChunkSentence]]]:
            out: dict[str, list[tuple[Chunk, ChunkSentence]]] = {}
            for c in index.chunks:
                for s in c.sentences:
                    out.setdefault(normalize(s.text), []).append((c, s))
            return out

        return index.derived("sentence_text", build)

    def _found(self, text: str, allowed: frozenset[str] | None) -> list[tuple[Chunk, ChunkSentence]]:
        """The passages an answer's sentence may have come from, among the documents asked about: one per
        document that holds it (the last of its overlapping passages). The conversation does not say which
        document an earlier answer quoted, so a sentence two documents share stands for both."""
        per_doc: dict[str, tuple[Chunk, ChunkSentence]] = {}
        for h in self._where().get(normalize(text), []):
            if allowed is None or h[0].doc_id in allowed:
                per_doc[h[0].doc_id] = h
        return list(per_doc.values())

    def _paragraphs(self, sentences: Sequence[str]) -> list[str]:
        """The paragraphs an answer's sentences were taken from, each from the first of them it quotes on (at
        most `pointed_sentences` sentences of each), in the order the answer quotes them. A sentence several
        passages hold is read on from the last of them, which goes on furthest after it; the conversation does
        not say which document an earlier answer quoted, so every document is looked in."""
        index, limit = self.index, self.settings.answer.pointed_sentences

        def from_on(chunk: Chunk, sentence: ChunkSentence) -> Iterator[ChunkSentence]:
            """The sentence and those after it in its paragraph, across the passages that follow."""
            ci = index.by_id[chunk.id]
            start = next(i for i, s in enumerate(chunk.sentences) if s.id == sentence.id)
            yield from chunk.sentences[start:]
            for cj in range(ci + 1, len(index.chunks)):
                if index.chunks[cj].block_id != chunk.block_id:
                    return
                yield from index.chunks[cj].sentences

        where = self._where()
        out: list[str] = []
        seen: set[str] = set()
        for text in map(normalize, sentences):
            found = where.get(text, [])
            if not found or text in seen:
                continue
            taken = 0
            for s in from_on(*found[-1]):
                key = normalize(s.text)
                if key in seen:
                    continue
                if taken == limit:
                    break
                seen.add(key)
                out.append(s.text)
                taken += 1
        return out

    def _answered_from(self, messages: Sequence[Message], documents: Sequence[str] | None = None) -> list[Chunk]:
        """The passages of the sentences of the last answer in the conversation, in the documents asked about."""
        allowed = self._filter(documents)
        found = [chunk for t in answer_sentences(messages) for chunk, _ in self._found(t, allowed)]
        return list({c.id: c for c in found}.values())

    def _sources_of(self, sentences: Sequence[str], documents: Sequence[str] | None = None) -> list[Chunk]:
        """The reference-list entries of the footnotes that carry or cover these sentences (an earlier
        answer's), each from the document its sentence came from, in the order the sentences cite them."""
        allowed = self._filter(documents)
        out: list[Chunk] = []
        for t in sentences:
            for chunk, sentence in self._found(t, allowed):
                for n in sentence.covered_by:
                    ref = self._references.get(FootnoteRef(document=chunk.notes_doc, number=n))
                    if ref is not None and (allowed is None or ref.doc_id in allowed):
                        out.append(ref)
        return list({c.id: c for c in out}.values())

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
        overview = q.overview is not None and not q.subject
        outright = bool(q.footnotes) or q.about_document or q.layout_only or overview
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
        about the document itself; the table of contents for one about its layout; the opening passages of a
        concluding or introductory section for a question about the whole document's conclusion or purpose."""
        papers = [
            p for p in self.index.papers if p.kind == "paper" and (allowed is None or p.doc_id in allowed)
        ]
        out: list[Chunk] = []
        for n in q.footnotes:
            for p in papers:
                if (c := self._references.get(FootnoteRef(document=p.doc_id, number=n))) is not None:
                    out.append(c)
        if q.about_sources:
            for h in hits[:2]:
                if h.chunk.kind != "reference":
                    for n in h.chunk.footnotes:
                        ref = FootnoteRef(document=h.chunk.notes_doc, number=n)
                        if (c := self._references.get(ref)) is not None:
                            out.append(c)
        index = self.index
        if q.about_document:  # per document, derived once per index: no scan over every passage
            for p in papers:
                out += index.derived(("front", p.doc_id), partial(_front_passages, index, p.doc_id))
        if q.about_layout:  # the tables of contents, derived once per index like the title pages
            for p in papers:
                out += index.derived(("toc", p.doc_id), partial(_toc_passages, index, p.doc_id))
        if q.overview:
            for p in papers:
                out += index.derived(
                    ("overview", q.overview, p.doc_id),
                    partial(overview_passages, index.chunks_by_doc.get(p.doc_id, []), {p.doc_id}, q.overview),
                )
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


def _front_passages(index: LoadedIndex, doc_id: str) -> list[Chunk]:
    return [c for c in index.chunks_by_doc.get(doc_id, []) if c.section_kind == "front" and c.kind == "front"]


def _toc_passages(index: LoadedIndex, doc_id: str) -> list[Chunk]:
    return [c for c in index.chunks_by_doc.get(doc_id, []) if c.kind == "toc"]


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


def _numbered(chunk: Chunk, numbers: Sequence[int]) -> bool:
    """A reference-list entry of one of these footnote numbers."""
    number = chunk.sentences[0].covered_by[:1] if chunk.kind == "reference" and chunk.sentences else []
    return bool(number) and number[0] in numbers
