"""The llama-index quickstart pipeline on the same paper and model, as a baseline for eval and bench:
SentenceSplitter (256-token chunks), HuggingFaceEmbedding, ChromaVectorStore, VectorStoreIndex, dense top-k."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_service.models import Paper


@dataclass
class Baseline:
    retriever: Any
    chunks: int
    build_seconds: float
    embed_model: Any
    texts: list[str]

    def search(self, query: str) -> list[str]:
        return [n.node.get_content() for n in self.retriever.retrieve(query)]


def build_baseline(paper: Paper, model_path: str, k: int = 5, workdir: Path | None = None) -> Baseline:
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
        [Document(text=paper.text)]
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
