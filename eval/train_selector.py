"""Train the sentence-selection and answerability models on the DEV split; write their weights.

    .venv/bin/python eval/train_selector.py            # writes src/qa_service/data/selector.json
    .venv/bin/python eval/train_selector.py --check    # trains and reports, writes nothing

What it does, on the dev items of eval/questions.jsonl, eval/readers.jsonl and eval/conversations.jsonl
(never the test split):
1. For each question, the candidates the service itself would consider (question analysis, deep hybrid
   retrieval, neighbouring passages) and their features (selection.FEATURES). A candidate sentence is a
   positive when it holds one of the item's gold evidence strings.
2. A logistic regression over standardised features, its regularisation chosen by grouped cross-validation
   (folds by question, so no question is in its own training fold); reported: out-of-fold top-1 sentence
   accuracy and passage recall@5 after re-ranking, against the fused retrieval order.
3. The answerability model on the out-of-fold sentence scores: answerable (1) vs unanswerable (0) dev items;
   the abstention threshold is the highest that keeps out-of-fold false abstention on answerable items at
   or under --max-false-abstention.
Deterministic: fixed folds, no randomness; the output depends only on the dev items and the index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from qa_service.answer import answerable_features, candidates, choose, eligible
from qa_service.config import AnswerSettings, Settings
from qa_service.engine import Engine, run_ingest
from qa_service.evaluate import EvalItem, load_eval_sets
from qa_service.models import Message
from qa_service.selection import ANSWERABLE_NAMES, FEATURE_NAMES, WEIGHTS_FILE
from qa_service.text import normalize

C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
FOLDS = 5


def is_evidence(sentence: str, gold: list[str]) -> bool:
    s = normalize(sentence)
    for g in gold:
        g = normalize(g)
        if g in s or (len(s) >= 40 and s in g):
            return True
    return False


def fold_of(record_id: str) -> int:
    """A question and the near-misses made from it share a fold, so neither is scored by a model that saw
    the other."""
    return int(hashlib.sha256(record_id.split("~")[0].encode()).hexdigest(), 16) % FOLDS


def near_misses(engine: Engine, items: list[EvalItem]) -> list[EvalItem]:
    """Unanswerable near-misses made from answerable dev questions: the first name the question asks about
    swapped for another name the dev questions use that the gold evidence does not mention ("When did India
    reopen its embassy?" -> "When did Iran reopen its embassy?"). They teach the answerability model what
    a question about the wrong actor looks like; they never train the sentence model."""
    analysed = {i.id: engine.analyse([Message(**m) for m in i.messages()]) for i in items if i.question}
    pool = sorted({e.text for q in analysed.values() for e in q.entities if e.asked and e.known})
    out = []
    for it in items:
        q = analysed.get(it.id)
        if q is None or not it.answerable or not it.gold_evidence:
            continue
        asked = [e for e in q.entities if e.asked and e.known and e.text in it.question]
        if not asked:
            continue
        evidence = " ".join(it.gold_evidence).lower()
        named = " ".join(e.text for e in q.entities).lower()
        others = [n for n in pool if n.lower() not in evidence and n.lower() not in named]
        if not others:
            continue
        other = min(others, key=lambda n: hashlib.sha256(f"{it.id}|{n}".encode()).hexdigest())
        question = it.question.replace(asked[0].text, other, 1)
        out.append(
            it.model_copy(
                update={"id": f"{it.id}~swap", "question": question, "answerable": False, "gold_evidence": []}
            )
        )
    return out


def collect(engine: Engine, items: list[EvalItem]) -> list[dict]:
    """One record per question: candidate features per part, labels, fused order."""
    k = engine.settings.retrieval.final_k
    out = []
    for it in items:
        msgs = [Message(**m) for m in it.messages()]
        q = engine.analyse(msgs)
        if q.injection:
            continue
        q, query, hits, pinned = engine.candidate_passages(q, k)
        pool, cands, mats = candidates(
            q,
            engine.retriever.embed(query),
            hits,
            engine.index,
            engine.stats,
            engine.settings.answer,
            engine.expander,
        )
        labels = np.array([is_evidence(c.text, it.gold_evidence) for c in cands], dtype=int)
        out.append(
            {
                "id": it.id,
                "pinned": pinned,
                "answerable": it.answerable,
                "q": q,
                "cands": cands,
                "mats": mats,
                "labels": labels,
                "pool": [h.chunk.id for h in pool],
                "fused_rank": [c.hit for c in cands],
                "gold": it.gold_evidence,
            }
        )
    return out


def fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(x), y)
    return scaler, model


def sentence_rows(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows: every part's features of every candidate of answerable questions with evidence."""
    xs, ys, groups = [], [], []
    for gi, r in enumerate(records):
        if not r["answerable"] or not r["labels"].any():
            continue
        for m in r["mats"]:
            xs.append(m)
            ys.append(r["labels"])
            groups.append(np.full(len(r["labels"]), gi))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def oof_scores(records: list[dict], c: float) -> list[list[np.ndarray]]:
    """Out-of-fold probability of every candidate of every record, per part of the question."""
    folds = np.array([fold_of(r["id"]) for r in records])
    scores: list[list[np.ndarray]] = [[] for _ in records]
    for f in range(FOLDS):
        train = [r for r, fo in zip(records, folds, strict=True) if fo != f]
        x, y, _ = sentence_rows(train)
        scaler, model = fit(x, y, c)
        for i, r in enumerate(records):
            if folds[i] == f:
                scores[i] = [model.predict_proba(scaler.transform(m))[:, 1] for m in r["mats"]]
    return scores


def best_of_parts(per_part: list[np.ndarray]) -> np.ndarray:
    return np.max(np.vstack(per_part), axis=0)


def passage_recall(r: dict, order: list[str], k: int = 5) -> bool:
    pos = {cid for c, lab in zip(r["cands"], r["labels"], strict=True) if lab for cid in [c.chunk.id]}
    return bool(pos & set(order[:k]))


def evaluate_sentence(records: list[dict], per_part: list[list[np.ndarray]]) -> dict[str, float]:
    scores = [best_of_parts(p) for p in per_part]
    useful = [(r, s) for r, s in zip(records, scores, strict=True) if r["answerable"] and r["labels"].any()]
    top1 = sum(int(r["labels"][int(np.argmax(s))]) for r, s in useful) / len(useful)
    fused = sum(passage_recall(r, r["pool"]) for r, _ in useful) / len(useful)
    reranked = 0
    for r, s in useful:
        best: dict[str, float] = {}
        for c, sc in zip(r["cands"], s, strict=True):
            best[c.chunk.id] = max(best.get(c.chunk.id, 0.0), float(sc))
        order = sorted(r["pool"], key=lambda cid: -best.get(cid, 0.0))
        reranked += passage_recall(r, order)
    return {
        "questions": len(useful),
        "top1_sentence_accuracy": round(top1, 4),
        "passage_recall_at_5_fused": round(fused, 4),
        "passage_recall_at_5_reranked": round(reranked / len(useful), 4),
    }


def answerable_rows(
    records: list[dict], per_part: list[list[np.ndarray]], cfg: AnswerSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The answerability features of the answer the composer would give, from out-of-fold scores."""
    xs, ys = [], []
    for r, parts in zip(records, per_part, strict=True):
        s = best_of_parts(parts)
        for ci, c in enumerate(r["cands"]):  # as compose_answer: the score, and the first part's features
            c.score, c.features = float(s[ci]), r["mats"][0][ci]
        pool = eligible(r["q"], r["cands"], r["pinned"])
        chosen = choose(r["cands"], pool, parts, cfg) or [max(r["cands"], key=lambda c: c.score)]
        xs.append(answerable_features(r["q"], chosen, r["cands"]))
        ys.append(int(r["answerable"]))
    return np.vstack(xs), np.array(ys)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="Train and report; write nothing.")
    ap.add_argument("--max-false-abstention", type=float, default=0.04)
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    ap.add_argument(
        "--near-misses",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Add entity-swapped near-misses to the answerability model's training (see near_misses).",
    )
    args = ap.parse_args()

    settings = Settings(progress=False)
    run_ingest(settings)
    engine = Engine(settings)
    engine.load(check_selector=False)
    items = [i for i in load_eval_sets(settings.eval_dir) if i.split == "dev"]
    synthetic = near_misses(engine, items) if args.near_misses else []
    records = collect(engine, items + synthetic)
    print(
        f"dev: {len(items)} items, {len(records)} used, "
        f"{sum(len(r['labels']) for r in records)} candidate sentences",
        file=sys.stderr,
    )

    # 1. the sentence model: C by grouped cross-validation on top-1 accuracy
    cv = {}
    for c in C_GRID:
        cv[c] = evaluate_sentence(records, oof_scores(records, c))
        print(f"C={c}: {cv[c]}", file=sys.stderr)
    best_c = max(
        C_GRID, key=lambda c: (cv[c]["top1_sentence_accuracy"], cv[c]["passage_recall_at_5_reranked"])
    )
    x, y, _ = sentence_rows(records)
    scaler, model = fit(x, y, best_c)

    # 2. the answerability model on out-of-fold sentence scores
    scores = oof_scores(records, best_c)
    ax, ay = answerable_rows(records, scores, settings.answer)
    real = np.array(["~" not in r["id"] for r in records])
    folds = np.array([fold_of(r["id"]) for r in records])

    def answerability_cv(c: float) -> tuple[float, float | None, float | None, float]:
        """(threshold, abstention on real unanswerables, on made near-misses, false abstention), out of fold."""
        oof = np.zeros(len(ay))
        for f in range(FOLDS):
            tr, te = folds != f, folds == f
            if len(set(ay[tr])) < 2 or not te.any():
                continue
            s_, m_ = fit(ax[tr], ay[tr], c)
            oof[te] = m_.predict_proba(s_.transform(ax[te]))[:, 1]
        answerable_p = np.sort(oof[ay == 1])
        cut = int(np.floor(args.max_false_abstention * len(answerable_p)))
        t = float(answerable_p[cut]) if cut < len(answerable_p) else 0.5
        una = (ay == 0) & real
        return (
            t,
            float(np.mean(oof[una] < t)) if una.any() else None,
            float(np.mean(oof[~real] < t)) if (~real).any() else None,
            float(np.mean(oof[ay == 1] < t)),
        )

    a_cv = {c: answerability_cv(c) for c in C_GRID}
    a_c = max(C_GRID, key=lambda c: (a_cv[c][1] or 0.0, -c))
    threshold, abst, abst_synthetic, false_abst = a_cv[a_c]
    a_scaler, a_model = fit(ax, ay, a_c)
    print(
        f"answerability: threshold {threshold:.4f}, out-of-fold abstention {abst} "
        f"(made near-misses {abst_synthetic}), "
        f"false abstention {false_abst:.4f} ({int((ay == 0).sum())} unanswerable, {int((ay == 1).sum())} answerable)",
        file=sys.stderr,
    )

    def dump(names: list[str], sc: StandardScaler, m: LogisticRegression) -> dict:
        return {
            "features": names,
            "mean": [round(float(v), 6) for v in sc.mean_],
            "scale": [round(float(v), 6) for v in sc.scale_],
            "coef": [round(float(v), 6) for v in m.coef_[0]],
            "bias": round(float(m.intercept_[0]), 6),
        }

    out = {
        "note": "Written by eval/train_selector.py on the dev split; do not edit by hand.",
        "trained_on": {
            "items": sorted(i.id for i in items),
            "near_misses": len(synthetic),
            "candidates": len(y),
            "positives": int(y.sum()),
        },
        "sentence": dump(FEATURE_NAMES, scaler, model) | {"C": best_c, "cross_validation": cv[best_c]},
        "answerable": dump(ANSWERABLE_NAMES, a_scaler, a_model) | {"C": a_c},
        "threshold": round(threshold, 6),
        "threshold_cross_validation": {
            "max_false_abstention": args.max_false_abstention,
            "abstention": None if abst is None else round(abst, 4),
            "abstention_on_near_misses": None if abst_synthetic is None else round(abst_synthetic, 4),
            "false_abstention": round(false_abst, 4),
        },
    }
    if not args.check:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    print(
        json.dumps(
            {k: out[k] for k in ("threshold", "threshold_cross_validation")} | {"sentence_cv": cv[best_c]}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
