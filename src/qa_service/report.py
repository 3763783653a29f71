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


SET_NAMES = {"questions": "paper's wording", "readers": "readers' wording", "conversations": "conversations"}


GENERATED = (
    "generated_share",
    "sentences_dropped_share",
    "citation_recall_raw",
    "citation_precision_raw",
    "citation_recall",
    "citation_precision",
)


def markdown(report: dict[str, Any]) -> str:
    s, meta = report["summary"], report.get("meta", {})
    splits = report.get("splits", {})
    lines = [
        "# Evaluation report",
        "",
        f"Sets: {', '.join(f'`{x}`' for x in meta.get('sets', []))} · target: {meta.get('target', '')} · "
        f"{s['items']} items ({s['answerable']} answerable, {s['unanswerable']} unanswerable) · "
        f"generated {meta.get('created', '')}",
        "",
        "Reproduce: `.venv/bin/qa-service eval --out eval/reports`. The dev split is what the answer stage "
        "was tuned and trained on (eval/train_selector.py); the test split is only reported, and "
        "eval/thresholds.toml guards it.",
        "",
        "## Headline: dev and test side by side",
        "",
        "| metric | dev | test | test threshold | all |",
        "|---|---|---|---|---|",
    ]
    th = report.get("thresholds", {})
    dev, test = splits.get("dev", {}), splits.get("test", {})
    for key, label in HEADLINE:
        lines.append(
            f"| {label} | {_fmt(dev.get(key))} | {_fmt(test.get(key))} | {th.get(key, '')} | {_fmt(s.get(key))} |"
        )
    sets = report.get("sets", {})
    if sets:
        names = sorted(
            {k.split("/")[0] for k in sets}, key=lambda n: list(SET_NAMES).index(n) if n in SET_NAMES else 9
        )
        head = " | ".join(f"{SET_NAMES.get(n, n)} {sp}" for n in names for sp in ("dev", "test"))
        lines += ["", "## Per set", "", f"| metric | {head} |", "|---" * (1 + 2 * len(names)) + "|"]
        for key, label in HEADLINE[:9]:
            vals = " | ".join(
                _fmt(sets.get(f"{n}/{sp}", {}).get(key)) for n in names for sp in ("dev", "test")
            )
            lines.append(f"| {label} | {vals} |")
        counts = " | ".join(
            str(sets.get(f"{n}/{sp}", {}).get("items", 0)) for n in names for sp in ("dev", "test")
        )
        lines.append(f"| items | {counts} |")
    if "citation_recall_raw" in s:
        lines += [
            "",
            f"## Generated answers (mode generate, LLM {meta.get('llm', '')}): ALCE-style citations",
            "",
            "Recall: share of sentences whose cited evidence supports them; precision: share of citations "
            "that are relevant; judged by the same checks that decide what is shown (numbers, dates, names, "
            "quotes, content support). Raw: everything the LLM wrote; shown: what passed the checks.",
            "",
            "| metric | dev | test | all |",
            "|---|---|---|---|",
        ]
        for key in GENERATED:
            lines.append(f"| {key} | {_fmt(dev.get(key))} | {_fmt(test.get(key))} | {_fmt(s.get(key))} |")
    if report.get("deltas"):
        lines += ["", "## Change against the baseline", "", "| metric | delta |", "|---|---|"]
        lines += [f"| {k} | {v:+.4f} |" for k, v in report["deltas"].items()]
    if report.get("reliability"):
        lines += [
            "",
            "## Reliability of the confidence (answered questions)",
            "",
            "| confidence | answered | mean confidence | share correct |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {b['bin']} | {b['answered']} | {_fmt(b['mean_confidence'])} | {_fmt(b['share_correct'])} |"
            for b in report["reliability"]
        ]
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
            "## Ablations (same run; dev / test)",
            "",
            "| pipeline | recall@1 | recall@5 | MRR | fn recall | fn precision | facts | abstention | false abst. |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        keys = [
            "evidence_recall_at_1",
            "evidence_recall_at_5",
            "mrr",
            "footnote_recall",
            "footnote_precision",
            "fact_coverage",
            "abstention_rate",
            "false_abstention_rate",
        ]
        for name, by_split in report["ablations"].items():
            d, t = by_split.get("dev", {}), by_split.get("test", {})
            cells = " | ".join(f"{_fmt(d.get(k))} / {_fmt(t.get(k))}" for k in keys)
            lines.append(f"| {name} | {cells} |")
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
            "| id | split | category | evidence rank | facts | abstained | answer |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in misses:
            ans = r["answer"][:120].replace("|", "\\|")
            lines.append(
                f"| {r['id']} | {r.get('split', '')} | {r['category']} | {_fmt(r['evidence_rank'])} | {_fmt(r['fact_coverage'])} | "
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
        "full pipeline (test)": report.get("splits", {}).get("test", report["summary"]),
        **{
            f"{k} (test)": v["test"]
            for k, v in report.get("ablations", {}).items()
            if "test" in v and k != "full pipeline"
        },
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
