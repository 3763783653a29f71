"""The index on disk, built by ingest() and read by load_index().

Layout of the data directory:
  state.json                 the generation being served (replaced atomically, last step of an ingest)
  chroma/                    Chroma's own files (embedded mode); one collection per generation
  generations/<gen>/         papers.json, chunks.json, vectors.npz (content-hash keyed), bm25/
A generation id is a hash of the documents' contents and the chunking and model settings, so an unchanged
corpus is recognised without loading the model, and an interrupted ingest leaves the served one untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from qa_service.chunk import chunk_document, content_id
from qa_service.config import Settings
from qa_service.embed import Embedder, text_key
from qa_service.errors import IndexCorrupt, IndexMissing
from qa_service.lexical import LexicalIndex
from qa_service.models import Chunk, Paper
from qa_service.progress import progress_bar
from qa_service.store import VectorStore

SCHEMA = "5"
_chunks_adapter = TypeAdapter(list[Chunk])
_papers_adapter = TypeAdapter(list[Paper])


class IndexState(BaseModel):
    generation: str
    collection: str
    model: str
    created: str
    documents: dict[str, str]
    chunks: int
    sentences: int
    previous: str = ""


class IngestReport(BaseModel):
    generation: str
    documents: int
    chunks: int
    sentences: int
    embedded: int
    reused: int
    truncated: int
    seconds: float
    unchanged: bool
    store: str


@dataclass
class LoadedIndex:
    state: IndexState
    papers: list[Paper]
    chunks: list[Chunk]
    sentence_ids: list[str]
    sentence_chunk: np.ndarray  # row -> chunk index
    sentence_vectors: np.ndarray
    lexical: LexicalIndex
    by_id: dict[str, int] = field(default_factory=dict)
    sentence_row: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self.sentence_row = {s: i for i, s in enumerate(self.sentence_ids)}


def _gen_dir(data_dir: Path, gen: str) -> Path:
    return data_dir / "generations" / gen


def read_state(data_dir: Path) -> IndexState | None:
    path = data_dir / "state.json"
    if not path.exists():
        return None
    try:
        return IndexState.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(
            f"{path} is unreadable ({exc.__class__.__name__}); rebuild with `qa-service ingest --rebuild`"
        ) from exc


def _write_atomic(path: Path, data: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sentence_texts(chunks: list[Chunk]) -> list[tuple[str, int, str]]:
    return [(s.id, ci, s.text) for ci, c in enumerate(chunks) for s in c.sentences]


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


def generation_id(papers: list[Paper], settings: Settings, model: str) -> str:
    ix = settings.index
    parts = [SCHEMA, _pipeline_code(), model, str(ix.max_chunk_sentences), str(ix.max_chunk_words)]
    parts += [f"{p.doc_id}={p.sha256}" for p in sorted(papers, key=lambda p: p.doc_id)]
    return content_id(*parts, length=12)


def ingest(
    papers: list[Paper], settings: Settings, embedder: Embedder, store: VectorStore, rebuild: bool = False
) -> IngestReport:
    t0 = time.perf_counter()
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    model = embedder.name
    gen = generation_id(papers, settings, model)
    collection = f"{settings.index.collection_prefix}-{gen}"
    try:
        state = read_state(data_dir)
    except IndexCorrupt:
        state = None  # a damaged state file is rebuilt, not served
    chunks = build_chunks(papers, settings)
    sents = _sentence_texts(chunks)
    docs = {p.doc_id: p.sha256 for p in papers}

    def report(embedded: int, reused: int, truncated: int, unchanged: bool) -> IngestReport:
        return IngestReport(
            generation=gen,
            documents=len(papers),
            chunks=len(chunks),
            sentences=len(sents),
            embedded=embedded,
            reused=reused,
            truncated=truncated,
            unchanged=unchanged,
            seconds=round(time.perf_counter() - t0, 3),
            store=store.mode,
        )

    final = _gen_dir(data_dir, gen)
    if (
        not rebuild
        and state
        and state.generation == gen
        and (final / "complete").exists()
        and collection in store.collections()
        and store.count(collection) == len(chunks)
    ):
        return report(0, len(chunks) + len(sents), 0, unchanged=True)

    # Vectors: reuse what the served generation already embedded (content-hash keys), embed the rest.
    cache: dict[str, np.ndarray] = {}
    if state and not rebuild:
        cache = _load_vectors(_gen_dir(data_dir, state.generation))
    texts = {text_key(model, c.embed_text()): c.embed_text() for c in chunks}
    texts.update({text_key(model, t): t for _, _, t in sents})
    missing = [k for k in texts if k not in cache]
    truncated = 0
    if missing:
        with progress_bar("embedding", len(missing), settings.show_progress()) as advance:
            vecs = embedder.encode([texts[k] for k in missing], settings.index.batch_size, progress=advance)
        truncated = embedder.count_truncated([texts[k] for k in missing])
        cache.update(zip(missing, vecs, strict=True))
    keys = list(texts)
    matrix = (
        np.vstack([cache[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 384), np.float32)
    )

    tmp = final.with_name(gen + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "papers.json").write_bytes(_papers_adapter.dump_json(papers))
    (tmp / "chunks.json").write_bytes(_chunks_adapter.dump_json(chunks))
    np.savez(tmp / "vectors.npz", keys=np.array(keys), vectors=matrix)
    LexicalIndex.build([lexical_text(c) for c in chunks]).save(tmp / "bm25")

    store.create(collection)
    chunk_vecs = np.vstack([cache[text_key(model, c.embed_text())] for c in chunks])
    store.add(
        collection,
        [c.id for c in chunks],
        chunk_vecs,
        [c.text for c in chunks],
        [
            {
                "doc_id": c.doc_id,
                "section": c.section,
                "kind": c.kind,
                "source": c.source,
                "footnotes": c.footnotes,
                "page": c.page,
            }
            for c in chunks
        ],
    )
    (tmp / "complete").write_text(gen)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    new_state = IndexState(
        generation=gen,
        collection=collection,
        model=model,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        documents=docs,
        chunks=len(chunks),
        sentences=len(sents),
        previous=state.generation if state and state.generation != gen else "",
    )
    _write_atomic(data_dir / "state.json", new_state.model_dump_json(indent=2))
    _prune(data_dir, store, settings.index.collection_prefix, keep={gen, new_state.previous})
    return report(len(missing), len(keys) - len(missing), truncated, unchanged=False)


def lexical_text(chunk: Chunk) -> str:
    return chunk.embed_text()


def _prune(data_dir: Path, store: VectorStore, prefix: str, keep: set[str]) -> None:
    """Drop generations other than the current and the previous one (a running server may still read it)."""
    gens = data_dir / "generations"
    for d in gens.iterdir() if gens.exists() else []:
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    for name in store.collections():
        if name.startswith(prefix + "-") and name[len(prefix) + 1 :] not in keep:
            store.drop(name)


def _load_vectors(gen_dir: Path) -> dict[str, np.ndarray]:
    path = gen_dir / "vectors.npz"
    if not path.exists():
        return {}
    try:
        with np.load(path) as z:
            return dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    except Exception:
        return {}


def load_index(settings: Settings, model: str) -> LoadedIndex:
    state = read_state(settings.data_dir)
    if state is None:
        raise IndexMissing(f"no index in {settings.data_dir} yet: run `qa-service ingest` to build it")
    gdir = _gen_dir(settings.data_dir, state.generation)
    if not (gdir / "complete").exists():
        raise IndexCorrupt(
            f"index generation {state.generation} in {gdir} is incomplete; "
            "rebuild with `qa-service ingest --rebuild`"
        )
    try:
        papers = _papers_adapter.validate_json((gdir / "papers.json").read_bytes())
        chunks = _chunks_adapter.validate_json((gdir / "chunks.json").read_bytes())
        vectors = _load_vectors(gdir)
        sents = _sentence_texts(chunks)
        sentence_vectors = np.vstack([vectors[text_key(model, t)] for _, _, t in sents])
        lexical = LexicalIndex.load(gdir / "bm25", len(chunks))
    except (OSError, ValidationError, KeyError, ValueError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(
            f"index files in {gdir} are damaged ({exc.__class__.__name__}: {exc}); rebuild with "
            "`qa-service ingest --rebuild`"
        ) from exc
    return LoadedIndex(
        state=state,
        papers=papers,
        chunks=chunks,
        sentence_ids=[s for s, _, _ in sents],
        sentence_chunk=np.array([ci for _, ci, _ in sents], dtype=np.int32),
        sentence_vectors=sentence_vectors,
        lexical=lexical,
    )
