"""FootnoteRetriever: the engine's hybrid retrieval as a llama-index BaseRetriever.

    from qa_service.integrations.llama_index import FootnoteRetriever
    retriever = FootnoteRetriever()                  # default Settings: the index `qa-service ingest` built
    retriever = FootnoteRetriever(engine=engine)     # or an engine you already hold
    RetrieverQueryEngine.from_args(retriever, llm=your_llm).query("...")

Each NodeWithScore is one passage, as POST /search returns it: the node id is the passage id, the score the
fused retrieval score, and the metadata carries document, section, page, source, kind and the footnotes
the passage's sentences cite, each with its reference text and URL.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.models import Chunk, Hit
from qa_service.retrieve import Mode
from qa_service.schemas import to_passage

LLM_HIDDEN = ["passage_id", "kind", "source"]  # kept in metadata, left out of what the LLM reads


class FootnoteRetriever(BaseRetriever):
    def __init__(
        self,
        engine: Engine | None = None,
        settings: Settings | None = None,
        k: int | None = None,
        mode: Mode = "hybrid",
        callback_manager: CallbackManager | None = None,
    ) -> None:
        """`engine`: an open engine; else one is opened from `settings` (default: Settings() from the
        environment, i.e. the index the service serves). `k`: passages per query (default from settings)."""
        self.engine = engine or Engine.open(settings or Settings())
        self.k = k
        self.mode: Mode = mode
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [self.node(h) for h in self.engine.search(query_bundle.query_str, self.k, self.mode)]

    def node(self, hit: Hit) -> NodeWithScore:
        p = to_passage(hit)
        metadata: dict[str, Any] = {
            "passage_id": p.id,
            "document": p.document,
            "section": p.section,
            "page": p.page,
            "source": p.source,
            "kind": p.kind,
            "footnotes": self.footnotes(hit.chunk),
        }
        node = TextNode(
            id_=p.id,
            text=p.text,
            metadata=metadata,
            excluded_llm_metadata_keys=LLM_HIDDEN,
            excluded_embed_metadata_keys=list(metadata),
        )
        return NodeWithScore(node=node, score=p.score)

    def footnotes(self, chunk: Chunk) -> list[dict[str, Any]]:
        """The passage's footnotes with their reference text, from the document whose notes they are."""
        notes = next((d for d in self.engine.index.papers if d.doc_id == chunk.notes_doc), None)
        out = []
        for n in chunk.footnotes:
            ref = notes.reference(n) if notes else None
            out.append(
                {
                    "document": chunk.notes_doc,
                    "number": n,
                    "text": ref.text if ref else "",
                    "url": ref.url if ref else None,
                }
            )
        return out
