"""Evaluation reports: Markdown, a PNG chart, and the change against a previous run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


GENERATED = (
    "generated_share",
    "sentences_dropped_share",
    "citation_recall_raw",
    "citation_precision_raw",
    "citation_recall",
    "citation_precision",
)
COLUMNS = [
    ("fact_coverage", "facts"),
    ("footnote_recall", "fn recall"),
    ("footnote_precision", "fn precision"),
    ("abstention_rate", "abstention"),
    ("false_abstention_rate", "false abst."),
    ("mean_answer_words", "words"),
    ("follow_ups_right", "follow-ups"),
    ("evidence_recall_at_5", "recall@5"),
]


def macro(writers: dict[str, dict[str, Any]], key: str) -> float | None:
    """The mean over writers of a metric (writers without it left out)."""
    vals = [w[key] for w in writers.values() if w.get(key) is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def macros(writers: dict[str, dict[str, Any]]) -> dict[str, float]:
    """`macro` of every numeric metric the writers' summaries have."""
    keys = sorted({k for w in writers.values() for k, v in w.items() if isinstance(v, int | float)})
    return {k: m for k in keys if (m := macro(writers, k)) is not None}


# bootstrap resamples behind each interval (measured on pairs of leave-one-writer-out runs: seeds 1 and 2 moved the
# ends of the rates' intervals from seed 0's by up to 0.004, of mean answer words by up to 0.04)
CHANGE_RESAMPLES = 1000
CHANGE_LEVEL = 0.95  # the interval's coverage


def compare(
    current: list[dict[str, Any]],
    previous: list[dict[str, Any]],
    resamples: int = CHANGE_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Two runs over the same items, judged as the headline is: each metric's macro over writers now and
    before, the change, and a paired bootstrap interval of the change; and per writer, how many items went
    from wrong to right and back (`evaluate.correct`). Items are matched by id; those in only one run are
    counted, not compared, so 'previous' and 'current' are macros over the matched items only.

    The bootstrap draws the same items for both runs (paired), from each writer's own items (stratified), and
    within a writer from its answerable single questions, its unanswerable ones and its conversations apart,
    so that every draw has each writer's kinds of item in the run's numbers and no writer drops out of a
    metric's macro by chance. A change whose interval holds 0 may be chance. An interval no draw defines
    (no resamples) is None."""
    import numpy as np

    from qa_service.errors import InvalidInput
    from qa_service.evaluate import correct, summarize

    for rows, run in ((current, "this run"), (previous, "the previous run")):
        ids = [r["id"] for r in rows]
        if len(set(ids)) < len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise InvalidInput(f"{run} has items twice, so its rows cannot be paired: {', '.join(twice[:5])}")
    before = {r["id"]: r for r in previous}
    Pair = tuple[dict[str, Any], dict[str, Any]]
    strata: dict[str, dict[tuple[bool, bool], list[Pair]]] = {}  # writer -> (answerable, conversation) -> pairs
    for r in current:
        if r["id"] in before:
            kind = (bool(r["answerable"]), r["category"] == "conversation")
            strata.setdefault(r.get("writer", ""), {}).setdefault(kind, []).append((r, before[r["id"]]))
    pairs = {w: [p for group in g.values() for p in group] for w, g in strata.items()}
    keys = [k for k, _ in COLUMNS]

    def macros_of(chosen: dict[str, list[Pair]]) -> np.ndarray:
        """(2, metrics): the macro of each metric now and before (nan where no writer has it)."""
        out = np.full((2, len(keys)), np.nan)
        for side in (0, 1):
            per = {w: summarize([p[side] for p in ps]) for w, ps in chosen.items() if ps}
            for j, k in enumerate(keys):
                m = macro(per, k)
                out[side, j] = np.nan if m is None else m
        return out

    def draw(rng: np.random.Generator) -> dict[str, list[Pair]]:
        return {
            w: [group[i] for group in g.values() for i in rng.integers(0, len(group), len(group))]
            for w, g in strata.items()
        }

    point = macros_of(pairs)
    rng = np.random.default_rng(seed)
    draws = np.full((resamples, len(keys)), np.nan)
    for b in range(resamples):
        drawn = macros_of(draw(rng))
        draws[b] = drawn[0] - drawn[1]
    tail = (1 - CHANGE_LEVEL) / 2 * 100

    def bound(column: np.ndarray, q: float) -> float | None:
        seen = column[~np.isnan(column)]
        return round(float(np.percentile(seen, q)), 4) if len(seen) else None

    metrics = {
        k: {
            "previous": round(float(point[1, j]), 4),
            "current": round(float(point[0, j]), 4),
            "delta": round(float(point[0, j] - point[1, j]), 4),
            "low": bound(draws[:, j], tail),
            "high": bound(draws[:, j], 100 - tail),
        }
        for j, k in enumerate(keys)
        if not np.isnan(point[:, j]).any()
    }
    writers = {
        w: {
            "items": len(ps),
            "now_right": sum(correct(a) and not correct(b) for a, b in ps),
            "now_wrong": sum(correct(b) and not correct(a) for a, b in ps),
        }
        for w, ps in sorted(pairs.items())
    }
    matched = sum(len(ps) for ps in pairs.values())
    return {
        "matched": matched,
        "only_now": len(current) - matched,
        "only_before": len(previous) - matched,
        "resamples": resamples,
        "level": CHANGE_LEVEL,
        "metrics": metrics,
        "writers": writers,
    }


def gains(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per held-out writer: the service's fact coverage, each baseline's, and the service minus the best."""
    held = report.get("held_out", {}).get("writers", {})
    base = report.get("baselines", {})
    out = {}
    for w, sm in held.items():
        b = {name: r["writers"].get(w, {}).get("fact_coverage") for name, r in base.items()}
        best = max((v for v in b.values() if v is not None), default=None)
        svc = sm.get("fact_coverage")
        out[w] = {
            "service": svc,
            **b,
            "gain": round(svc - best, 4) if svc is not None and best is not None else None,
        }
    return out


def _named(w: str, meta: dict[str, Any]) -> str:
    """A writer as the report names it: a pure-test or development writer says so."""
    if w in meta.get("pure_test", []):
        return f"{w} (pure test)"
    return f"{w} (development)" if w in meta.get("development", []) else w


def _writer_table(writers: dict[str, dict[str, Any]], meta: dict[str, Any], label: str) -> list[str]:
    lines = [
        f"| {label} | items | " + " | ".join(c for _, c in COLUMNS) + " |",
        "|---" * (2 + len(COLUMNS)) + "|",
    ]
    for w, sm in writers.items():
        cells = " | ".join(_fmt(sm.get(k)) for k, _ in COLUMNS)
        lines.append(f"| {_named(w, meta)} | {sm['items']} | {cells} |")
    lines.append("| **macro** | | " + " | ".join(_fmt(macro(writers, k)) for k, _ in COLUMNS) + " |")
    return lines


def judged_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a report's headline judges: the held-out writers' where it has them, else its own."""
    return list(report.get("held_out", report).get("rows", []))


def _change(change: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    pct = round(change["level"] * 100)
    lines = [
        "",
        f"## Change against the previous report ({change['judged']}, macro over writers)",
        "",
        f"{change['matched']} items in both runs ({change['only_now']} only in this one, {change['only_before']} "
        f"only in the previous). Interval: {pct}% paired bootstrap, each writer's answerable questions, "
        f"unanswerable ones and conversations drawn apart ({change['resamples']} resamples); a change whose "
        "interval holds 0 may be chance.",
        "",
        f"| metric | previous | now | change | {pct}% interval |",
        "|---|---|---|---|---|",
    ]
    names = dict(COLUMNS)
    for k, m in change["metrics"].items():
        reach = f"{m['low']:+.4f} to {m['high']:+.4f}" if m["low"] is not None and m["high"] is not None else "–"
        lines.append(
            f"| {names.get(k, k)} | {_fmt(m['previous'])} | {_fmt(m['current'])} | {m['delta']:+.4f} | {reach} |"
        )
    if not change["matched"]:
        lines += ["", "The two runs have no item in common: nothing to compare."]
    moved = [
        f"{_named(w, meta)} +{c['now_right']}/-{c['now_wrong']}"
        for w, c in change["writers"].items()
        if c["now_right"] or c["now_wrong"]
    ]
    return [
        *lines,
        "",
        "Items now right that were wrong (+) and now wrong that were right (-), by writer (`evaluate.correct`): "
        f"{', '.join(moved) or 'none'}.",
    ]


def markdown(report: dict[str, Any]) -> str:
    s, meta = report["summary"], report.get("meta", {})
    pure = meta.get("pure_test", [])
    lines = [
        "# Evaluation report",
        "",
        f"Sets: {', '.join(f'`{x}`' for x in meta.get('sets', []))} · target: {meta.get('target', '')} · "
        + (f"questions asked {meta['asked']} · " if meta.get("asked") else "")
        + f"{s['items']} items ({s['answerable']} answerable, {s['unanswerable']} unanswerable) · "
        f"generated {meta.get('created', '')}",
        "",
        "Reproduce: `.venv/bin/qa-service eval` (writes eval/reports/). Every item names its writer. "
        "Leave-one-writer-out: for each training writer, the whole training procedure (`qa_service.learn.train`: "
        "reader, composition, decider and threshold) runs on the other writers and answers "
        f"the held-out one. Pure-test writers ({', '.join(pure) or 'none'}) are answered by weights trained on "
        "all training writers (the shipped procedure) and are never trained or tuned on; their failures are "
        "not listed item by item."
        + (
            f" Development writers ({', '.join(dev)}) are answered the same way and never trained on, but "
            "their failures were read to find changes: theirs are no unseen writer's figures."
            if (dev := meta.get("development", []))
            else ""
        ),
    ]
    g = gains(report)
    if g:
        names = list(report.get("baselines", {}))
        lines += [
            "",
            "## Headline: fact coverage on held-out writers, beside the retrieval-only baselines",
            "",
            "Same items, same word budget (the service's longest answer). Gain: the service minus the best "
            "baseline for that writer.",
            "",
            "| held-out writer | service | " + " | ".join(names) + " | gain |",
            "|---" * (3 + len(names)) + "|",
        ]
        for w, row in g.items():
            lines.append(
                f"| {_named(w, meta)} | {_fmt(row['service'])} | "
                + " | ".join(_fmt(row.get(n)) for n in names)
                + f" | {_fmt(row['gain'])} |"
            )
        lines.append(
            "| **macro** | "
            + " | ".join(_fmt(macro(g, k)) for k in ["service", *names, "gain"])
            + " |"
        )
    if report.get("held_out"):
        lines += ["", "## Held-out writers: every metric", ""]
        lines += _writer_table(report["held_out"]["writers"], meta, "held-out writer")
    if report.get("baselines"):
        for name, b in report["baselines"].items():
            lines += ["", f"### Baseline: {name}", ""]
            lines += _writer_table(b["writers"], meta, "writer")
    if report.get("folds"):
        lines += [
            "",
            "## What each fold's training chose",
            "",
            "| held out | reader features | composition | threshold |",
            "|---|---|---|---|",
        ]
        for w, f in report["folds"].items():
            c = f.get("composition", {})
            comp = ", ".join(f"{k}={v}" for k, v in c.items())
            feats = ", ".join(f.get("features", []))
            lines.append(f"| {w} | {feats} | {comp} | {_fmt(f.get('threshold'))} |")
    if report.get("ablations"):
        lines += [
            "",
            "## Ablations: leave-one-writer-out without each component (macro over the held-out training writers)",
            "",
            "| variant | " + " | ".join(c for _, c in COLUMNS) + " |",
            "|---" * (1 + len(COLUMNS)) + "|",
        ]
        for name, a in report["ablations"].items():
            lines.append(f"| {name} | " + " | ".join(_fmt(macro(a["writers"], k)) for k, _ in COLUMNS) + " |")
    lines += ["", "## The shipped weights on every writer (in-sample for the training writers)", ""]
    lines += _writer_table(report["writers"], meta, "writer")
    if "citation_recall_raw" in s:
        lines += [
            "",
            f"## Generated answers (mode generate, LLM {meta.get('llm', '')}): ALCE-style citations",
            "",
            "Recall: share of sentences whose cited evidence supports them; precision: share of citations "
            "that are relevant; judged by the same checks that decide what is shown (numbers, dates, names, "
            "quotes, content support). Raw: everything the LLM wrote; shown: what passed the checks.",
            "",
            "| metric | all |",
            "|---|---|",
        ]
        for key in GENERATED:
            lines.append(f"| {key} | {_fmt(s.get(key))} |")
    if report.get("change"):
        lines += _change(report["change"], meta)
    judged = report.get("held_out", report)
    if judged.get("reliability"):
        lines += [
            "",
            "## Reliability of the confidence (answered questions"
            + (", held-out writers)" if "held_out" in report else ")"),
            "",
            "| confidence | answered | mean confidence | share correct |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {b['bin']} | {b['answered']} | {_fmt(b['mean_confidence'])} | {_fmt(b['share_correct'])} |"
            for b in judged["reliability"]
        ]
    lines += [
        "",
        "## Per category" + (" (held-out writers)" if "held_out" in report else ""),
        "",
        "| category | items | recall@5 | fn recall | fn precision | facts | abstention | false abst. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cat, c in judged["categories"].items():
        lines.append(
            f"| {cat} | {c['items']} | {_fmt(c['evidence_recall_at_5'])} | "
            f"{_fmt(c['footnote_recall'])} | {_fmt(c['footnote_precision'])} | {_fmt(c['fact_coverage'])} | "
            f"{_fmt(c['abstention_rate'])} | {_fmt(c['false_abstention_rate'])} |"
        )
    misses = [
        r
        for r in judged["rows"]
        if r.get("writer") not in pure
        and (
            (r["answerable"] and (r["abstained"] or (r["fact_coverage"] or 0) < 1))
            or (not r["answerable"] and not r["abstained"])
        )
    ]
    if misses:
        lines += [
            "",
            "## Items to look at (training and development writers only"
            + (", held-out answers)" if "held_out" in report else ")"),
            "",
            "| id | writer | category | evidence rank | facts | abstained | answer |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in misses:
            ans = r["answer"][:120].replace("|", "\\|")
            lines.append(
                f"| {r['id']} | {r.get('writer', '')} | {r['category']} | {_fmt(r['evidence_rank'])} | "
                f"{_fmt(r['fact_coverage'])} | {r['abstained']} | {ans} |"
            )
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> None:
    """Fact coverage per held-out writer: the service beside each baseline (or the shipped weights per writer
    when no held-out run was made)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    held = report.get("held_out", report)["writers"]
    runs = {"service": held} | {n: b["writers"] for n, b in report.get("baselines", {}).items()}
    writers = list(held)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(len(runs), 1)
    for i, (name, ws) in enumerate(runs.items()):
        ax.bar(
            [x + i * width for x in range(len(writers))],
            [ws.get(w, {}).get("fact_coverage") or 0 for w in writers],
            width,
            label=name,
        )
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(writers))], writers, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fact coverage")
    ax.set_title("qa-service: fact coverage per held-out writer")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
