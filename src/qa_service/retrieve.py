"""retrieve(query) -> list[Hit]: dense, sentence-dense and BM25 rankings fused by RRF on chunk ids.

Both dense rankings are exact cosine over the build's vectors held in memory (LoadedIndex), so a request
costs one matrix-vector product and a partial sort per ranking, and never a round trip to Chroma."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from cachetools import LRUCache

from qa_service.config import RetrievalSettings
from qa_service.embed import Embedder
from qa_service.errors import InvalidInput
from qa_service.index import LoadedIndex
from qa_service.lexical import TermStats, feedback_terms
from qa_service.models import Hit
from qa_service.store import VectorStore

Mode = Literal["hybrid", "dense", "lexical", "sentence", "dense+lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical", "sentence", "dense+lexical")


def fuse_rrf(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = 60
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion keyed by id: score(id) = sum_r w_r / (k + rank_r(id)), ranks from 1.
    An id repeated within one ranking counts once, at its best rank. Ties break by id, so output is stable."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        seen: set[str] = set()
        rank = 0
        for item in ranking:
            if item in seen:
                continue
            seen.add(item)
            rank += 1
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class LRU:
    """A bounded, thread-safe LRU cache (cachetools) that counts its hits and misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: LRUCache[Hashable, object] = LRUCache(maxsize=max(size, 1))
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: Hashable, value: object) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first (ties by index): a partial sort, not a sort of all."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))]


class Retriever:
    def __init__(
        self,
        index: LoadedIndex,
        store: VectorStore,
        embedder: Embedder,
        cfg: RetrievalSettings,
        stats: TermStats | None = None,
    ) -> None:
        self.index, self.store, self.embedder, self.cfg = index, store, embedder, cfg
        self.stats = stats  # term statistics, for pseudo-relevance feedback
        self._vec_cache = LRU(cfg.cache_size)
        self._hit_cache = LRU(cfg.cache_size)

    def validate(self, query: str, k: int) -> str:
        q = " ".join(query.split())
        if not q:
            raise InvalidInput("query is empty")
        if len(q) > self.cfg.max_query_chars:
            raise InvalidInput(f"query is {len(q)} characters; the limit is {self.cfg.max_query_chars}")
        if not 1 <= k <= self.cfg.max_k:
            raise InvalidInput(f"k must be between 1 and {self.cfg.max_k}, got {k}")
        return q

    def remember(self, query: str, vector: np.ndarray) -> None:
        """A query's vector embedded elsewhere (in a batch with other texts of the same request)."""
        self._vec_cache.put(query, vector)

    def embed(self, query: str) -> np.ndarray:
        vec = self._vec_cache.get(query)
        if vec is None:
            vec = self.embedder.encode_query(query)
            self._vec_cache.put(query, vec)
        return vec  # type: ignore[return-value]

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        mode: Mode = "hybrid",
        references: bool = False,
        documents: frozenset[str] | None = None,
        depth: int | None = None,
        lexical_query: str | None = None,
    ) -> list[Hit]:
        """Top-k passages (or the top `depth`, past the callers' limit on k, for the answer stage to re-rank).
        Reference-list entries compete at `reference_weight` unless `references` is set (the question asks
        about sources), so bibliography lines do not crowd out the text. `documents`: only these documents
        and the sources they cite. `lexical_query`: what BM25 searches, when it differs from `query`."""
        k = self.cfg.final_k if k is None else k
        q = self.validate(query, k)
        n = max(k, depth or 0)
        lq = " ".join(lexical_query.split()) if lexical_query else q
        key = (q, lq, n, mode, references, documents)
        cached = self._hit_cache.get(key)
        if cached is not None:
            return list(cached)  # type: ignore[call-overload]
        hits = self._retrieve(q, n, mode, references, documents, lq)
        self._hit_cache.put(key, tuple(hits))
        return hits

    def _allowed(self, documents: frozenset[str] | None) -> np.ndarray | None:
        """Per-chunk mask of the documents asked for (and the sources they cite); None means all."""
        if documents is None:
            return None
        return self.index.doc_mask(documents)

    def clear_cache(self) -> None:
        self._vec_cache = LRU(self.cfg.cache_size)
        self._hit_cache = LRU(self.cfg.cache_size)

    def _retrieve(
        self,
        q: str,
        k: int,
        mode: Mode,
        references: bool,
        documents: frozenset[str] | None = None,
        lexical_query: str | None = None,
    ) -> list[Hit]:
        ix, cfg = self.index, self.cfg
        allowed = self._allowed(documents)
        rankings: list[list[str]] = []
        weights: list[float] = []
        dense: list[str] = []
        lexical: list[str] = []
        if mode in ("hybrid", "dense", "sentence", "dense+lexical"):
            vec = self.embed(q)
        if mode in ("hybrid", "dense", "dense+lexical"):
            # exact cosine over the passages in memory: a matrix-vector product and a partial sort
            sims = ix.chunk_vectors @ vec
            if allowed is not None:
                sims = np.where(allowed, sims, -np.inf)
            dense = [
                ix.chunks[int(i)].id for i in top_rows(sims, max(cfg.dense_k, k)) if np.isfinite(sims[i])
            ]
            rankings.append(dense)
            weights.append(cfg.dense_weight)
        if mode in ("hybrid", "sentence"):
            sims = ix.sentence_vectors @ vec
            if allowed is not None:
                sims = np.where(allowed[ix.sentence_chunk], sims, -np.inf)
            best: dict[int, float] = {}
            for row in top_rows(sims, max(cfg.dense_k, k) * 3):
                if not np.isfinite(sims[row]):
                    break
                ci = int(ix.sentence_chunk[row])
                best.setdefault(ci, float(sims[row]))
            rankings.append([ix.chunks[ci].id for ci in best][: max(cfg.dense_k, k)])
            weights.append(cfg.sentence_weight)
        if mode in ("hybrid", "lexical", "dense+lexical"):
            lq = lexical_query or q
            extra: list[str] = []
            if cfg.prf_terms and self.stats is not None:
                first = ix.lexical.search(lq, cfg.prf_passages, allowed)
                extra = feedback_terms(lq, [ix.chunks[i].text for i, _ in first], self.stats, cfg.prf_terms)
            found = ix.lexical.search(lq, max(cfg.lexical_k, k), allowed, extra)
            lexical = [ix.chunks[i].id for i, _ in found]
            rankings.append(lexical)
            weights.append(cfg.lexical_weight)
        fused = fuse_rrf(rankings, weights, cfg.rrf_k)
        if not references and cfg.reference_weight != 1.0:
            fused = sorted(
                (
                    (
                        cid,
                        sc * (cfg.reference_weight if ix.chunks[ix.by_id[cid]].kind == "reference" else 1.0),
                    )
                    for cid, sc in fused
                ),
                key=lambda kv: (-kv[1], kv[0]),
            )
        fused = fused[:k]
        d_rank = {cid: r for r, cid in enumerate(dense, 1)}
        l_rank = {cid: r for r, cid in enumerate(lexical, 1)}
        return [
            Hit(
                chunk=ix.chunks[ix.by_id[cid]],
                score=round(s, 6),
                dense_rank=d_rank.get(cid),
                lexical_rank=l_rank.get(cid),
            )
            for cid, s in fused
            if cid in ix.by_id
        ]
