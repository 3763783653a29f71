"""The only module that talks to Chroma: embedded PersistentClient by default, a Chroma server by setting.

Chroma holds everything a server needs, so a replica needs nothing but Chroma's address. Each index *build*
(one ingest's output for one corpus generation) is three collections of its own, written in full before any
server may read them:
  <prefix>-<build>-passages   one record per passage: its vector, its text, filterable metadata and the
                              whole chunk as JSON (`chunk`), with its position in the index (`seq`)
  <prefix>-<build>-vectors    sentence and corpus-word vectors, keyed by content hash (embed.text_key)
  <prefix>-<build>-papers     one record per document: the parsed paper as JSON (metadata, sections,
                              references)
and one shared collection of small records, <prefix>-meta:
  current                     the build being served (an IndexState as JSON); replaced in one upsert, last
  build:<build>               a build's state and status (building | complete) and when it changed
  lease:<server>              the builds a running server holds or is loading, and its last heartbeat
Records that carry only a document still need a vector in Chroma: they get a constant one-dimensional one.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa_service.errors import IndexCorrupt, StoreUnavailable

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # before chromadb reads its settings

_PLACEHOLDER = [1.0]  # the vector of a record that is only a document (meta records, papers)
_PARTS = ("passages", "vectors", "papers")
# Chroma builds an HNSW graph for every collection. Passages get its defaults (they can be searched in
# Chroma); the vectors, papers and meta collections are only ever read by id, so their graph is built with
# the least effort Chroma allows: it halves the time to write 20,000 vectors.
_SEARCHED = {"hnsw:space": "cosine"}
_READ_BY_ID = {"hnsw:space": "cosine", "hnsw:construction_ef": 16, "hnsw:M": 8}


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


class MissingCollection(IndexCorrupt):
    """A collection the caller expected is not there (pruned by an ingest, or never written)."""


@dataclass(frozen=True)
class BuildRecord:
    build: str
    status: str  # "building" | "complete"
    ts: float  # when the status was written (seconds since the epoch, the writer's clock)
    state: str  # the build's IndexState as JSON


@dataclass(frozen=True)
class Lease:
    server: str
    builds: tuple[str, ...]
    ts: float


class VectorStore:
    def __init__(
        self,
        data_dir: Path,
        host: str = "",
        port: int = 8000,
        *,
        prefix: str = "qa",
        token: str = "",
        token_header: str = "Authorization",
        ssl: bool = False,
        batch: int = 1000,
    ) -> None:
        self.data_dir = data_dir
        self.host, self.port = host, port
        self.prefix, self.batch = prefix, batch
        self._token, self._token_header, self._ssl = token, token_header, ssl
        self._client: Any = None
        self._cols: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> VectorStore:
        return cls(
            settings.data_dir,
            settings.chroma_host,
            settings.chroma_port,
            prefix=settings.index.collection_prefix,
            token=settings.chroma_token,
            token_header=settings.chroma_token_header,
            ssl=settings.chroma_ssl,
            batch=settings.index.store_batch,
        )

    @property
    def mode(self) -> str:
        return f"server {self.host}:{self.port}" if self.host else f"embedded {self.data_dir / 'chroma'}"

    # ------------------------------------------------------------------ connection and errors

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

        auth: dict[str, Any] = {}
        if self._token:
            auth = {
                "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                "chroma_client_auth_credentials": self._token,
                "chroma_auth_token_transport_header": self._token_header,
            }
        cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False, **auth)
        try:
            if self.host:
                return chromadb.HttpClient(host=self.host, port=self.port, ssl=self._ssl, settings=cs)
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
            text = str(exc)
            if "does not exist" in text or exc.__class__.__name__ == "NotFoundError":
                raise MissingCollection(text) from exc
            if self.host:
                self._client, self._cols = None, {}  # reconnect on the next call: the server may come back
                raise StoreUnavailable(f"Chroma server at {self.host}:{self.port} failed: {exc}") from exc
            raise IndexCorrupt(f"Chroma error in {self.data_dir / 'chroma'}: {exc}") from exc

    def heartbeat(self) -> bool:
        try:
            self._call(lambda: self.client.heartbeat())
            return True
        except (StoreUnavailable, IndexCorrupt):
            return False

    # ------------------------------------------------------------------ collections

    def collections(self) -> list[str]:
        return [
            c if isinstance(c, str) else c.name for c in self._call(lambda: self.client.list_collections())
        ]

    def create(self, name: str, searched: bool = True) -> None:
        """A fresh, empty collection (a leftover of an interrupted ingest is dropped first); `searched`: will
        it be searched by similarity, or only read by id."""
        self.drop(name)
        meta = _SEARCHED if searched else _READ_BY_ID
        self._call(lambda: self.client.create_collection(name, embedding_function=None, metadata=dict(meta)))

    def drop(self, name: str) -> None:
        self._cols.pop(name, None)
        if name in self.collections():
            with contextlib.suppress(MissingCollection):  # dropped by someone else meanwhile
                self._call(lambda: self.client.delete_collection(name))

    def _col(self, name: str, create: bool = False) -> Any:
        col = self._cols.get(name)
        if col is None:
            if create:
                col = self._call(
                    lambda: self.client.get_or_create_collection(
                        name, embedding_function=None, metadata=dict(_READ_BY_ID)
                    )
                )
            else:
                col = self._call(lambda: self.client.get_collection(name, embedding_function=None))
            self._cols[name] = col
        return col

    def add(
        self,
        name: str,
        ids: Sequence[str],
        vectors: np.ndarray | None,
        documents: Sequence[str] | None = None,
        metadatas: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Add records in batches; `vectors` None gives each record the placeholder vector."""
        col = self._col(name)
        for i in range(0, len(ids), self.batch):
            sl = slice(i, i + self.batch)
            n = len(ids[sl])
            self._call(
                col.add,
                ids=list(ids[sl]),
                embeddings=vectors[sl] if vectors is not None else [_PLACEHOLDER] * n,
                documents=list(documents[sl]) if documents is not None else None,
                metadatas=[_flatten(m) for m in metadatas[sl]] if metadatas is not None else None,
            )

    def count(self, name: str) -> int:
        return int(self._call(self._col(name).count))

    def read(self, name: str, include: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every record of a collection, a page at a time: dicts with `ids` and the fields in `include`."""
        col = self._col(name)
        total = self.count(name)
        for offset in range(0, total, self.batch):
            yield self._call(col.get, include=list(include), limit=self.batch, offset=offset)

    def query(
        self, name: str, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest ids with cosine similarity, best first; `where`: a Chroma metadata filter."""
        col = self._col(name)
        res = self._call(
            col.query, query_embeddings=[vector.tolist()], n_results=k, where=where, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    # ------------------------------------------------------------------ index builds

    @property
    def meta(self) -> str:
        return f"{self.prefix}-meta"

    def collection(self, build: str, part: str) -> str:
        """The collection holding one part of a build: passages, vectors or papers."""
        return f"{self.prefix}-{build}-{part}"

    def _put(self, record: str, document: str, metadata: dict[str, Any]) -> None:
        col = self._col(self.meta, create=True)
        self._call(
            col.upsert, ids=[record], embeddings=[_PLACEHOLDER], documents=[document], metadatas=[metadata]
        )

    def _get(self, ids: list[str] | None = None, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
        """(id, document, metadata) of meta records by id, or of all whose id starts with `prefix`."""
        if self.meta not in self.collections():
            return []
        col = self._col(self.meta)
        if ids is not None:
            res = self._call(col.get, ids=ids, include=["documents", "metadatas"])
        else:
            res = self._call(col.get, include=["documents", "metadatas"])
        rows = zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        return [(i, d or "", m or {}) for i, d, m in rows if i.startswith(prefix)]

    def current(self) -> str | None:
        """The served build's state (JSON), or None before the first ingest."""
        rows = self._get(ids=["current"])
        return rows[0][1] if rows else None

    def publish(self, state: str) -> None:
        """Make a complete build the one served: one upsert, so a reader sees the old record or the new."""
        self._put("current", state, {"ts": time.time()})

    def begin_build(self, build: str, state: str) -> None:
        self._put(f"build:{build}", state, {"status": "building", "ts": time.time()})
        for part in _PARTS:
            self.create(self.collection(build, part), searched=part == "passages")

    def complete_build(self, build: str, state: str) -> None:
        self._put(f"build:{build}", state, {"status": "complete", "ts": time.time()})

    def builds(self) -> list[BuildRecord]:
        return [
            BuildRecord(i.removeprefix("build:"), str(m.get("status", "")), float(m.get("ts", 0.0)), d)
            for i, d, m in self._get(prefix="build:")
        ]

    def build_counts(self, build: str) -> dict[str, int]:
        """Records in each part of a build; a part that does not exist counts -1."""
        names = set(self.collections())
        return {
            p: self.count(self.collection(build, p)) if self.collection(build, p) in names else -1
            for p in _PARTS
        }

    def drop_build(self, build: str) -> None:
        for part in _PARTS:
            self.drop(self.collection(build, part))
        if self.meta in self.collections():
            self._call(self._col(self.meta).delete, ids=[f"build:{build}"])

    def owned_collections(self) -> list[str]:
        """Collections named with this service's prefix, other than the meta collection."""
        return [n for n in self.collections() if n.startswith(self.prefix + "-") and n != self.meta]

    def hold(self, server: str, builds: Sequence[str]) -> None:
        """A running server's lease (and heartbeat): ingest does not prune the builds it holds."""
        self._put(f"lease:{server}", json.dumps(list(builds)), {"ts": time.time()})

    def release(self, server: str) -> None:
        if self.meta in self.collections():
            self._call(self._col(self.meta).delete, ids=[f"lease:{server}"])

    def leases(self) -> list[Lease]:
        out = []
        for i, d, m in self._get(prefix="lease:"):
            try:
                builds = tuple(str(b) for b in json.loads(d))
            except (ValueError, TypeError):
                builds = ()
            out.append(Lease(i.removeprefix("lease:"), builds, float(m.get("ts", 0.0))))
        return out
