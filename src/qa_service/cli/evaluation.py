"""`qa-service eval`: the evaluation runner, with ablations and the llama-index baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qa_service.cli.common import edge, emit_json, err, open_engine, out, settings
from qa_service.errors import InvalidInput

app = typer.Typer()

ABLATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("dense only", "dense", {}),
    ("BM25 only", "lexical", {}),
    ("sentence-dense only", "sentence", {}),
    ("dense + BM25", "dense+lexical", {}),
    ("hybrid, references not down-weighted", "hybrid", {"reference_weight": 1.0}),
    ("hybrid (full)", "hybrid", {}),
]


@app.command("eval")
@edge
def eval_cmd(
    set_: Annotated[Path | None, typer.Option("--set", help="Question set (JSONL).")] = None,
    conversations: Annotated[
        Path | None, typer.Option(help="Multi-turn cases (JSONL); 'none' to skip.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Evaluate a running service through POST /chat.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where report.json, latest.md, chart.png go.")
    ] = None,
    baseline: Annotated[Path | None, typer.Option(help="A previous report.json: print the deltas.")] = None,
    ablations: Annotated[bool, typer.Option(help="Also run the ablations (in-process only).")] = True,
    check: Annotated[bool, typer.Option(help="Exit 1 when a metric is past eval/thresholds.toml.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate retrieval, citations, answers and abstention on a question set."""
    import json

    from qa_service.evaluate import (
        check_thresholds,
        dump,
        engine_target,
        http_target,
        load_items,
        load_thresholds,
        run_eval,
    )
    from qa_service.progress import progress_bar
    from qa_service.report import chart, deltas, markdown

    s = settings()
    set_path = set_ or s.eval_dir / "questions.jsonl"
    conv_path = conversations or s.eval_dir / "conversations.jsonl"
    items = load_items(set_path)
    if str(conv_path) != "none" and conv_path.exists():
        items += load_items(conv_path, category="conversation")
    if not items:
        raise InvalidInput(f"{set_path}: no items")
    engine = None
    if url:
        target = http_target(url)
    else:
        engine = open_engine(s)
        target = engine_target(engine)
    show = s.show_progress()
    with progress_bar("evaluating", len(items), show) as advance:
        report = run_eval(target, items, on_item=lambda: advance(1))
    if engine is not None and ablations:
        report["ablations"] = _ablations(engine, items, show)
    th_path = s.eval_dir / "thresholds.toml"
    thresholds = load_thresholds(th_path) if th_path.exists() else {"min": {}, "max": {}}
    report["thresholds"] = {k: f">= {v}" for k, v in thresholds["min"].items()} | {
        k: f"<= {v}" for k, v in thresholds["max"].items()
    }
    report["meta"] = {
        "set": _shown(set_path),
        "conversations": _shown(conv_path),
        "target": url or "in-process",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if baseline:
        prev = json.loads(baseline.read_text(encoding="utf-8"))
        report["deltas"] = deltas(report["summary"], prev.get("summary", {}))
    out_dir = out_dir or s.eval_dir / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    dump(report, out_dir / "report.json")
    (out_dir / "latest.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "chart.png")
    fails = check_thresholds(report["summary"], thresholds)
    if as_json:
        emit_json({k: report[k] for k in report if k != "rows"} | {"threshold_failures": fails})
    else:
        t = Table("metric", "value", "delta" if baseline else "")
        for k, v in report["summary"].items():
            t.add_row(k, str(v), f"{report['deltas'][k]:+.4f}" if baseline and k in report["deltas"] else "")
        out.print(t)
        out.print(f"report: {out_dir / 'latest.md'}")
        for f in fails:
            err.print(f"[red]below threshold:[/red] {f}")
    if check and fails:
        raise typer.Exit(1)


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the project when inside it."""
    from qa_service.config import PROJECT_ROOT

    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _ablations(engine: Any, items: list[Any], show: bool) -> dict[str, dict[str, Any]]:
    from qa_service.evaluate import engine_target, evidence_rank, mrr, recall_at, run_eval
    from qa_service.progress import progress_bar

    cfg = engine.settings.retrieval
    results: dict[str, dict[str, Any]] = {}
    with progress_bar("ablations", len(ABLATIONS) + 1, show) as advance:
        for name, mode, overrides in ABLATIONS:
            saved = {k: getattr(cfg, k) for k in overrides}
            for k, v in overrides.items():
                setattr(cfg, k, v)
            engine.retriever.clear_cache()
            try:
                results[name] = run_eval(engine_target(engine, mode), items)["summary"]
            finally:
                for k, v in saved.items():
                    setattr(cfg, k, v)
                engine.retriever.clear_cache()
            advance(1)
        from qa_service.baseline import build_baseline

        base = build_baseline(engine.paper, engine.embedder.model_path)
        answerable = [i for i in items if i.answerable and i.gold_evidence and not i.turns]
        ranks = [evidence_rank(base.search(i.question), i.gold_evidence) for i in answerable]
        results["llama-index quickstart (256-token chunks, dense top-5; retrieval only)"] = {
            "evidence_recall_at_1": round(recall_at(ranks, 1), 4),
            "evidence_recall_at_5": round(recall_at(ranks, 5), 4),
            "mrr": round(mrr(ranks), 4),
        }
        advance(1)
    return results
