"""`qa-service eval`: the evaluation runner, by writer, with the retrieval-only baselines and ablations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from qa_service.cli.common import edge, emit_json, err, open_engine, out, settings
from qa_service.errors import InvalidInput

app = typer.Typer()


@app.command("eval")
@edge
def eval_cmd(
    set_: Annotated[
        list[Path] | None,
        typer.Option("--set", help="Question set(s) (JSONL); default: every set in eval/sets/."),
    ] = None,
    writer: Annotated[
        list[str] | None, typer.Option(help="Only these writers' items (repeatable); default: all.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Evaluate a running service through POST /chat.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where report.json, latest.md, chart.png go.")
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="A previous report.json: the change in each metric, judged as the headline (held-out "
            "writers' macro) with a paired bootstrap interval, and the items that moved, by writer.",
        ),
    ] = None,
    held_out: Annotated[
        bool,
        typer.Option(
            help="Leave-one-writer-out: train on the other writers, answer the held-out one (in-process; a "
            "few minutes)."
        ),
    ] = True,
    baselines: Annotated[
        bool,
        typer.Option(help="Answer the same items with the retrieval-only baselines (in-process)."),
    ] = True,
    ablations: Annotated[
        bool, typer.Option(help="Leave-one-writer-out without each component of the answer stage.")
    ] = True,
    mode: Annotated[
        str,
        typer.Option(
            help="extractive, or generate: the LLM at QA_LLM__BASE_URL writes the answers (checked), and the "
            "report adds ALCE-style citation precision and recall (no held-out runs)."
        ),
    ] = "extractive",
    check: Annotated[
        bool, typer.Option(help="Exit 1 when a pure-test writer's metric is past eval/thresholds.toml.")
    ] = False,
    lowercase: Annotated[
        bool,
        typer.Option(
            help="Ask every question in lower case, as many readers type (training and leave-one-writer-out "
            "too): how much the figures lean on the writers' capitals."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate retrieval, citations, answers and abstention by writer: the shipped weights, each writer
    answered by weights trained without it, and the retrieval-only baselines on the same items."""
    from qa_service.evaluate import (
        check_thresholds,
        dump,
        engine_target,
        http_target,
        load_development,
        load_eval_sets,
        load_items,
        load_pure_test,
        load_thresholds,
        lowercased,
        report_of,
        run_eval,
    )
    from qa_service.progress import progress_bar
    from qa_service.report import chart, compare, judged_rows, markdown

    s = settings()
    if mode not in ("extractive", "generate"):
        raise InvalidInput(f"--mode must be extractive or generate, not '{mode}'")
    prev = _previous(previous) if previous else None  # read before the run: a bad file fails in a second
    judge = None
    generator = None
    if mode == "generate":
        from functools import partial

        from qa_service.generate import Generator, supports

        if not url and not s.llm.base_url:
            raise InvalidInput("--mode generate needs an LLM: set QA_LLM__BASE_URL (see the README)")
        generator = Generator.from_settings(s)
        judge = partial(supports, cfg=s.llm)
        held_out = ablations = baselines = False
    items = [i for p in set_ for i in load_items(p)] if set_ else load_eval_sets(s.eval_dir)
    if writer:
        unknown = set(writer) - {i.writer for i in items}
        if unknown:
            raise InvalidInput(f"no items by {', '.join(sorted(unknown))}")
        items = [i for i in items if i.writer in writer]
    if not items:
        raise InvalidInput("no evaluation items to run")
    if lowercase:
        items = lowercased(items)
    pure = load_pure_test(s.eval_dir)  # with the development writers: never trained on
    development = load_development(s.eval_dir)
    engine = None
    if url:
        target = http_target(url, answer_mode=mode if mode == "generate" else None)
    else:
        engine = open_engine(s)
        target = engine_target(engine, generator=generator, answer_mode=mode)
    show = s.show_progress()
    with progress_bar("evaluating", len(items), show) as advance:
        report = run_eval(target, items, on_item=lambda: advance(1), judge=judge)
    if engine is not None and baselines:
        report["baselines"] = _baselines(engine, items, show)
    if engine is not None and held_out:
        from qa_service.learn import held_out_rows

        writers = sorted({i.writer for i in items})
        cache: dict[str, Any] = {}
        with progress_bar("leave-one-writer-out", len(writers), show) as advance:
            rows, folds = held_out_rows(engine, items, pure, on_fold=lambda _w: advance(1), cache=cache)
        report["held_out"] = report_of(rows)
        report["folds"] = folds
        if ablations:
            report["ablations"] = _ablations(engine, items, pure, show, cache)
    th_path = s.eval_dir / "thresholds.toml"

    def thresholds(writer: str) -> dict[str, dict[str, float]]:
        return load_thresholds(th_path, writer) if th_path.exists() else {"min": {}, "max": {}}

    report["thresholds"] = {
        w: {k: f">= {v}" for k, v in thresholds(w)["min"].items()}
        | {k: f"<= {v}" for k, v in thresholds(w)["max"].items()}
        for w in sorted(pure)
    }
    report["meta"] = {
        "sets": sorted({_shown(s.eval_dir / "sets" / f"{i.set}.jsonl") for i in items})
        if not set_
        else [_shown(p) for p in set_],
        "pure_test": sorted(pure - development),
        "development": sorted(development),
        "target": url or "in-process",
        **({"asked": "in lower case"} if lowercase else {}),
        "mode": mode,
        **({"llm": s.llm.model or "(server default)"} if mode == "generate" and not url else {}),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if prev is not None:
        held = "held_out" in report and "held_out" in prev  # judge both runs alike
        report["change"] = compare(
            judged_rows(report) if held else report["rows"],
            judged_rows(prev) if held else prev.get("rows", []),
        ) | {"judged": "held-out writers" if held else "the shipped weights on every writer"}
        asked = (report["meta"].get("asked", "as written"), prev.get("meta", {}).get("asked", "as written"))
        if asked[0] != asked[1]:  # the change is then that of how the questions were asked
            report["change"]["judged"] += (
                f" (this run's questions asked {asked[0]}, the previous run's {asked[1]})"
            )
    out_dir = out_dir or s.eval_dir / "reports" / ("generate" if mode == "generate" else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    dump(report, out_dir / "report.json")
    (out_dir / "latest.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "chart.png")
    guarded = [w for w in pure if w in report["writers"]]
    fails = [f"{w}: {f}" for w in guarded for f in check_thresholds(report["writers"][w], thresholds(w))]
    if as_json:
        emit_json({k: report[k] for k in report if k != "rows"} | {"threshold_failures": fails})
    else:
        shown = report.get("held_out", report)["writers"]
        change = report.get("change", {}).get("metrics", {})  # macro over writers, as the report judges
        judged = (
            "held-out"
            if report.get("change", {}).get("judged", "").startswith("held-out writers")
            else "shipped weights"
        )
        t = Table("metric", *shown, f"change (macro, {judged})" if prev is not None else "")
        for k in report["summary"]:
            t.add_row(
                k,
                *(str(v.get(k)) for v in shown.values()),
                f"{change[k]['delta']:+.4f}" if k in change else "",
            )
        out.print(t)
        out.print(f"report: {out_dir / 'latest.md'}")
        for f in fails:
            err.print(Text.assemble(("pure-test or development writer past threshold:", "red"), f" {f}"))
    if check and fails:
        raise typer.Exit(1)


def _previous(path: Path) -> dict[str, Any]:
    """A previous report.json, checked to hold the rows a comparison needs."""
    try:
        prev = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInput(f"--previous {path}: not a readable report.json ({e})") from e
    if not isinstance(prev, dict) or not isinstance(prev.get("rows"), list):
        raise InvalidInput(f"--previous {path}: not a report.json of qa-service eval (it has no rows)")
    return prev


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the project when inside it."""
    from qa_service.config import PROJECT_ROOT

    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _baselines(engine: Any, items: list[Any], show: bool) -> dict[str, dict[str, Any]]:
    """The retrieval-only baselines on the same items and word budget (the service's longest answer)."""
    from qa_service.baseline import build_baseline, llama_index_target, top_cosine_target, top_passage_target
    from qa_service.evaluate import run_eval
    from qa_service.progress import progress_bar

    words = engine.settings.answer.longest_answer_words
    # every paper the service answers from, as the quickstart would load the corpus folder (not the primary alone:
    # with papers of readers' own, a question about one of them would find nothing)
    papers = [p for p in engine.index.papers if p.kind == "paper"]
    base = build_baseline(papers, engine.embedder.model_path, k=1)
    targets = {
        "top /search passage": top_passage_target(engine, words),
        "top-2 cosine sentences of the top-10 passages": top_cosine_target(engine, words),
        "llama-index quickstart top node": llama_index_target(base, words),
    }
    out: dict[str, dict[str, Any]] = {}
    with progress_bar("baselines", len(targets), show) as advance:
        for name, target in targets.items():
            report = run_eval(target, items)
            out[name] = {"summary": report["summary"], "writers": report["writers"]}
            advance(1)
    return out


def _ablations(
    engine: Any, items: list[Any], pure: set[str], show: bool, cache: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Leave-one-writer-out without each component: each group of the reader's features (read.GROUPS), the
    training on follow-ups, the composition's extras, the decider; summarised per held-out writer, over the
    training writers only (what decides whether a component stays never sees a pure-test writer)."""
    from dataclasses import replace

    from qa_service.answer import Composition
    from qa_service.evaluate import report_of
    from qa_service.learn import TrainingSettings, held_out_rows
    from qa_service.progress import progress_bar
    from qa_service.read import GROUPS

    base = TrainingSettings()
    # components are judged on the training writers only: what decides whether one stays never sees a pure test
    training = [i for i in items if i.writer not in pure]
    variants: dict[str, TrainingSettings] = {
        f"the reader as shipped ({len(base.features)} features)": base,
        "reader: plain cosine": replace(base, features=("cosine",)),
        **{
            f"reader without {group} ({', '.join(names)})": replace(
                base, features=tuple(f for f in base.features if f not in names)
            )
            for group, names in GROUPS.items()
        },
        "reader trained on single questions only (no follow-ups)": replace(base, follow_ups=False),
        "one reader for single questions and follow-ups": replace(base, follow_reader=False),
        "composition: the best sentence only": replace(
            base,
            compositions=(
                Composition(
                    max_words=400, max_sentences=1, relative_keep=1.01, adjacent_keep=1.01, context=False
                ),
            ),
        ),
        "composition: no context rules (lead-in, pronoun, caption, missing reason, short best sentence)": replace(
            base, compositions=tuple(c for c in base.compositions if not c.context)
        ),
        "composition: a why-question's best sentence that gives no reason brings no next one": replace(
            base, compositions=tuple(c for c in base.compositions if not c.reasons)
        ),
        "composition: a short best sentence brings no next one": replace(
            base, compositions=tuple(c for c in base.compositions if not c.elaborate)
        ),
        "decider off: never abstain": replace(base, abstain=False),
    }
    out: dict[str, dict[str, Any]] = {}
    with progress_bar("ablations", len(variants), show) as advance:
        for name, cfg in variants.items():
            rows, _ = held_out_rows(engine, training, set(), cfg, cache=cache)
            report = report_of(rows)
            out[name] = {"summary": report["summary"], "writers": report["writers"]}
            advance(1)
    return out
