"""The evaluation set is valid data, the metrics are right, and the pipeline stays above eval/thresholds.toml."""

from __future__ import annotations

from collections import Counter

import pytest

from qa_service.config import PROJECT_ROOT
from qa_service.engine import Engine
from qa_service.evaluate import (
    EvalItem,
    check_thresholds,
    engine_target,
    evidence_rank,
    fact_coverage,
    footnote_scores,
    load_eval_sets,
    load_items,
    load_thresholds,
    mrr,
    percentile,
    recall_at,
    run_eval,
)
from qa_service.models import Paper
from qa_service.text import normalize

EVAL = PROJECT_ROOT / "eval"


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    return load_items(EVAL / "questions.jsonl")


@pytest.fixture(scope="module")
def conversations() -> list[EvalItem]:
    return load_items(EVAL / "conversations.jsonl", category="conversation")


def test_question_set_shape(items: list[EvalItem], conversations: list[EvalItem]) -> None:
    assert len(items) >= 80 and len({i.id for i in items}) == len(items)
    unanswerable = [i for i in items if not i.answerable]
    assert len(unanswerable) >= 12
    cats = Counter(i.category for i in items)
    for c in (
        "factual",
        "definition",
        "quotation",
        "citation",
        "multihop",
        "paraphrase",
        "caption",
        "front_matter",
        "back_matter",
        "unanswerable",
        "injection",
    ):
        assert cats[c] >= 1, c
    for i in items:
        assert i.question and (not i.answerable or (i.must_include and i.gold_evidence)), i.id
    assert len(conversations) >= 10 and all(len(c.turns) >= 2 for c in conversations)


def test_gold_evidence_is_in_the_paper_and_footnotes_exist(
    paper: Paper, items: list[EvalItem], conversations: list[EvalItem]
) -> None:
    text = normalize(paper.text)
    numbers = {r.number for r in paper.references}
    for i in items + conversations:
        for ev in i.gold_evidence:
            assert normalize(ev) in text, f"{i.id}: {ev!r} is not in the paper"
        assert set(i.gold_footnotes) <= numbers, i.id


def test_metrics() -> None:
    assert evidence_rank(["a b", "The “SCO” — created", "x"], ['the "SCO" - created']) == 2
    assert evidence_rank(["nothing"], ["something"]) is None
    ranks = [1, 3, None, 6]
    assert recall_at(ranks, 1) == 0.25 and recall_at(ranks, 5) == 0.5
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 6) / 4)
    assert footnote_scores([1, 2, 2], [2, 3]) == (0.5, 0.5)  # an id twice counts once: never above 1
    assert footnote_scores([], [2]) == (None, 0.0) and footnote_scores([4], []) == (0.0, None)
    assert fact_coverage("In 2005 it was created", [["2005"], ["2009", "four years"]]) == 0.5
    assert fact_coverage("anything", []) is None
    assert percentile([5, 1, 3], 50) == 3


def test_thresholds_are_checked() -> None:
    th = {"min": {"mrr": 0.8}, "max": {"false_abstention_rate": 0.05}}
    assert check_thresholds({"mrr": 0.9, "false_abstention_rate": 0.0}, th) == []
    assert len(check_thresholds({"mrr": 0.7, "false_abstention_rate": 0.1}, th)) == 2


def test_pipeline_stays_above_thresholds_on_the_test_split(engine: Engine) -> None:
    every = load_eval_sets(EVAL)
    assert {i.set for i in every} == {"questions", "readers", "conversations"}
    report = run_eval(engine_target(engine), [i for i in every if i.split == "test"])
    assert set(report["splits"]) == {"test"}
    fails = check_thresholds(report["splits"]["test"], load_thresholds(EVAL / "thresholds.toml"))
    assert fails == [], fails
    assert max(r["answer_words"] for r in report["rows"]) <= 100  # factual answers stay concise


def test_runner_over_http_gives_the_in_process_numbers(
    engine: Engine, client: object, items: list[EvalItem]
) -> None:
    from qa_service.evaluate import http_target

    sample = items[:12]
    over_http = run_eval(http_target("http://testserver", client=client), sample)["summary"]
    in_process = run_eval(engine_target(engine), sample)["summary"]
    for key in ("evidence_recall_at_5", "mrr", "footnote_recall", "footnote_precision", "fact_coverage"):
        assert over_http[key] == in_process[key], key
