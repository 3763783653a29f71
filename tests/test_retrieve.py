from __future__ import annotations

import pytest

from qa_service.engine import Engine
from qa_service.errors import InvalidInput
from qa_service.retrieve import LRU, fuse_rrf


def test_rrf_by_id_with_weights_and_duplicates() -> None:
    fused = dict(fuse_rrf([["a", "b", "c"], ["b", "a", "b", "d"]], weights=[1.0, 2.0], k=10))
    assert fused["a"] == pytest.approx(1 / 11 + 2 / 12)
    assert fused["b"] == pytest.approx(
        1 / 12 + 2 / 11
    )  # b counted once in the second ranking, at its best rank
    assert fused["d"] == pytest.approx(2 / 13)  # ranks skip the repeated id
    assert [i for i, _ in fuse_rrf([["x", "y"], ["y", "x"]])] == ["x", "y"]  # ties break by id
    with pytest.raises(ValueError):
        fuse_rrf([["a"]], weights=[1.0, 1.0])


def test_lru_is_bounded() -> None:
    cache = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "When did the SCO create a contact group?",
            "In 2005, the Afghanistan Contact Group was created inside the SCO",
        ),
        ("Which groups operate in Afghanistan besides ISIL-K?", "These include Al-Qaida"),
        ("Who designed the layout?", "Layout and Design | Natalia Kopytnik"),
    ],
)
def test_hybrid_finds_the_passage(engine: Engine, question: str, expected: str) -> None:
    hits = engine.search(question, 5)
    assert any(expected in h.chunk.text for h in hits)
    assert all(h.chunk.id in engine.index.by_id for h in hits)
    assert len({h.chunk.id for h in hits}) == len(hits)


@pytest.mark.parametrize("mode", ["dense", "lexical", "sentence", "dense+lexical", "hybrid"])
def test_every_mode_returns_k_distinct_passages(engine: Engine, mode: str) -> None:
    hits = engine.search("sanctions on the Taliban and frozen assets", 7, mode)  # type: ignore[arg-type]
    assert len(hits) == 7 and len({h.chunk.id for h in hits}) == 7


@pytest.mark.parametrize(
    ("query", "k", "message"),
    [
        ("", 5, "empty"),
        ("   ", 5, "empty"),
        ("x" * 5000, 5, "limit"),
        ("ok", 0, "k must be"),
        ("ok", 999, "k must be"),
    ],
)
def test_bad_queries(engine: Engine, query: str, k: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        engine.search(query, k)


def test_expander_maps_a_readers_word_to_the_corpus_words_nearest_in_meaning() -> None:
    import numpy as np

    from qa_service.lexical import Expander

    vocab = ["meetings", "sanctions", "troops"]
    table = {
        "meetings": [1.0, 0.0, 0.0],
        "sanctions": [0.0, 1.0, 0.0],
        "troops": [0.0, 0.0, 1.0],
        "gatherings": [0.9, 0.1, 0.0],
        "weather": [0.3, 0.3, 0.3],
    }
    calls: list[list[str]] = []

    def encode(ws: list[str]) -> np.ndarray:
        calls.append(ws)
        return np.array([table[w] for w in ws])

    ex = Expander(vocab, encode(vocab), encode, min_similarity=0.6, per_word=2, cache_words=10)
    assert ex.expand(["gatherings", "meetings", "weather"]) == {"gatherings": ["meetings"]}
    ex.expand(["gatherings"])
    assert calls[-1] == ["gatherings", "weather"]  # known words are not embedded, asked ones once
    assert Expander.corpus_words(["The troops met; the meetings went on."]) == ["meetings", "met", "troops", "went"]


def test_readers_words_reach_the_papers_passages(engine: Engine) -> None:
    from qa_service.models import Message

    q = engine.analyse(
        [Message(role="user", content="What came out of the gatherings of foreign ministers?")]
    )
    assert "meetings" in q.expansions.get("gatherings", []) and "meetings" in q.lexical_query
    hits = engine.search("gatherings", 5, "lexical")
    assert hits == []  # the paper never says "gatherings": BM25 alone finds nothing
    expanded = engine.retriever.retrieve("gatherings", 5, "lexical", lexical_query=q.lexical_query)
    assert any("meeting" in h.chunk.text.lower() for h in expanded)
