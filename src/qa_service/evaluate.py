"""Evaluation: metrics as small pure functions, and run_eval() over a question set and conversations.

A passage "holds the evidence" when it contains one of the item's gold_evidence strings (after the one
normaliser: quotes, dashes, whitespace, case). Our own arithmetic, deliberately simple: each id counts once.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from qa_service.errors import InvalidInput
from qa_service.text import normalize


class EvalItem(BaseModel):
    id: str
    writer: str = Field(
        "", description="Who wrote the item: the headline is leave-one-writer-out, so every item names one."
    )
    category: str = "general"
    set: str = Field("", description="The file it came from (eval/sets/<set>.jsonl).")
    document: str = Field("", description="The document whose footnotes gold_footnotes are; empty: any.")
    question: str = ""
    turns: list[str] = Field(default_factory=list)
    answers: list[str] = Field(
        default_factory=list,
        description="The writer's expected answers to the earlier turns (what a follow-up refers to); "
        "documentation only: the service is asked with its own earlier answers.",
    )
    answerable: bool = True
    answer: str = ""
    must_include: list[list[str]] = Field(default_factory=list)
    gold_footnotes: list[int] = Field(default_factory=list)
    gold_evidence: list[str] = Field(default_factory=list)

    @property
    def conversation(self) -> bool:
        return len(self.turns) > 1


def load_items(path: Path, category: str | None = None) -> list[EvalItem]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read ({exc})") from exc
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate_json(line)
        except ValidationError as exc:
            raise InvalidInput(f"{path}:{i}: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from exc
        if not item.question and not item.turns:
            raise InvalidInput(f"{path}:{i}: item has neither question nor turns")
        update: dict[str, Any] = {"set": item.set or path.stem, "writer": item.writer or path.stem}
        if category or item.conversation:
            update["category"] = category or "conversation"
        items.append(item.model_copy(update=update))
    return items


def lowercased(items: list[EvalItem]) -> list[EvalItem]:
    """The items asked as a reader who types in lower case would ask them ("what did sapt say about the
    zlf"); what counts as right is unchanged. How much a metric falls is how much the question reading leans
    on the reader's capitals."""
    return [
        i.model_copy(update={"question": i.question.lower(), "turns": [t.lower() for t in i.turns]}) for i in items
    ]


def load_eval_sets(eval_dir: Path) -> list[EvalItem]:
    """Every set in eval_dir/sets/ (one file per writer and kind: `<writer>.jsonl`,
    `<writer>-conversations.jsonl`)."""
    items: list[EvalItem] = []
    for path in sorted((eval_dir / "sets").glob("*.jsonl")):
        items += load_items(path)
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{eval_dir}: duplicate item ids across the evaluation sets")
    return items


# ---------------------------------------------------------------- metrics


def evidence_rank(passages: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first passage that contains any gold evidence string; None if none does."""
    keys = [normalize(g) for g in gold if g.strip()]
    for rank, text in enumerate(passages, 1):
        t = normalize(text)
        if any(k in t for k in keys):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None]) -> float:
    return sum(1.0 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def footnote_scores(pred: Iterable[int], gold: Iterable[int]) -> tuple[float | None, float | None]:
    """(precision, recall) of cited footnotes; None where undefined (nothing predicted / nothing gold)."""
    p, g = set(pred), set(gold)
    precision = len(p & g) / len(p) if p else None
    recall = len(p & g) / len(g) if g else None
    return precision, recall


def fact_coverage(answer: str, must_include: Sequence[Sequence[str]]) -> float | None:
    """Share of key facts (each a list of acceptable spellings) found in the answer text."""
    if not must_include:
        return None
    a = normalize(answer)
    return sum(1 for group in must_include if any(normalize(x) in a for x in group)) / len(must_include)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    idx = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[idx]


def _mean(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.fmean(vals), 4) if vals else None


# ---------------------------------------------------------------- citations of generated answers (ALCE)

# A generated sentence and the texts of the evidence it cites (None: a number it was not given).
Statement = tuple[str, list[str | None]]
Judge = Callable[[str, Sequence[str]], bool]  # do these evidence texts support this sentence?


def _supported(judge: Judge, text: str, cited: Sequence[str | None]) -> bool:
    given = [c for c in cited if c is not None]
    return bool(given) and judge(text, given)


def citation_recall(statements: Sequence[Statement], judge: Judge) -> float | None:
    """ALCE citation recall: the share of statements that cite something and whose cited evidence, taken
    together, supports them. None when there are no statements."""
    if not statements:
        return None
    return sum(_supported(judge, t, c) for t, c in statements) / len(statements)


def citation_precision(statements: Sequence[Statement], judge: Judge) -> float | None:
    """ALCE citation precision: the share of citations that are relevant. A citation of a statement its
    citations do not support is not; of a supported statement, one is irrelevant when it does not support
    the statement alone and the other citations still do without it. None when nothing is cited."""
    total = correct = 0
    for text, cited in statements:
        total += len(cited)
        if not _supported(judge, text, cited):
            continue
        if len(cited) == 1:
            correct += 1
            continue
        for i, c in enumerate(cited):
            alone = _supported(judge, text, [c])
            rest = cited[:i] + cited[i + 1 :]
            correct += alone or not _supported(judge, text, rest)
    return correct / total if total else None


def generated_statements(resp: dict[str, Any], shown_only: bool = True) -> list[Statement]:
    """The statements of a /chat response in generate mode: the sentences shown, or (shown_only=False) every
    sentence the LLM wrote, the dropped ones included, each with the evidence texts it cites."""
    evidence = {e["n"]: e["text"] for e in resp.get("evidence", [])}
    written = resp.get("generated", []) + ([] if shown_only else resp.get("unsupported", []))
    return [(s["text"], [evidence.get(n) for n in s["evidence"]]) for s in written]


def citation_row(resp: dict[str, Any], judge: Judge) -> dict[str, Any]:
    shown, raw = generated_statements(resp), generated_statements(resp, shown_only=False)
    return {
        "mode": resp.get("mode", "extractive"),
        "sentences_written": len(raw),
        "sentences_dropped": len(resp.get("unsupported", [])),
        "citation_recall": citation_recall(shown, judge),
        "citation_precision": citation_precision(shown, judge),
        "citation_recall_raw": citation_recall(raw, judge),
        "citation_precision_raw": citation_precision(raw, judge),
    }


def citation_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Generate-mode figures: how often the LLM's answer was shown (not the extractive fallback), and ALCE
    citation recall/precision of the sentences shown and of all it wrote (raw: before the checks)."""
    answered = [r for r in rows if not r["abstained"]]
    written = sum(r.get("sentences_written", 0) for r in rows)
    return {
        "generated_share": round(sum(r.get("mode") == "generate" for r in answered) / len(answered), 4)
        if answered
        else None,
        "sentences_dropped_share": round(sum(r.get("sentences_dropped", 0) for r in rows) / written, 4)
        if written
        else None,
        "citation_recall": _mean([r.get("citation_recall") for r in rows]),
        "citation_precision": _mean([r.get("citation_precision") for r in rows]),
        "citation_recall_raw": _mean([r.get("citation_recall_raw") for r in rows]),
        "citation_precision_raw": _mean([r.get("citation_precision_raw") for r in rows]),
    }


# ---------------------------------------------------------------- runner


class Target(Protocol):
    def __call__(self, messages: list[dict[str, str]]) -> dict[str, Any]: ...


def history(target: Target, item: EvalItem) -> list[dict[str, str]]:
    """The messages that ask the item's question: for a conversation, each earlier turn is asked first and
    the service's own answer joins the history, as a person's client would send it."""
    messages: list[dict[str, str]] = []
    turns = item.turns or [item.question]
    for t in turns[:-1]:
        messages.append({"role": "user", "content": t})
        messages.append({"role": "assistant", "content": str(target(list(messages)).get("answer", ""))})
    messages.append({"role": "user", "content": turns[-1]})
    return messages


def ask(target: Target, item: EvalItem) -> dict[str, Any]:
    """The service's answer to the item's question (see `history`)."""
    return target(history(target, item))


def score_item(item: EvalItem, resp: dict[str, Any], seconds: float) -> dict[str, Any]:
    passages = [p["text"] for p in resp.get("passages", [])]
    rank = evidence_rank(passages, item.gold_evidence) if item.answerable and item.gold_evidence else None
    # a footnote of another document than the item's is a wrong citation, whatever its number
    cited = [
        f["number"]
        if not item.document or f.get("document", item.document) == item.document
        else -f["number"]
        for f in resp.get("footnotes", [])
    ]
    abstained = bool(resp.get("abstained"))
    precision, recall = footnote_scores(cited, item.gold_footnotes) if item.answerable else (None, None)
    return {
        "id": item.id,
        "writer": item.writer,
        "set": item.set,
        "category": item.category,
        "kind": resp.get("kind", ""),
        "confidence": resp.get("confidence"),
        "answerable": item.answerable,
        "abstained": abstained,
        "has_evidence": bool(item.gold_evidence),
        "evidence_rank": rank,
        "footnotes": cited,
        "gold_footnotes": item.gold_footnotes,
        "footnote_precision": precision if item.gold_footnotes or cited else None,
        "footnote_recall": recall,
        "fact_coverage": fact_coverage(resp.get("answer", ""), item.must_include)
        if item.answerable
        else None,
        "answer_words": len(resp.get("answer", "").split()),
        "answer": resp.get("answer", ""),
        "seconds": round(seconds, 4),
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    convs = [r for r in rows if r["category"] == "conversation"]
    ranks = [r["evidence_rank"] for r in ans if r["has_evidence"]]
    lat = [r["seconds"] * 1000 for r in rows]
    return {
        "items": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        "evidence_recall_at_1": round(recall_at(ranks, 1), 4),
        "evidence_recall_at_5": round(recall_at(ranks, 5), 4),
        "mrr": round(mrr(ranks), 4),
        "footnote_recall": _mean([r["footnote_recall"] for r in ans]),
        "footnote_precision": _mean([r["footnote_precision"] for r in ans]),
        "fact_coverage": _mean([r["fact_coverage"] for r in ans]),
        "abstention_rate": round(sum(r["abstained"] for r in una) / len(una), 4) if una else None,
        "false_abstention_rate": round(sum(r["abstained"] for r in ans) / len(ans), 4) if ans else None,
        "mean_answer_words": _mean([float(r["answer_words"]) for r in ans if not r["abstained"]]),
        "follow_ups_right": round(sum(correct(r) for r in convs) / len(convs), 4) if convs else None,
        "latency_ms_p50": round(percentile(lat, 50), 2),
        "latency_ms_p95": round(percentile(lat, 95), 2),
    } | (citation_summary(rows) if any("citation_recall_raw" in r for r in rows) else {})


def run_eval(
    target: Target,
    items: list[EvalItem],
    on_item: Callable[[], None] | None = None,
    judge: Judge | None = None,
) -> dict[str, Any]:
    """`judge`: for generate mode, whether evidence texts support a sentence; adds ALCE-style citation
    precision and recall of the generated sentences to each row and summary."""
    rows = []
    for item in items:
        t0 = time.perf_counter()
        resp = ask(target, item)
        row = score_item(item, resp, time.perf_counter() - t0)
        rows.append(row | citation_row(resp, judge) if judge else row)
        if on_item:
            on_item()
    return report_of(rows)


def report_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summaries overall, per writer, per set, per category; and the reliability of the confidence the
    service reports."""

    def group(key: Callable[[dict[str, Any]], str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(key(r), []).append(r)
        return dict(sorted(out.items()))

    return {
        "summary": summarize(rows),
        "writers": {k: summarize(v) for k, v in group(lambda r: r.get("writer", "")).items()},
        "sets": {k: summarize(v) for k, v in group(lambda r: r.get("set", "")).items()},
        "categories": {c: summarize(rs) for c, rs in group(lambda r: r["category"]).items()},
        "reliability": reliability(rows),
        "rows": rows,
    }


def correct(row: dict[str, Any]) -> bool:
    """An answer is right when the question is answerable, it answered, and it holds at least half the key
    facts (or, with no key facts listed, its first passage holds the evidence); an abstention is right when
    the question is not answerable."""
    if not row["answerable"]:
        return bool(row["abstained"])
    if row["abstained"]:
        return False
    facts = row.get("fact_coverage")
    return facts >= 0.5 if facts is not None else row.get("evidence_rank") == 1


def reliability(rows: list[dict[str, Any]], bins: int = 5) -> list[dict[str, Any]]:
    """Answered questions binned by the confidence the service gave: how many, and the share answered right.
    A calibrated service is right about as often as it says."""
    out = []
    answered = [r for r in rows if not r["abstained"] and r.get("confidence") is not None]
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [
            r for r in answered if lo <= r["confidence"] < hi or (b == bins - 1 and r["confidence"] >= hi)
        ]
        out.append(
            {
                "bin": f"{lo:.1f}-{hi:.1f}",
                "answered": len(inside),
                "mean_confidence": _mean([float(r["confidence"]) for r in inside]),
                "share_correct": round(sum(correct(r) for r in inside) / len(inside), 4) if inside else None,
            }
        )
    return out


def engine_target(
    engine: Any, mode: str = "hybrid", generator: Any = None, answer_mode: str | None = None
) -> Target:
    """In-process: the engine's answer as POST /chat would send it (built by the same schema function);
    with a generator and answer_mode "generate", the LLM-written answer, checked, as /chat sends it."""
    from qa_service.models import Message
    from qa_service.schemas import to_chat

    def call(messages: list[dict[str, str]]) -> dict[str, Any]:
        msgs = [Message(**m) for m in messages]
        if generator is None or answer_mode != "generate":
            return to_chat(engine.ask(msgs, mode=mode), engine).model_dump()
        answer, generation = generator.generate(engine.ask(msgs, mode=mode), msgs)
        return to_chat(answer, engine, generation).model_dump()

    return call


def http_target(
    base_url: str, timeout: float = 60.0, client: Any = None, answer_mode: str | None = None
) -> Target:
    """Through POST /chat of a running service (`client`: an httpx.Client to use instead, e.g. a test client)."""
    import httpx

    client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def call(messages: list[dict[str, str]]) -> dict[str, Any]:
        r = client.post("/chat", json={"messages": messages} | ({"mode": answer_mode} if answer_mode else {}))
        if r.status_code != 200:
            raise InvalidInput(f"{base_url}/chat answered {r.status_code}: {r.text[:200]}")
        return dict(r.json())

    return call


def dump(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


def load_thresholds(path: Path, writer: str | None = None) -> dict[str, dict[str, float]]:
    """eval/thresholds.toml: [min] and [max] tables of metrics guarding the pure-test writers, and for one
    `writer` its own [writer.<name>.min] and [writer.<name>.max] entries over them; a writer with none is an
    error (a pure-test writer must not go unguarded by a misspelt name)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read thresholds ({exc})") from exc
    tables = data.get("writer", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise InvalidInput(f"{path}: 'writer' must hold [writer.<name>.min] and [writer.<name>.max] tables")
    if writer is not None and writer not in tables:
        raise InvalidInput(f"{path}: no [writer.{writer}.min] or [writer.{writer}.max] for the writer '{writer}'")
    own = tables.get(writer, {}) if writer else {}
    return {side: dict(data.get(side, {})) | dict(own.get(side, {})) for side in ("min", "max")}


def check_thresholds(summary: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Failures as sentences; empty when every metric is on the right side of its threshold."""
    fails = []
    for key, floor in thresholds.get("min", {}).items():
        v = summary.get(key)
        if v is None or v < floor:
            fails.append(f"{key} = {v} is below {floor}")
    for key, ceiling in thresholds.get("max", {}).items():
        v = summary.get(key)
        if v is None or v > ceiling:
            fails.append(f"{key} = {v} is above {ceiling}")
    return fails


def load_pure_test(eval_dir: Path) -> set[str]:
    """The writers never trained or tuned on: eval/writers.toml's `pure_test` and `development` writers (whose
    failures may be read: `load_development`)."""
    return _writers(eval_dir, "pure_test") | _writers(eval_dir, "development")


def load_development(eval_dir: Path) -> set[str]:
    """The writers in eval/writers.toml's `development`: never trained on, like the pure-test writers, but
    their failures were read to find changes, so their figures are no unseen writer's."""
    return _writers(eval_dir, "development")


def _writers(eval_dir: Path, key: str) -> set[str]:
    import tomllib

    path = eval_dir / "writers.toml"
    if not path.exists():
        return set()
    try:
        return {str(w) for w in tomllib.loads(path.read_text(encoding="utf-8")).get(key, [])}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read ({exc})") from exc
