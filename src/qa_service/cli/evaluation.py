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

# (name, retrieval mode, settings overrides as "group.field": value). Each is run in the same process on the
# same items; the report shows dev and test side by side for each.
ABLATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("dense only", "dense", {}),
    ("BM25 only", "lexical", {}),
    ("sentence-dense only", "sentence", {}),
    ("dense + BM25", "dense+lexical", {}),
    ("hybrid, references not down-weighted", "hybrid", {"retrieval.reference_weight": 1.0}),
    ("without corpus/vocabulary.toml", "hybrid", {"answer.vocabulary": False}),
    (
        "shallow: 5 candidate passages, no neighbours",
        "hybrid",
        {"answer.candidate_passages": 5, "answer.neighbour_passages": 0},
    ),
    ("no neighbouring passages", "hybrid", {"answer.neighbour_passages": 0}),
    ("without word expansion", "hybrid", {"retrieval.expand": False}),
    ("with BM25 pseudo-relevance feedback (3 terms)", "hybrid", {"retrieval.prf_terms": 3}),
    ("full pipeline", "hybrid", {}),
]
RELOAD = {"answer.vocabulary", "retrieval.expand"}  # settings read when the engine loads


@app.command("eval")
@edge
def eval_cmd(
    set_: Annotated[
        list[Path] | None,
        typer.Option(
            "--set",
            help="Question set(s) (JSONL); default: every set in eval/ (questions, readers, conversations).",
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="dev, test or all.")] = "all",
    url: Annotated[str | None, typer.Option(help="Evaluate a running service through POST /chat.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where report.json, latest.md, chart.png go.")
    ] = None,
    baseline: Annotated[Path | None, typer.Option(help="A previous report.json: print the deltas.")] = None,
    ablations: Annotated[bool, typer.Option(help="Also run the ablations (in-process only).")] = True,
    mode: Annotated[
        str,
        typer.Option(
            help="extractive, or generate: the LLM at QA_LLM__BASE_URL writes the answers (checked), and the "
            "report adds ALCE-style citation precision and recall (no ablations)."
        ),
    ] = "extractive",
    check: Annotated[
        bool, typer.Option(help="Exit 1 when a test-split metric is past eval/thresholds.toml.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate retrieval, citations, answers and abstention; dev and test splits side by side."""
    import json

    from qa_service.evaluate import (
        check_thresholds,
        dump,
        engine_target,
        http_target,
        load_eval_sets,
        load_items,
        load_thresholds,
        run_eval,
    )
    from qa_service.progress import progress_bar
    from qa_service.report import chart, deltas, markdown

    s = settings()
    if split not in ("dev", "test", "all"):
        raise InvalidInput(f"--split must be dev, test or all, not '{split}'")
    if mode not in ("extractive", "generate"):
        raise InvalidInput(f"--mode must be extractive or generate, not '{mode}'")
    judge = None
    generator = None
    if mode == "generate":
        from functools import partial

        from qa_service.generate import Generator, supports

        if not url and not s.llm.base_url:
            raise InvalidInput("--mode generate needs an LLM: set QA_LLM__BASE_URL (see the README)")
        generator = Generator.from_settings(s)
        judge = partial(supports, cfg=s.llm)
        ablations = False
    items = [i for p in set_ for i in load_items(p)] if set_ else load_eval_sets(s.eval_dir)
    items = [i for i in items if split == "all" or i.split == split]
    if not items:
        raise InvalidInput("no evaluation items to run")
    engine = None
    if url:
        target = http_target(url, answer_mode=mode if mode == "generate" else None)
    else:
        engine = open_engine(s)
        target = engine_target(engine, generator=generator, answer_mode=mode)
    show = s.show_progress()
    with progress_bar("evaluating", len(items), show) as advance:
        report = run_eval(target, items, on_item=lambda: advance(1), judge=judge)
    if engine is not None and ablations:
        report["ablations"] = _ablations(engine, items, show)
    th_path = s.eval_dir / "thresholds.toml"
    thresholds = load_thresholds(th_path) if th_path.exists() else {"min": {}, "max": {}}
    report["thresholds"] = {k: f">= {v}" for k, v in thresholds["min"].items()} | {
        k: f"<= {v}" for k, v in thresholds["max"].items()
    }
    report["meta"] = {
        "sets": sorted({_shown(s.eval_dir / f"{i.set}.jsonl") for i in items})
        if not set_
        else [_shown(p) for p in set_],
        "split": split,
        "target": url or "in-process",
        "mode": mode,
        **({"llm": s.llm.model or "(server default)"} if mode == "generate" and not url else {}),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if baseline:
        prev = json.loads(baseline.read_text(encoding="utf-8"))
        report["deltas"] = deltas(report["summary"], prev.get("summary", {}))
    out_dir = out_dir or s.eval_dir / "reports" / ("generate" if mode == "generate" else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    dump(report, out_dir / "report.json")
    (out_dir / "latest.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "chart.png")
    guarded = report["splits"].get("test")
    fails = check_thresholds(guarded, thresholds) if guarded else []
    if as_json:
        emit_json({k: report[k] for k in report if k != "rows"} | {"threshold_failures": fails})
    else:
        t = Table("metric", *report["splits"], "delta" if baseline else "")
        for k in report["summary"]:
            t.add_row(
                k,
                *(str(v.get(k)) for v in report["splits"].values()),
                f"{report['deltas'][k]:+.4f}" if baseline and k in report.get("deltas", {}) else "",
            )
        out.print(t)
        out.print(f"report: {out_dir / 'latest.md'}")
        for f in fails:
            err.print(f"[red]test split past threshold:[/red] {f}")
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
    """Each ablation's summary per split ({"dev": ..., "test": ...}), and the llama-index baseline."""
    from qa_service.evaluate import engine_target, evidence_rank, mrr, recall_at, run_eval
    from qa_service.progress import progress_bar

    results: dict[str, dict[str, Any]] = {}
    with progress_bar("ablations", len(ABLATIONS) + 1, show) as advance:
        for name, mode, overrides in ABLATIONS:
            saved = {k: _setting(engine.settings, k) for k in overrides}
            try:
                for k, v in overrides.items():
                    _setting(engine.settings, k, v)
                if RELOAD & overrides.keys():
                    engine.load()
                engine.retriever.clear_cache()
                results[name] = run_eval(engine_target(engine, mode), items)["splits"]
            finally:
                for k, v in saved.items():
                    _setting(engine.settings, k, v)
                if RELOAD & overrides.keys():
                    engine.load()
                engine.retriever.clear_cache()
            advance(1)
        from qa_service.baseline import build_baseline

        base = build_baseline(engine.paper, engine.embedder.model_path)
        baseline: dict[str, Any] = {}
        for sp in sorted({i.split for i in items}):
            answerable = [
                i for i in items if i.split == sp and i.answerable and i.gold_evidence and not i.turns
            ]
            ranks = [evidence_rank(base.search(i.question), i.gold_evidence) for i in answerable]
            baseline[sp] = {
                "evidence_recall_at_1": round(recall_at(ranks, 1), 4),
                "evidence_recall_at_5": round(recall_at(ranks, 5), 4),
                "mrr": round(mrr(ranks), 4),
            }
        results["llama-index quickstart (256-token chunks, dense top-5; retrieval only)"] = baseline
        advance(1)
    return results


def _setting(settings: Any, dotted: str, value: Any = ...) -> Any:
    """Read (or, given a value, set) a nested setting such as "answer.neighbour_passages"."""
    group, name = dotted.split(".")
    target = getattr(settings, group)
    if value is not ...:
        setattr(target, name, value)
    return getattr(target, name)
