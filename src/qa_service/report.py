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


def markdown(report: dict[str, Any]) -> str:
    s, meta = report["summary"], report.get("meta", {})
    lines = [
        "# Evaluation report",
        "",
        f"Set: `{meta.get('set', '')}` + `{meta.get('conversations', '')}` · target: {meta.get('target', '')} · "
        f"{s['items']} items ({s['answerable']} answerable, {s['unanswerable']} unanswerable) · "
        f"generated {meta.get('created', '')}",
        "",
        "Reproduce: `.venv/bin/qa-service eval --out eval/reports`",
        "",
        "## Headline",
        "",
        "| metric | value | threshold |",
        "|---|---|---|",
    ]
    th = report.get("thresholds", {})
    for key, label in HEADLINE:
        lines.append(f"| {label} | {_fmt(s.get(key))} | {th.get(key, '')} |")
    if report.get("deltas"):
        lines += ["", "## Change against the baseline", "", "| metric | delta |", "|---|---|"]
        lines += [f"| {k} | {v:+.4f} |" for k, v in report["deltas"].items()]
    lines += [
        "",
        "## Per category",
        "",
        "| category | items | recall@5 | MRR | fn recall | fn precision | facts | abstention | false abst. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cat, c in report["categories"].items():
        lines.append(
            f"| {cat} | {c['items']} | {_fmt(c['evidence_recall_at_5'])} | {_fmt(c['mrr'])} | "
            f"{_fmt(c['footnote_recall'])} | {_fmt(c['footnote_precision'])} | {_fmt(c['fact_coverage'])} | "
            f"{_fmt(c['abstention_rate'])} | {_fmt(c['false_abstention_rate'])} |"
        )
    if report.get("ablations"):
        lines += [
            "",
            "## Ablations (same run)",
            "",
            "| pipeline | recall@1 | recall@5 | MRR | fn recall | fn precision | facts | abstention | false abst. |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, a in report["ablations"].items():
            lines.append(
                f"| {name} | {_fmt(a.get('evidence_recall_at_1'))} | {_fmt(a.get('evidence_recall_at_5'))} | "
                f"{_fmt(a.get('mrr'))} | {_fmt(a.get('footnote_recall'))} | {_fmt(a.get('footnote_precision'))} | "
                f"{_fmt(a.get('fact_coverage'))} | {_fmt(a.get('abstention_rate'))} | "
                f"{_fmt(a.get('false_abstention_rate'))} |"
            )
    misses = [
        r
        for r in report["rows"]
        if (
            r["answerable"]
            and (
                r["abstained"]
                or (r["has_evidence"] and (r["evidence_rank"] is None or r["evidence_rank"] > 5))
                or (r["fact_coverage"] or 0) < 1
            )
        )
        or (not r["answerable"] and not r["abstained"])
    ]
    if misses:
        lines += [
            "",
            "## Items to look at",
            "",
            "| id | category | evidence rank | facts | abstained | answer |",
            "|---|---|---|---|---|---|",
        ]
        for r in misses:
            ans = r["answer"][:120].replace("|", "\\|")
            lines.append(
                f"| {r['id']} | {r['category']} | {_fmt(r['evidence_rank'])} | {_fmt(r['fact_coverage'])} | "
                f"{r['abstained']} | {ans} |"
            )
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [
        "evidence_recall_at_5",
        "mrr",
        "footnote_recall",
        "footnote_precision",
        "fact_coverage",
        "abstention_rate",
    ]
    runs = {
        "hybrid": report["summary"],
        **{k: v for k, v in report.get("ablations", {}).items() if k != "hybrid"},
    }
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(len(runs), 1)
    for i, (name, s) in enumerate(runs.items()):
        ax.bar([x + i * width for x in range(len(keys))], [s.get(k) or 0 for k in keys], width, label=name)
    ax.set_xticks(
        [x + 0.4 - width / 2 for x in range(len(keys))], [k.replace("_", " ") for k in keys], fontsize=8
    )
    ax.set_ylim(0, 1.05)
    ax.set_title("qa-service evaluation")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
