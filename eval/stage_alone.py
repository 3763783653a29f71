"""Leave-one-writer-out for one stage of the answer at a time: faster than the whole procedure, for trying variants.

    .venv/bin/python eval/stage_alone.py decider    # ~40 s: the decider refitted per held-out writer
    .venv/bin/python eval/stage_alone.py decider --ablate   # the same with each signal in turn held constant
    .venv/bin/python eval/stage_alone.py reader     # ~2 min: the reader refitted per held-out writer

`decider`: one full training on the training writers (`learn.train`, whose decider rows already carry reader
scores held out by writer) is run once and its decider rows kept; the decider is then refitted without each
writer (`learn.fit_decider`, the shipped threshold rule) and judged on that writer: near-miss abstention, false
abstention, AUC of answerable against unanswerable. `--quantile` sets the threshold's quantile; `--ablate` also
prints the macro figures with each signal in turn held constant (as if it were not there).
`reader`: the training writers' single questions; the reader refitted without each writer (`learn.fit_reader`),
the writer's answers composed with the shipped composition and no abstention: fact coverage held out, and how
often the top sentence is gold evidence.

Each reproduces its stage's share of `qa-service eval`'s leave-one-writer-out closely, not exactly (the full run
refits the reader, the composition, the decider and the threshold together): only the full run decides what lands.
Never on the pure-test writers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np

from qa_service import learn
from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.evaluate import load_eval_sets, load_pure_test
from qa_service.weights import Weights


def decider_rows(engine: Engine, items: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(signals, right, answerable, writer) of the decider's rows in one full training."""
    captured: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]] = []
    original = learn.decider_rows

    def rows(examples: Any, scores: Any, how: Any, stats: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, right, answerable = original(examples, scores, how, stats)
        writers = [
            e.writer
            for e in examples
            if e.x and not e.prepared.pinned and learn.chosen_for(e, scores[id(e)], how)
        ]
        captured.append((x, right, answerable, writers))
        return x, right, answerable

    learn.decider_rows = rows
    try:
        examples = learn.examples_for(engine, items)
        learn.train(examples, engine.stats, conversations=learn.conversations_for(engine, items, {}))
    finally:
        learn.decider_rows = original
    x, right, answerable, writers = captured[-1]
    return x, right, answerable, np.array(writers)


def decider(engine: Engine, items: list[Any], quantile: float, ablate: bool = False) -> None:
    from qa_service.decide import SIGNAL_NAMES

    x, right, answerable, writers = decider_rows(engine, items)
    cfg = dataclasses.replace(learn.TrainingSettings(), max_false_abstention=quantile)
    print(f"macro: {_decider_folds(x, right, answerable, writers, cfg, verbose=True)}")
    for j, name in enumerate(SIGNAL_NAMES if ablate else []):
        held = x.copy()
        held[:, j] = 0.0  # a constant column: its weight can only be 0
        print(f"without {name}: {_decider_folds(held, right, answerable, writers, cfg)}")


def _decider_folds(
    x: np.ndarray,
    right: np.ndarray,
    answerable: np.ndarray,
    writers: np.ndarray,
    cfg: Any,
    verbose: bool = False,
) -> str:
    from sklearn.metrics import roc_auc_score

    near, false, auc = [], [], []
    for w in sorted(set(writers.tolist())):
        train = writers != w
        d = learn.fit_decider(x[train], right[train], answerable[train], cfg)
        p, a = d.probability(x[~train]), answerable[~train]
        near.append(float(np.mean(p[~a] < d.threshold)))
        false.append(float(np.mean(p[a] < d.threshold)))
        auc.append(float(roc_auc_score(a, p)))
        if verbose:
            print(f"{w:12s} near-miss {near[-1]:.3f}  false {false[-1]:.3f}  AUC {auc[-1]:.3f}")
    return (
        f"near-miss abstention {np.mean(near):.4f}, false abstention {np.mean(false):.4f} "
        f"(worst {max(false):.3f}), AUC {np.mean(auc):.4f}"
    )


def reader(engine: Engine, items: list[Any]) -> None:
    examples = [e for e in learn.examples_for(engine, items) if e.x]
    how = Weights.load().composition
    features = list(learn.TrainingSettings().features)
    c = learn.TrainingSettings().regularisation
    coverage, top = [], []
    for w in sorted({e.writer for e in examples}):
        fitted = learn.fit_reader([e for e in examples if e.writer != w], features, c)
        held = [e for e in examples if e.writer == w and e.answerable]
        per = [learn.scores_of(fitted, e) for e in held]
        chosen = [learn.chosen_for(e, s, how) for e, s in zip(held, per, strict=True)]
        coverage.append(float(np.mean([learn.coverage(e, ch) for e, ch in zip(held, chosen, strict=True)])))
        top.append(float(np.mean([e.positive[int(np.argmax(s[0]))] for e, s in zip(held, per, strict=True)])))
        print(f"{w:12s} facts {coverage[-1]:.3f}  top sentence is evidence {top[-1]:.3f}")
    print(f"macro: facts {np.mean(coverage):.4f}, top sentence is evidence {np.mean(top):.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stage", choices=["decider", "reader"])
    ap.add_argument("--quantile", type=float, default=learn.TrainingSettings().max_false_abstention)
    ap.add_argument("--ablate", action="store_true", help="decider: each signal in turn held constant")
    args = ap.parse_args()
    settings = Settings()
    engine = Engine.open(settings)
    pure = load_pure_test(settings.eval_dir)
    items = [i for i in load_eval_sets(settings.eval_dir) if i.writer not in pure]
    if args.stage == "decider":
        decider(engine, items, args.quantile, args.ablate)
    else:
        reader(engine, items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
