"""Training the answer stage: the fitting pieces on small data, and one leave-one-writer-out run over a few
real items of two writers with the real engine (no item of the held-out writer reaches its training)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from qa_service.config import PROJECT_ROOT
from qa_service.decide import SIGNAL_NAMES
from qa_service.engine import Engine
from qa_service.evaluate import load_eval_sets
from qa_service.learn import (
    TrainingSettings,
    _logistic,
    conversations_for,
    examples_for,
    fit_decider,
    held_out_rows,
    is_evidence,
)
from qa_service.models import Message
from qa_service.weights import Weights


def test_sign_constraints_hold_a_weight_at_zero_rather_than_flip_it() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.3, size=400)) > 0  # column 1 works against the label
    _, _, free, _ = _logistic(x, y, 1.0)
    assert free[0] > 0 and free[1] < 0
    _, _, held, _ = _logistic(x, y, 1.0, signs=[1, 1])
    assert held[0] > 0 and held[1] == pytest.approx(0.0, abs=1e-6)


def test_the_threshold_keeps_false_abstention_within_the_target() -> None:
    rng = np.random.default_rng(1)
    n = 300
    answerable = rng.random(n) < 0.7
    x = rng.normal(size=(n, len(SIGNAL_NAMES))) + answerable[:, None] * 0.8
    right = answerable & (rng.random(n) < 0.8)
    d = fit_decider(x, right, answerable, TrainingSettings(max_false_abstention=0.05))
    p = d.probability(x)
    # a smooth quantile: the share under it is the target give or take an answer or two
    assert abs(np.mean(p[answerable] < d.threshold) - 0.05) <= 2 / answerable.sum()
    assert np.mean(p[~answerable] < d.threshold) > np.mean(p[answerable] < d.threshold)


def test_the_decider_weighs_answerability_and_reports_the_chance_of_being_right() -> None:
    rng = np.random.default_rng(2)
    n = 2000  # enough that column 0, which says nothing of answerability, weighs near 0 whatever the signals
    answerable = rng.random(n) < 0.7
    x = rng.normal(size=(n, len(SIGNAL_NAMES)))
    x[:, 1] += answerable * 1.0  # tells answerable questions from the rest
    hit = rng.random(n) < 0.6
    right = answerable & hit  # the reader misses 40% of answerable questions
    # column 0 tells the reader's hits from its misses, on every question alike: nothing of answerability
    x[:, 0] += hit * 1.5
    d = fit_decider(x, right, answerable, TrainingSettings())
    p = d.probability(x)
    # the confidence is the chance of being right (0.42 here), not of being answerable (0.70)
    assert np.mean(p) == pytest.approx(np.mean(right), abs=0.01)
    assert np.mean(p[answerable]) > np.mean(p[~answerable]) and np.mean(p[answerable]) < 0.7
    # the weights tell answerable from not: the reader's hits weigh nothing (a fit to "right" weighs them most)
    assert abs(d.coef[0]) < 0.2 * d.coef[1]
    # with no unanswerable question to learn from, the fit is to right answers
    only = fit_decider(x[answerable], right[answerable], answerable[answerable], TrainingSettings())
    assert only.coef[0] > only.coef[1] and np.mean(only.probability(x[answerable])) == pytest.approx(
        np.mean(right[answerable]), abs=0.02
    )


def test_evidence_matching_reads_through_quotes_and_case() -> None:
    assert is_evidence('He said "the West" failed.', ["he said “the west” failed"])
    assert not is_evidence("Something else entirely.", ["he said"])


def test_leave_one_writer_out_answers_each_writer_with_weights_it_never_trained_on(engine: Engine) -> None:
    every = [i for i in load_eval_sets(PROJECT_ROOT / "eval") if i.writer in ("reader-a", "student")]
    singles = [i for i in every if not i.conversation]
    convs = {w: [i for i in every if i.conversation and i.writer == w][:2] for w in ("reader-a", "student")}
    items = singles[:12] + singles[-12:] + convs["reader-a"] + convs["student"]
    assert {i.writer for i in items} == {"reader-a", "student"} and all(len(c) == 2 for c in convs.values())
    cfg = TrainingSettings(features=("cosine", "lexical"), compositions=TrainingSettings().compositions[:4])
    rows, folds = held_out_rows(engine, items, set(), cfg)
    assert set(folds) == {"reader-a", "student"}
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)
    assert all(
        f["writers"] == [next(w for w in ("reader-a", "student") if w != held)] for held, f in folds.items()
    )
    # each fold's reader also learnt from the other writer's conversations, never from its own writer's
    assert {held: f["follow_ups"] for held, f in folds.items()} == {
        "reader-a": {"student": 2},
        "student": {"reader-a": 2},
    }
    assert len(examples_for(engine, items)) == len(singles[:12] + singles[-12:])


def test_a_conversation_is_learnt_in_the_history_the_weights_being_trained_write(engine: Engine) -> None:
    item = next(i for i in load_eval_sets(PROJECT_ROOT / "eval") if i.conversation and len(i.turns) == 2)
    cache: dict[str, Any] = {}
    (conv,) = conversations_for(engine, [item], cache)
    weights = Weights.load()
    ex = conv.build(weights)
    first = engine.answer(engine.prepare([Message(role="user", content=item.turns[0])]), weights).answer
    history = [
        {"role": "user", "content": item.turns[0]},
        {"role": "assistant", "content": first},
        {"role": "user", "content": item.turns[1]},
    ]
    assert conv.writer == item.writer and ex.item is item
    assert (
        cache[json.dumps(history)] is ex.prepared
    )  # the last question, after the service's own first answer
    assert ex.prepared.question.text == " ".join(item.turns[1].split())
    assert ex.positive.shape == (len(ex.prepared.candidates),)


def test_the_decider_learns_from_the_judged_sentences(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`decider_rows` reads the signals of `Choice.judged`, as `engine.answer` decides on them: a sentence
    taken only to show the claim a reference entry is the source of is no evidence the decider may learn
    from. The answer's last sentence is marked as such a claim; the signals must be read of the others."""
    import qa_service.learn as learn_module
    from qa_service.answer import Choice
    from qa_service.evaluate import EvalItem
    from qa_service.learn import decider_rows, scores_of

    real_choose, real_signals = learn_module.choose, learn_module.signals
    marked: list[Choice] = []
    seen: list[list[Any]] = []

    def choose_marking_the_last(*args: Any, **kwargs: Any) -> Choice:
        c = real_choose(*args, **kwargs)
        marked.append(Choice(c.sentences, c.for_context, frozenset({id(c.sentences[-1])})))
        return marked[-1]

    def signals_seeing(q: Any, chosen: list[Any], *rest: Any) -> np.ndarray:
        seen.append(list(chosen))
        return real_signals(q, chosen, *rest)

    item = EvalItem(id="t1", writer="tester", question="Why do the neighbours oppose the sanctions?")
    (ex,) = examples_for(engine, [item])
    weights = Weights.load()
    scores = {id(ex): scores_of(weights.reader, ex)}
    monkeypatch.setattr(learn_module, "choose", choose_marking_the_last)
    monkeypatch.setattr(learn_module, "signals", signals_seeing)
    x, _, _ = decider_rows([ex], scores, weights.composition, engine.stats)
    assert marked and len(marked[-1].sentences) >= 2, "the question should be answered with several sentences"
    assert x.shape == (1, len(SIGNAL_NAMES))
    assert seen == [marked[-1].sentences[:-1]]
