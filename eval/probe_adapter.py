"""A learned query adapter, and what leave-one-writer-out does not hold out (eval/TRIED.md, 2026-12-05 20:49).

    .venv/bin/python eval/probe_adapter.py --split writer --l2 0.01 --steps 100  # held out by writer: ~3 min
    .venv/bin/python eval/probe_adapter.py --split region --l2 0.1           # by writer and place in the paper: ~4 min
    .venv/bin/python eval/probe_adapter.py --split region --l2 0.2 --reader  # inside the reader: ~15 min

The adapter maps the question's MiniLM vector q to q + qW (W 384x384, L2 on W), fitted by a softmax over each
question's candidate sentences (positives: gold evidence) on the training writers' answerable single questions; the
candidates' cosine with it is compared with plain cosine: how often the top sentence is gold evidence (top-1), the
top two hold it, and the mean reciprocal rank.

`--split writer`: each writer held out, the adapter fitted on the others. Every writer asks about the same paper, so
the adapter can learn which of its sentences are answers: a gain here is memory as much as reading.
`--split region`: the questions also grouped in four blocks by where their gold evidence lies in the paper; a
writer's questions about one block are answered by an adapter fitted on the other writers' questions about the other
blocks. `--reader`: the adapted cosine (and its gap to the best) in place of plain cosine among the shipped reader's
features, the logistic reader refitted on the training split (its rows' adapted cosines cross-fitted by block).

A dev probe, not part of the service; never on the pure-test writers.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

import qa_service.engine as engine_module
from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.evaluate import load_eval_sets, load_pure_test
from qa_service.learn import is_evidence
from qa_service.models import Message

BLOCKS = 4  # parts of the paper, by where the questions' gold evidence lies
TEMPERATURE = 0.05  # of the softmax over a question's candidates (cosines span about 0.2-0.7)
LEARNING_RATE = 0.01


def collect(engine: Engine, settings: Settings) -> tuple[list[dict[str, Any]], torch.Tensor]:
    """Every answerable single question of the training writers whose candidates hold gold evidence: its vector,
    its candidates' sentence rows, which of them are evidence, and the shipped reader's features (first part)."""
    captured: dict[str, np.ndarray] = {}
    gather = engine_module.gather

    def spy(q: Any, qvec: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        captured["q"] = qvec.copy()
        return gather(q, qvec, *args, **kwargs)

    engine_module.gather = spy
    pure = load_pure_test(settings.eval_dir)
    items = [i for i in load_eval_sets(settings.eval_dir) if i.writer not in pure and not i.conversation]
    out = []
    try:
        for item in items:
            if not item.answerable:
                continue
            p = engine.prepare([Message(role="user", content=item.question)])
            cands = p.candidates
            positive = np.array([is_evidence(c.text, item.gold_evidence) for c in cands], dtype=bool)
            if not cands or not positive.any():
                continue
            out.append(
                {
                    "writer": item.writer,
                    "q": captured["q"],
                    "rows": np.array([c.row for c in cands]),
                    "pos": positive,
                    "x": np.vstack([c.features[0] for c in cands]),
                }
            )
    finally:
        engine_module.gather = gather
    centres = sorted(int(np.median(x["rows"][x["pos"]])) for x in out)
    cuts = [centres[int(len(centres) * k / BLOCKS)] for k in range(1, BLOCKS)]
    for x in out:
        x["block"] = sum(int(np.median(x["rows"][x["pos"]])) >= c for c in cuts)
    return out, torch.tensor(engine.index.sentence_vectors, dtype=torch.float32)


def fit(train: list[dict[str, Any]], vectors: torch.Tensor, l2: float, steps: int) -> torch.Tensor:
    torch.manual_seed(0)
    w = torch.zeros(vectors.shape[1], vectors.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w], lr=LEARNING_RATE)
    q = torch.tensor(np.vstack([x["q"] for x in train]), dtype=torch.float32)
    for _ in range(steps):
        opt.zero_grad()
        adapted = q + q @ w
        adapted = adapted / adapted.norm(dim=1, keepdim=True)
        loss = torch.zeros(())
        for i, x in enumerate(train):
            s = (vectors[x["rows"]] @ adapted[i]) / TEMPERATURE
            loss = loss + torch.logsumexp(s, 0) - torch.logsumexp(s[torch.tensor(x["pos"])], 0)
        (loss / len(train) + l2 * (w**2).sum()).backward()
        opt.step()
    return w.detach()


def cosines(x: dict[str, Any], vectors: torch.Tensor, w: torch.Tensor | None) -> np.ndarray:
    q = torch.tensor(x["q"], dtype=torch.float32)
    if w is not None:
        q = q + q @ w
        q = q / q.norm()
    return (vectors[x["rows"]] @ q).numpy()


def ranks(x: dict[str, Any], scores: np.ndarray) -> np.ndarray:
    hit = x["pos"][np.argsort(-scores)]
    return np.array([hit[0], hit[:2].any(), 1.0 / (1 + int(np.argmax(hit)))], dtype=float)


def features(x: dict[str, Any], vectors: torch.Tensor, w: torch.Tensor | None) -> np.ndarray:
    """The reader's features with the adapted cosine as `cosine` and its gap to the best as `cosine_gap`."""
    f = x["x"].copy()
    if w is not None:
        c = cosines(x, vectors, w)
        f[:, 0], f[:, 1] = c, c - c.max()
    return f


def reader(rows: list[np.ndarray], labels: list[np.ndarray]) -> Any:
    x, y = np.vstack(rows), np.concatenate(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return lambda f: model.decision_function((f - mean) / scale)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("writer", "region"), default="region")
    ap.add_argument("--l2", type=float, default=0.1, help="L2 weight on the adapter")
    ap.add_argument("--steps", type=int, default=60, help="Adam steps, full batch")
    ap.add_argument("--reader", action="store_true", help="inside the reader (region split only)")
    args = ap.parse_args()
    settings = Settings()
    data, vectors = collect(Engine.open(settings), settings)
    writers = sorted({x["writer"] for x in data})
    totals = {"plain": np.zeros(3), "adapted": np.zeros(3)}
    n = 0
    blocks: list[int | None] = [None] if args.split == "writer" else list(range(BLOCKS))
    groups = [(w, b) for b in blocks for w in writers]
    for w, b in groups:
        test = [x for x in data if x["writer"] == w and (b is None or x["block"] == b)]
        train = [x for x in data if x["writer"] != w and (b is None or x["block"] != b)]
        if not test:
            continue
        adapter = fit(train, vectors, args.l2, args.steps)
        if args.reader and b is not None:
            folds = {
                k: fit([x for x in train if x["block"] != k], vectors, args.l2, args.steps)
                for k in {x["block"] for x in train}
            }
            plain = reader([features(x, vectors, None) for x in train], [x["pos"] for x in train])
            adapted = reader([features(x, vectors, folds[x["block"]]) for x in train], [x["pos"] for x in train])
            for x in test:
                totals["plain"] += ranks(x, plain(features(x, vectors, None)))
                totals["adapted"] += ranks(x, adapted(features(x, vectors, adapter)))
        else:
            for x in test:
                totals["plain"] += ranks(x, cosines(x, vectors, None))
                totals["adapted"] += ranks(x, cosines(x, vectors, adapter))
        n += len(test)
    what = "reader" if args.reader else "cosine"
    for name, t in totals.items():
        top1, top2, mrr = t / n
        print(f"{name} {what}: top-1 {top1:.3f}  top-2 {top2:.3f}  MRR {mrr:.3f}  ({n} questions, {args.split} split)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
