"""ALCE-style citation precision and recall of generated answers: the metric functions with a toy judge, and
the runner in generate mode against the scripted LLM server (real engine, real HTTP on loopback)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import pytest

from llm_server import Reply, ScriptedLLM, find
from qa_service.config import LLMSettings
from qa_service.engine import Engine
from qa_service.evaluate import (
    EvalItem,
    citation_precision,
    citation_recall,
    engine_target,
    generated_statements,
    run_eval,
)
from qa_service.generate import Generator, supports


def judge(text: str, evidence: Sequence[str]) -> bool:
    """Toy judge: every word of the sentence is in the evidence."""
    have = set(" ".join(evidence).split())
    return set(text.split()) <= have


def test_recall_and_precision_by_alce_rules() -> None:
    statements: list[tuple[str, list[str | None]]] = [
        ("a b", ["a b c"]),  # supported by its one citation
        ("a d", ["a", "d"]),  # supported jointly: both citations needed, both relevant
        ("a b", ["a b", "x y"]),  # supported; "x y" is irrelevant (not alone, and the rest suffices)
        ("q", ["a"]),  # not supported: its citation is not relevant
        ("a", []),  # cites nothing: not supported
        ("a", [None]),  # cites evidence it was not given
    ]
    assert citation_recall(statements, judge) == pytest.approx(3 / 6)
    # citations: 1 + 2 + 2 + 1 + 0 + 1 = 7; relevant: 1 + 2 + 1 = 4
    assert citation_precision(statements, judge) == pytest.approx(4 / 7)
    assert citation_recall([], judge) is None and citation_precision([("a", [])], judge) is None


def test_statements_of_a_response() -> None:
    resp = {
        "evidence": [{"n": 1, "text": "e one"}, {"n": 2, "text": "e two"}],
        "generated": [{"text": "s1", "evidence": [1]}],
        "unsupported": [{"text": "s2", "evidence": [2, 9]}],
    }
    assert generated_statements(resp) == [("s1", ["e one"])]
    assert generated_statements(resp, shown_only=False) == [("s1", ["e one"]), ("s2", ["e two", None])]


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM().running() as server:
        yield server


def test_runner_in_generate_mode(engine: Engine, llm: ScriptedLLM) -> None:
    moved = "half of the DAB assets to a fund in Switzerland"

    def script(req: dict[str, Any]) -> Reply:
        n = find(req, moved)
        return Reply(
            text=f"The US moved half of the DAB assets to a fund in Switzerland [{n}]. It also paid $5 [{n}]."
        )

    llm.script = script
    cfg = LLMSettings(base_url=llm.url, model="scripted", timeout_s=60)
    target = engine_target(engine, generator=Generator(cfg), answer_mode="generate")
    items = [
        EvalItem(id="dab", question="Where did the US move half of the DAB assets?", gold_footnotes=[32]),
        EvalItem(id="none", question="Who won the 2022 FIFA World Cup?", answerable=False),
    ]
    report = run_eval(target, items, judge=partial(supports, cfg=cfg))
    s = report["summary"]
    assert s["generated_share"] == 1.0 and s["sentences_dropped_share"] == 0.5
    assert s["citation_recall_raw"] == 0.5 and s["citation_precision_raw"] == 0.5  # the invented "$5" fails
    assert s["citation_recall"] == 1.0 and s["citation_precision"] == 1.0  # what was shown
    assert s["footnote_precision"] == 1.0 and s["footnote_recall"] == 1.0  # footnote metrics beside them
    rows = {r["id"]: r for r in report["rows"]}
    assert rows["none"]["abstained"] is True and rows["none"]["sentences_written"] == 0
