"""Retrieval-only baselines, answering the evaluation's items beside the service on the same word budget:

- the top passage of the service's own hybrid search (`/search`);
- the top sentences by plain MiniLM cosine among the sentences of the search's best passages;
- the llama-index quickstart pipeline on the same paper and model: SentenceSplitter (256-token chunks),
  HuggingFaceEmbedding, ChromaVectorStore, VectorStoreIndex, dense top-k; its top node.

A conversation is searched with its user turns joined (a retrieval-only system has no other memory)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_service.models import Paper

if TYPE_CHECKING:
    from qa_service.engine import Engine
    from qa_service.evaluate import Target


@dataclass
class Baseline:
    retriever: Any
    chunks: int
    build_seconds: float
    embed_model: Any
    texts: list[str]

    def search(self, query: str) -> list[str]:
        return [n.node.get_content() for n in self.retriever.retrieve(query)]


def build_baseline(
    papers: Sequence[Paper], model_path: str, k: int = 5, workdir: Path | None = None
) -> Baseline:
    """The llama-index quickstart over `papers` (one Document each, as its reader would load a folder of them)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    t0 = time.perf_counter()
    path = workdir or Path(tempfile.mkdtemp(prefix="qa-baseline-"))
    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("baseline", embedding_function=None)
    embed = HuggingFaceEmbedding(model_name=model_path, device="cpu")
    nodes = SentenceSplitter(chunk_size=256, chunk_overlap=20).get_nodes_from_documents(
        [Document(text=p.text) for p in papers]
    )
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed, show_progress=False)
    return Baseline(
        retriever=index.as_retriever(similarity_top_k=k),
        chunks=len(nodes),
        build_seconds=time.perf_counter() - t0,
        embed_model=embed,
        texts=[n.get_content() for n in nodes],
    )


def _query(messages: list[dict[str, str]]) -> str:
    return " ".join(m["content"] for m in messages if m["role"] == "user")


def _clip(text: str, words: int) -> str:
    return " ".join(text.split()[:words])


def top_passage_target(engine: Engine, words: int) -> Target:
    """The first passage `/search` returns, as the answer, with its footnotes."""
    from qa_service.models import FootnoteRef

    def call(messages: list[dict[str, str]]) -> dict[str, Any]:
        hits = engine.search(_query(messages), k=1)
        if not hits:
            return {"answer": "", "abstained": False, "passages": [], "footnotes": []}
        c = hits[0].chunk
        notes = [FootnoteRef(document=c.notes_doc, number=n) for n in c.footnotes]
        return {
            "answer": _clip(c.text, words),
            "abstained": False,
            "passages": [{"text": c.text}],
            "footnotes": [{"number": f.number, "document": f.document} for f in notes],
        }

    return call


def top_cosine_target(engine: Engine, words: int, passages: int = 10, sentences: int = 2) -> Target:
    """The `sentences` sentences with the highest MiniLM cosine among those of the top `passages` passages of
    `/search`, best first, with the footnotes that cover them."""

    def call(messages: list[dict[str, str]]) -> dict[str, Any]:
        query = _query(messages)
        hits = engine.search(query, k=passages)
        qvec = engine.retriever.embed(" ".join(query.split()))
        index = engine.index
        scored = []
        for h in hits:
            for s in h.chunk.sentences:
                row = index.sentence_row.get(s.id)
                if row is not None:
                    scored.append((float(index.sentence_vectors[row] @ qvec), s, h.chunk))
        best = sorted(scored, key=lambda t: -t[0])[:sentences]
        notes = {(c.notes_doc, n) for _, s, c in best for n in s.covered_by}
        return {
            "answer": _clip(" ".join(s.text for _, s, _ in best), words),
            "abstained": False,
            "passages": [{"text": h.chunk.text} for h in hits],
            "footnotes": [{"number": n, "document": d} for d, n in sorted(notes)],
        }

    return call


def llama_index_target(base: Baseline, words: int) -> Target:
    """The llama-index quickstart's top node as the answer (no footnotes: its chunks do not keep them)."""

    def call(messages: list[dict[str, str]]) -> dict[str, Any]:
        texts = base.search(_query(messages))
        return {
            "answer": _clip(texts[0], words) if texts else "",
            "abstained": False,
            "passages": [{"text": t} for t in texts],
            "footnotes": [],
        }

    return call
