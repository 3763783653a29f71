"""BM25 over the same chunks as the vector index (bm25s), persisted beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa_service.text import STOPWORDS, words

try:  # the Snowball stemmer is optional: without it BM25 matches whole words only
    import Stemmer

    _STEM = Stemmer.Stemmer("english")
except ImportError:  # pragma: no cover
    _STEM = None


def tokenize(text: str) -> list[str]:
    toks = [w for w in words(text) if w not in STOPWORDS]
    return list(_STEM.stemWords(toks)) if _STEM else toks


class LexicalIndex:
    """search(query, k) -> [(row, score)] over the texts it was built from, in the same order."""

    def __init__(self, retriever: object, size: int) -> None:
        self._bm25 = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        import bm25s

        bm = bm25s.BM25(k1=k1, b=b, method="lucene")
        corpus = [tokenize(t) or ["\x00"] for t in texts]
        bm.index(corpus, show_progress=False)
        return cls(bm, len(texts))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(directory))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), mmap=False), size)

    def scores(self, query: str) -> np.ndarray:
        # each query term counts once: repeating a word in a question does not double its weight
        toks = list(dict.fromkeys(t for t in tokenize(query) if t in self._bm25.vocab_dict))  # type: ignore[attr-defined]
        if not toks:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)  # type: ignore[attr-defined]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        s = self.scores(query)
        if not s.any():
            return []
        k = min(k, int((s > 0).sum()))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        return [(int(i), float(s[i])) for i in top]
