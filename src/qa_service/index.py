"""The index in Chroma, built by ingest() and read by load_index().

Everything a server needs lives in Chroma (store.py has the layout), so a server needs only Chroma's address:
embedded (`<data_dir>/chroma`) or a Chroma server shared by any number of machines. A *generation* id is a
hash of the documents' contents and of the chunking and model settings, so an unchanged corpus is recognised
without loading the model. A *build* is one ingest's copy of a generation in its own collections (two ingests
of the same corpus at once never write into each other's); it is published, by replacing the `current`
record, only once complete, so an interrupted ingest leaves the served build untouched and a half-written
one is never served. Servers follow `current` (engine.py) and hold a lease on what they serve; ingest prunes
only builds no live server holds, other than the one it replaced.

BM25 and the term statistics are built in memory when a server loads a build, from the passages.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from qa_service.chunk import chunk_document, content_id
from qa_service.config import Settings
from qa_service.embed import Embedder, describe_encoder, encoder_id, same_vectors, text_key
from qa_service.errors import EncoderMismatch, IndexCorrupt, IndexMissing, QAServiceError
from qa_service.lexical import Expander, LexicalIndex
from qa_service.models import Chunk, Paper
from qa_service.progress import progress_bar
from qa_service.question import Vocabulary
from qa_service.store import MissingCollection, VectorStore

SCHEMA = "6"
_chunk_adapter = TypeAdapter(Chunk)
_paper_adapter = TypeAdapter(Paper)
T = TypeVar("T")


class IndexState(BaseModel):
    generation: str
    build: str
    model: str
    encoder: str = "torch"  # embed.backend of the vectors (builds older than the choice: PyTorch fp32)
    created: str
    documents: dict[str, str]
    chunks: int
    sentences: int
    vectors: int
    papers: int
    words: bool = False
    # the corpus's vocabulary.toml, aliases and seats together as before there were seats (a replica of older
    # code reads every seat as an alias): replicas have no corpus
    vocabulary: dict[str, list[str]] = {}
    seats: dict[str, list[str]] = {}  # which of them are seats of government (`Vocabulary.seats`)
    previous: str = ""
    schema_version: str = SCHEMA


class IngestReport(BaseModel):
    generation: str
    build: str
    documents: int
    chunks: int
    sentences: int
    embedded: int
    reused: int
    truncated: int
    seconds: float
    embed_seconds: float
    unchanged: bool
    store: str
    pruned: list[str] = []


@dataclass(eq=False)
class LoadedIndex:
    """One build, in memory and read-only: what a request reads. Anything derived from it that requests would
    otherwise recompute over every passage is computed once, here."""

    state: IndexState
    papers: list[Paper]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray  # row i: the vector of chunks[i]
    sentence_ids: list[str]
    sentence_chunk: np.ndarray  # row -> chunk index
    sentence_vectors: np.ndarray
    lexical: LexicalIndex
    word_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)
    sentence_row: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self.sentence_row = {s: i for i, s in enumerate(self.sentence_ids)}
        self._memo: dict[Any, Any] = {}

    def derived(self, key: Any, build: Callable[[], T]) -> T:
        """A value derived from this build, computed on first use and kept with it (thread-safe enough: two
        threads computing it at once compute the same value)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = build()
            return value

    @cached_property
    def paper_by_id(self) -> dict[str, Paper]:
        return {p.doc_id: p for p in self.papers}

    @cached_property
    def _doc_codes(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        codes: dict[str, int] = {}
        for c in self.chunks:
            codes.setdefault(c.doc_id, len(codes))
            codes.setdefault(c.notes_doc, len(codes))
        own = np.array([codes[c.doc_id] for c in self.chunks], dtype=np.int32)
        notes = np.array([codes[c.notes_doc] for c in self.chunks], dtype=np.int32)
        return codes, own, notes

    def doc_mask(self, documents: frozenset[str]) -> np.ndarray:
        """Per passage: is it in one of `documents`, or a source one of them cites (vectorised, no scan)."""
        codes, own, notes = self._doc_codes
        wanted = np.array([codes[d] for d in documents if d in codes], dtype=np.int32)
        return np.isin(own, wanted) | np.isin(notes, wanted)

    @cached_property
    def chunks_by_doc(self) -> dict[str, list[Chunk]]:
        out: dict[str, list[Chunk]] = {}
        for c in self.chunks:
            out.setdefault(c.doc_id, []).append(c)
        return out

    @cached_property
    def sentences_by_doc(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.chunks:
            out[c.doc_id] = out.get(c.doc_id, 0) + len(c.sentences)
        return out

    @cached_property
    def _source_rows(self) -> dict[tuple[str, str], np.ndarray]:
        rows: dict[tuple[str, str], list[int]] = {}
        for row, ci in enumerate(self.sentence_chunk):
            c = self.chunks[int(ci)]
            rows.setdefault((c.notes_doc, c.source), []).append(row)
        return {k: np.array(v, dtype=np.int64) for k, v in rows.items()}

    def source_rows(self, source: str, notes_doc: str | None = None) -> np.ndarray:
        """The rows in sentence_vectors of the sentences whose chunks have Chunk.source == `source` ('footnote:N')
        and, when given, whose footnotes are `notes_doc`'s; a dictionary look-up, not a scan."""
        parts = [v for (d, s), v in self._source_rows.items() if s == source and notes_doc in (None, d)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def build_chunks(papers: list[Paper], settings: Settings) -> list[Chunk]:
    ix = settings.index
    chunks: list[Chunk] = []
    for p in papers:
        source = f"footnote:{p.cites_footnote}" if p.kind == "source" and p.cites_footnote else "paper"
        chunks += chunk_document(p, ix.max_chunk_sentences, ix.max_chunk_words, source=source)
    return chunks


def _pipeline_code() -> str:
    """The code that shapes the index (parser, chunker, models): a change to it means a new generation."""
    from qa_service import chunk, models, parse

    files = sorted(Path(str(parse.__file__)).parent.glob("*.py")) + [
        Path(str(m.__file__)) for m in (chunk, models)
    ]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def generation_id(
    papers: list[Paper], settings: Settings, model: str, vocabulary: Vocabulary | None = None
) -> str:
    ix = settings.index
    parts = [SCHEMA, _pipeline_code(), model, str(ix.max_chunk_sentences), str(ix.max_chunk_words)]
    parts += [f"{p.doc_id}={p.sha256}" for p in sorted(papers, key=lambda p: p.doc_id)]
    parts += [json.dumps(vocabulary.aliases if vocabulary else {}, sort_keys=True)]
    if vocabulary and vocabulary.seats:  # a vocabulary without seats keeps the generation it had before them
        parts += [json.dumps(vocabulary.seats, sort_keys=True)]
    return content_id(*parts, length=12)


def lexical_text(chunk: Chunk) -> str:
    return chunk.embed_text()


def _sentence_texts(chunks: list[Chunk]) -> list[tuple[str, int, str]]:
    return [(s.id, ci, s.text) for ci, c in enumerate(chunks) for s in c.sentences]


def embedding_texts(
    chunks: list[Chunk], settings: Settings, model: str
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """What an index embeds, by content-hash key: the passages (one key per chunk, in order), their
    sentences, and the corpus words the question expander compares a reader's words with."""
    chunk_keys = [text_key(model, c.embed_text()) for c in chunks]
    sentence_keys = {text_key(model, s.text): s.text for c in chunks for s in c.sentences}
    words = Expander.corpus_words(c.text for c in chunks) if settings.retrieval.expand else []
    return chunk_keys, sentence_keys, {text_key(model, w): w for w in words}


def current_state(store: VectorStore) -> IndexState | None:
    """The published build's state, or None when nothing has been published yet."""
    raw = store.current()
    if raw is None:
        return None
    try:
        return IndexState.model_validate_json(raw)
    except ValidationError as exc:
        raise IndexCorrupt(
            f"the index record in {store.mode} is unreadable ({exc.error_count()} errors); "
            "rebuild with `qa-service ingest --rebuild`"
        ) from exc


def _is_complete(store: VectorStore, state: IndexState) -> bool:
    counts = store.build_counts(state.build)
    return counts == {"passages": state.chunks, "vectors": state.vectors, "papers": state.papers}


IngestProgress = Callable[[str, int, int], None]
"""progress(stage, done, total) during ingest: ("embedding", texts embedded, texts to embed) from 0 and after
each batch, ("writing", 0, 0) once the build's records are being written, ("published", 0, 0) once the build
is the one served (also for an unchanged corpus, already published)."""


def ingest(
    papers: list[Paper],
    settings: Settings,
    embedder: Embedder,
    store: VectorStore,
    rebuild: bool = False,
    progress: IngestProgress | None = None,
) -> IngestReport:
    t0 = time.perf_counter()
    tell = progress or (lambda stage, done, total: None)
    model = embedder.name  # the model and its encoder: what vectors are keyed by
    vocabulary = Vocabulary.load(settings.corpus_dir / "vocabulary.toml")
    gen = generation_id(papers, settings, model, vocabulary)
    try:
        state = current_state(store)
    except IndexCorrupt:
        state = None  # a damaged record is rebuilt, not served
    chunks = build_chunks(papers, settings)
    sents = _sentence_texts(chunks)
    chunk_keys, sentence_keys, word_keys = embedding_texts(chunks, settings, model)
    words = list(word_keys.values())

    def report(
        build: str,
        embedded: int,
        reused: int,
        truncated: int,
        embed_s: float,
        unchanged: bool,
        pruned: list[str],
    ) -> IngestReport:
        return IngestReport(
            generation=gen,
            build=build,
            documents=len(papers),
            chunks=len(chunks),
            sentences=len(sents),
            embedded=embedded,
            reused=reused,
            truncated=truncated,
            unchanged=unchanged,
            seconds=round(time.perf_counter() - t0, 3),
            embed_seconds=round(embed_s, 3),
            store=store.mode,
            pruned=pruned,
        )

    own = (embedder.model_name, embedder.backend)
    if not rebuild and state and not same_vectors((state.model, state.encoder), own):
        raise EncoderMismatch(
            f"the published index build {state.build} was embedded with "
            f"{describe_encoder(state.model, state.encoder)}; this ingest uses {embedder.description}. "
            "Vectors of two encoders are never mixed in one index: run `qa-service ingest --rebuild` to "
            "re-embed everything with this one (servers running the other encoder will then refuse the new "
            "build until they switch), or set QA_EMBED__BACKEND to the index's encoder"
        )
    if not rebuild and state and state.generation == gen and state.words == bool(words):
        try:
            if _is_complete(store, state):
                tell("published", 0, 0)
                return report(state.build, 0, len(chunks) + len(sents), 0, 0.0, True, [])
        except MissingCollection:
            pass

    # Vectors: reuse what the served build already embedded (content-hash keys), embed the rest.
    cache: dict[str, np.ndarray] = {}
    if state and not rebuild:
        try:
            cache = _stored_vectors(store, state.build)
        except QAServiceError:
            cache = {}  # pruned or damaged meanwhile: embed everything
    texts = dict(zip(chunk_keys, (c.embed_text() for c in chunks), strict=True))
    texts.update(sentence_keys)
    texts.update(word_keys)
    missing = [k for k in texts if k not in cache]
    truncated = 0
    t_embed = time.perf_counter()
    tell("embedding", 0, len(missing))
    if missing:
        embedded = 0
        with progress_bar("embedding", len(missing), settings.show_progress()) as advance:

            def step(n: int) -> None:
                nonlocal embedded
                embedded += n
                advance(n)
                tell("embedding", embedded, len(missing))

            vecs = embedder.encode([texts[k] for k in missing], settings.index.batch_size, progress=step)
        cache.update(zip(missing, vecs, strict=True))
        truncated = embedder.count_truncated([texts[k] for k in missing])
    embed_s = time.perf_counter() - t_embed

    build = f"{gen}-{secrets.token_hex(3)}"  # unique per ingest: concurrent ingests never share collections
    vector_keys = list(dict.fromkeys([*sentence_keys, *word_keys]))
    new_state = IndexState(
        generation=gen,
        build=build,
        model=embedder.model_name,
        encoder=embedder.backend,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        documents={p.doc_id: p.sha256 for p in papers},
        chunks=len(chunks),
        sentences=len(sents),
        vectors=len(vector_keys),
        papers=len(papers),
        words=bool(words),
        vocabulary=vocabulary.aliases | vocabulary.seats,
        seats=vocabulary.seats,
        previous=state.build if state else "",
    )
    doc = new_state.model_dump_json()
    tell("writing", 0, 0)
    store.begin_build(build, doc)
    store.add(
        store.collection(build, "papers"),
        [p.doc_id for p in papers],
        None,
        [_paper_adapter.dump_json(p).decode() for p in papers],
        [{"seq": i, "kind": p.kind} for i, p in enumerate(papers)],
    )
    store.add(
        store.collection(build, "passages"),
        [c.id for c in chunks],
        np.vstack([cache[k] for k in chunk_keys]).astype(np.float32),
        [c.text for c in chunks],
        [
            {
                "seq": i,
                "doc_id": c.doc_id,
                "notes_doc": c.notes_doc,
                "section": c.section,
                "kind": c.kind,
                "source": c.source,
                "footnotes": c.footnotes,
                "page": c.page,
                "key": chunk_keys[i],
                "chunk": _chunk_adapter.dump_json(c).decode(),
            }
            for i, c in enumerate(chunks)
        ],
    )
    if vector_keys:
        store.add(
            store.collection(build, "vectors"),
            vector_keys,
            np.vstack([cache[k] for k in vector_keys]).astype(np.float32),
            None,
            [
                {"kind": "word" if k in word_keys and k not in sentence_keys else "sentence"}
                for k in vector_keys
            ],
        )
    if not _is_complete(store, new_state):
        raise IndexCorrupt(f"build {build} in {store.mode} is incomplete after writing it; run ingest again")
    store.complete_build(build, doc)
    store.publish(doc)
    tell("published", 0, 0)
    pruned = prune(store, settings, keep={build, new_state.previous})
    return report(build, len(missing), len(texts) - len(missing), truncated, embed_s, False, pruned)


def prune(store: VectorStore, settings: Settings, keep: set[str]) -> list[str]:
    """Drop builds no one needs: not `keep`, not the current one, not held by a live server (a lease renewed
    within index.lease_ttl_s), not being written by another ingest (unless abandoned: older than
    index.abandoned_build_s). Collections of this prefix that belong to no build record go too."""
    now = time.time()
    ttl = settings.index.lease_ttl_s
    keep = set(keep)
    # Collections first, records after: an ingest writes its build record before creating the build's
    # collections, so every collection listed here has its record in what is read below.
    names = store.owned_collections()
    current = current_state(store)
    if current is not None:
        keep.add(current.build)
    for lease in store.leases():
        if now - lease.ts <= ttl:
            keep.update(lease.builds)
        else:
            store.release(lease.server)  # a server that stopped without saying so
    records = store.builds()
    for r in records:
        if r.status != "complete" and now - r.ts <= settings.index.abandoned_build_s:
            keep.add(r.build)
    dropped = []
    for r in records:
        if r.build not in keep:
            store.drop_build(r.build)
            dropped.append(r.build)
    known = {r.build for r in records} | keep
    owned = {store.collection(b, p) for b in known for p in ("passages", "vectors", "papers")}
    for name in names:
        if name not in owned:
            store.drop(name)  # an older layout's, or a build whose record is gone
    return dropped


def _stored_vectors(store: VectorStore, build: str) -> dict[str, np.ndarray]:
    """Content-hash key -> vector, for every text a stored build embedded (its passages and its vectors)."""
    out: dict[str, np.ndarray] = {}
    for page in store.read(store.collection(build, "passages"), ["embeddings", "metadatas"]):
        for m, v in zip(page["metadatas"], page["embeddings"], strict=True):
            out[str(m["key"])] = np.asarray(v, dtype=np.float32)
    for page in store.read(store.collection(build, "vectors"), ["embeddings"]):
        out.update(zip(page["ids"], np.asarray(page["embeddings"], dtype=np.float32), strict=True))
    return out


def load_index(
    settings: Settings,
    model: str,
    store: VectorStore,
    state: IndexState | None = None,
    encoder: str = "torch",
) -> LoadedIndex:
    """Load the published build (or `state`'s) into memory, for a server whose queries are embedded by `model`
    on `encoder` (embed.backend). IndexMissing before the first ingest; IndexCorrupt when the build is
    incomplete or unreadable, EncoderMismatch when it was embedded by another model or encoder (it is never
    served)."""
    state = state or current_state(store)
    if state is None:
        raise IndexMissing(f"no index in {store.mode} yet: run `qa-service ingest` to build it")
    if not same_vectors((state.model, state.encoder), (model, encoder)):
        raise EncoderMismatch(
            f"index build {state.build} was embedded with {describe_encoder(state.model, state.encoder)}; "
            f"this server embeds queries with {describe_encoder(model, encoder)}, and vectors of two "
            "encoders are not comparable: run this server with the index's encoder, or `qa-service ingest "
            "--rebuild` with this one"
        )
    model = encoder_id(model, encoder)  # what the build's vectors are keyed by
    where = f"index build {state.build} in {store.mode}"
    try:
        if not _is_complete(store, state):
            counts = store.build_counts(state.build)
            raise IndexCorrupt(
                f"{where} is incomplete ({counts['passages']} of {state.chunks} passages, "
                f"{counts['vectors']} of {state.vectors} vectors, {counts['papers']} of {state.papers} "
                "documents); rebuild with `qa-service ingest --rebuild`"
            )
        papers_seq: list[tuple[int, Paper]] = []
        for page in store.read(store.collection(state.build, "papers"), ["documents", "metadatas"]):
            for d, m in zip(page["documents"], page["metadatas"], strict=True):
                papers_seq.append((int(m["seq"]), _paper_adapter.validate_json(d)))
        rows: list[tuple[int, Chunk, Any]] = []
        for page in store.read(store.collection(state.build, "passages"), ["metadatas", "embeddings"]):
            for m, v in zip(page["metadatas"], page["embeddings"], strict=True):
                rows.append((int(m["seq"]), _chunk_adapter.validate_json(str(m["chunk"])), v))
        vectors: dict[str, np.ndarray] = {}
        for page in store.read(store.collection(state.build, "vectors"), ["embeddings"]):
            vectors.update(zip(page["ids"], np.asarray(page["embeddings"], dtype=np.float32), strict=True))
        rows.sort(key=lambda r: r[0])
        chunks = [c for _, c, _ in rows]
        chunk_vectors = (
            np.asarray([v for _, _, v in rows], dtype=np.float32) if rows else np.zeros((0, 1), np.float32)
        )
        sents = _sentence_texts(chunks)
        sentence_vectors = (
            np.vstack([vectors[text_key(model, t)] for _, _, t in sents])
            if sents
            else np.zeros((0, chunk_vectors.shape[1]), np.float32)
        )
        words = (
            {
                w: v
                for w in Expander.corpus_words(c.text for c in chunks)
                if (v := vectors.get(text_key(model, w))) is not None
            }
            if state.words
            else {}
        )
    except MissingCollection as exc:
        raise IndexCorrupt(
            f"{where} is gone (pruned or deleted: {exc}); the next index check loads the current one"
        ) from exc
    except (ValidationError, KeyError, ValueError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(
            f"{where} is damaged ({exc.__class__.__name__}: {exc}); rebuild with `qa-service ingest --rebuild`"
        ) from exc
    return LoadedIndex(
        state=state,
        papers=[p for _, p in sorted(papers_seq, key=lambda x: x[0])],
        chunks=chunks,
        chunk_vectors=chunk_vectors,
        sentence_ids=[s for s, _, _ in sents],
        sentence_chunk=np.array([ci for _, ci, _ in sents], dtype=np.int32),
        sentence_vectors=sentence_vectors,
        lexical=LexicalIndex.build([lexical_text(c) for c in chunks]),
        word_vectors=words,
    )
