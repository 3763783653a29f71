"""The only module that talks to Chroma: embedded PersistentClient by default, a Chroma server by setting.

Each index generation is its own collection (`<prefix>-<generation>`); ingest fills a new one and switches
to it only when complete, so an interrupted ingest never touches the collection being served.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa_service.errors import IndexCorrupt, StoreUnavailable

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # before chromadb reads its settings


def _flatten(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma rejects None and nested values: drop None, keep scalars and non-empty scalar lists."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if v is None:
            continue
        if isinstance(v, list | tuple):
            if v:
                out[k] = list(v)
        elif isinstance(v, str | int | float | bool):
            out[k] = v
        else:
            out[k] = str(v)
    return out


class VectorStore:
    def __init__(self, data_dir: Path, host: str = "", port: int = 8000) -> None:
        self.data_dir = data_dir
        self.host, self.port = host, port
        self._client: Any = None
        self._cols: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return f"server {self.host}:{self.port}" if self.host else f"embedded {self.data_dir / 'chroma'}"

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.host:
                return chromadb.HttpClient(host=self.host, port=self.port, settings=cs)
            path = self.data_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=cs)
        except Exception as exc:
            if self.host:
                raise StoreUnavailable(
                    f"Chroma server at {self.host}:{self.port} is unreachable: {exc}"
                ) from exc
            raise IndexCorrupt(
                f"cannot open the Chroma data in {self.data_dir / 'chroma'}: {exc}. "
                "Rebuild with `qa-service ingest --rebuild`."
            ) from exc

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StoreUnavailable, IndexCorrupt):
            raise
        except Exception as exc:
            if self.host:
                self._client, self._cols = None, {}  # reconnect on the next call: the server may come back
                raise StoreUnavailable(f"Chroma server at {self.host}:{self.port} failed: {exc}") from exc
            raise IndexCorrupt(
                f"Chroma index error: {exc}. Rebuild with `qa-service ingest --rebuild`."
            ) from exc

    def heartbeat(self) -> bool:
        try:
            self._call(lambda: self.client.heartbeat())
            return True
        except (StoreUnavailable, IndexCorrupt):
            return False

    def collections(self) -> list[str]:
        return [
            c if isinstance(c, str) else c.name for c in self._call(lambda: self.client.list_collections())
        ]

    def create(self, name: str) -> None:
        """A fresh, empty collection (a leftover of an interrupted ingest is dropped first)."""
        self.drop(name)
        self._call(
            lambda: self.client.create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        )

    def drop(self, name: str) -> None:
        self._cols.pop(name, None)
        if name in self.collections():
            self._call(lambda: self.client.delete_collection(name))

    def _col(self, name: str) -> Any:
        col = self._cols.get(name)
        if col is None:
            col = self._call(lambda: self.client.get_collection(name, embedding_function=None))
            self._cols[name] = col
        return col

    def add(
        self,
        name: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        batch: int = 1000,
    ) -> None:
        col = self._col(name)
        for i in range(0, len(ids), batch):
            sl = slice(i, i + batch)
            self._call(
                col.add,
                ids=list(ids[sl]),
                embeddings=vectors[sl].tolist(),
                documents=list(documents[sl]),
                metadatas=[_flatten(m) for m in metadatas[sl]],
            )

    def count(self, name: str) -> int:
        return int(self._call(self._col(name).count))

    def query(
        self, name: str, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest ids with cosine similarity, best first; `where`: a Chroma metadata filter."""
        col = self._col(name)
        res = self._call(
            col.query, query_embeddings=[vector.tolist()], n_results=k, where=where, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
