"""FootnoteRetriever inside a real llama-index RetrieverQueryEngine (MockLLM: the LLM is not under test):
the same passages, scores and footnotes as engine.search and POST /search."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import get_response_synthesizer
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode

from qa_service.engine import Engine
from qa_service.integrations.llama_index import FootnoteRetriever

QUERY = "frozen DAB assets moved to Switzerland"


def test_in_a_query_engine_same_passages_as_search(engine: Engine, client: Any) -> None:
    retriever = FootnoteRetriever(engine=engine, k=4)
    query_engine = RetrieverQueryEngine(
        retriever=retriever, response_synthesizer=get_response_synthesizer(llm=MockLLM(max_tokens=8))
    )
    response = query_engine.query(QUERY)
    hits = engine.search(QUERY, 4)
    nodes = response.source_nodes
    assert [n.node.node_id for n in nodes] == [h.chunk.id for h in hits]
    assert [n.score for n in nodes] == [h.score for h in hits]
    assert [n.node.get_content() for n in nodes] == [h.chunk.text for h in hits]
    api = client.post("/search", json={"query": QUERY, "k": 4}).json()
    for node, passage in zip(nodes, api, strict=True):
        meta = node.node.metadata
        assert meta["passage_id"] == passage["id"] and meta["document"] == passage["document"]
        assert meta["section"] == passage["section"] and meta["page"] == passage["page"]
        assert [f["number"] for f in meta["footnotes"]] == passage["footnotes"]
    moved = next(n for n in nodes if "Switzerland" in n.node.get_content())
    [note] = [f for f in moved.node.metadata["footnotes"] if f["number"] == 32]
    ref = engine.paper.reference(32)
    assert ref is not None and note["text"] == ref.text and note["url"] == ref.url and len(ref.text) > 20
    # what an LLM reads: the text with document, section and footnotes, not internal ids
    llm_view = moved.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "footnotes" in llm_view and "passage_id" not in llm_view and moved.node.get_content() in llm_view
    assert str(response)  # the MockLLM answered from these nodes


def test_no_arguments_opens_the_served_index(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_DATA_DIR", str(engine.settings.data_dir))
    retriever = FootnoteRetriever()
    nodes = retriever.retrieve("When did the SCO create a contact group?")
    assert [n.node.node_id for n in nodes] == [
        h.chunk.id for h in engine.search("When did the SCO create a contact group?")
    ]
    assert any("Contact Group" in n.node.get_content() for n in nodes)
