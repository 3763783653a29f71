"""Evaluation reports: Markdown, a PNG chart, and deltas against a previous run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADLINE = [
    ("evidence_recall_at_1", "evidence recall@1"),
    ("evidence_recall_at_5", "evidence recall@5"),
    ("mrr", "MRR"),
    ("footnote_recall", "footnote recall"),
    ("footnote_precision", "footnote precision"),
    ("fact_coverage", "fact coverage"),
    ("abstention_rate", "abstention (unanswerable)"),
    ("false_abstention_rate", "false abstention (answerable)"),
    ("mean_answer_words", "mean answer words"),
    ("latency_ms_p50", "latency p50 (ms)"),
    ("latency_ms_p95", "latency p95 (ms)"),
]


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def deltas(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, _ in HEADLINE:
        a, b = current.get(key), previous.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            out[key] = round(a - b, 4)
    return out


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


def _writer_table(writers: dict[str, dict[str, Any]], pure: list[str], label: str) -> list[str]:
    lines = [
        f"| {label} | items | " + " | ".join(c for _, c in COLUMNS) + " |",
        "|---" * (2 + len(COLUMNS)) + "|",
    ]
    for w, sm in writers.items():
        name = f"{w} (pure test)" if w in pure else w
        lines.append(f"| {name} | {sm['items']} | " + " | ".join(_fmt(sm.get(k)) for k, _ in COLUMNS) + " |")
    lines.append("| **macro** | | " + " | ".join(_fmt(macro(writers, k)) for k, _ in COLUMNS) + " |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    s, meta = report["summary"], report.get("meta", {})
    pure = meta.get("pure_test", [])
    lines = [
        "# Evaluation report",
        "",
        f"Sets: {', '.join(f'`{x}`' for x in meta.get('sets', []))} · target: {meta.get('target', '')} · "
        f"{s['items']} items ({s['answerable']} answerable, {s['unanswerable']} unanswerable) · "
        f"generated {meta.get('created', '')}",
        "",
        "Reproduce: `.venv/bin/qa-service eval` (writes eval/reports/). Every item names its writer. "
        "Leave-one-writer-out: for each training writer, the whole training procedure (`qa_service.learn.train`: "
        "reader, composition, decider and threshold) runs on the other writers and answers "
        f"the held-out one. Pure-test writers ({', '.join(pure) or 'none'}) are answered by weights trained on "
        "all training writers (the shipped procedure) and are never trained or tuned on; their failures are "
        "not listed item by item.",
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
            name = f"{w} (pure test)" if w in pure else w
            lines.append(
                f"| {name} | {_fmt(row['service'])} | "
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
        lines += _writer_table(report["held_out"]["writers"], pure, "held-out writer")
    if report.get("baselines"):
        for name, b in report["baselines"].items():
            lines += ["", f"### Baseline: {name}", ""]
            lines += _writer_table(b["writers"], pure, "writer")
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
    lines += _writer_table(report["writers"], pure, "writer")
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
    if report.get("deltas"):
        lines += ["", "## Change against the previous report", "", "| metric | delta |", "|---|---|"]
        lines += [f"| {k} | {v:+.4f} |" for k, v in report["deltas"].items()]
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
            "## Items to look at (training writers only" + (", held-out answers)" if "held_out" in report else ")"),
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
