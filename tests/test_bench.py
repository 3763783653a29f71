"""The scale benchmark's synthetic papers go through the real parser like any paper, are distinct and seeded;
the benchmark itself runs end to end on a small size and writes its JSON and plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import CORPUS, make_settings
from qa_service.bench import bench_scale
from qa_service.config import PROJECT_ROOT
from qa_service.corpus import load_corpus
from qa_service.embed import Embedder, default_model_path
from qa_service.index import build_chunks
from qa_service.synthetic import write_corpus

WORDS = (Path(default_model_path()) / "vocab.txt").read_text(encoding="utf-8").split()


def test_synthetic_papers_parse_like_the_paper_and_are_distinct(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "a", 4, seed=7, base=CORPUS, words=WORDS)
    papers = load_corpus(corpus)
    assert [p.doc_id for p in papers][1:] == ["synthetic-0001", "synthetic-0002", "synthetic-0003"]
    paper, synthetic = papers[0], papers[1:]
    settings = make_settings(tmp_path / "data")
    size = len(build_chunks([paper], settings))
    seen: set[str] = set()
    for p in synthetic:
        assert p.problems == [] and p.metadata.title and len(p.sections) >= 8
        marked = {n for _, _, s in p.sentences() for n in s.footnotes}
        assert marked == {r.number for r in p.references} and len(marked) >= 20  # every marker resolves
        assert 0.7 * size <= len(build_chunks([p], settings)) <= 1.4 * size  # the paper's size
        texts = {s.text for _, _, s in p.sentences() if len(s.text.split()) > 8}
        assert not texts & seen  # no sentence repeated across papers
        seen |= texts
    again = write_corpus(tmp_path / "b", 4, seed=7, base=CORPUS, words=WORDS)
    other = write_corpus(tmp_path / "c", 4, seed=8, base=CORPUS, words=WORDS)
    name = "papers/synthetic-0002.txt"
    assert (again / name).read_text() == (corpus / name).read_text() != (other / name).read_text()


def test_bench_scale_reports_every_size(tmp_path: Path, embedder: Embedder) -> None:
    eval_dir = tmp_path / "eval"
    (eval_dir / "sets").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "eval" / "sets" / "team.jsonl", eval_dir / "sets")
    settings = make_settings(tmp_path / "unused", eval_dir=eval_dir, retrieval={"expand": False})
    result = bench_scale(settings, [2, 1], queries=3, http=False, raw_limit=40, embedder=embedder)
    saved = json.loads((eval_dir / "reports" / "bench-scale.json").read_text())
    assert saved == result and (eval_dir / "reports" / "bench-scale.png").stat().st_size > 10_000
    one, two = result["per_size"]["1"], result["per_size"]["2"]
    assert result["sizes"] == [1, 2] and two["documents"] == 2 and two["passages"] > 1.5 * one["passages"]
    assert two["texts_reused"] >= one["texts_embedded"]  # the larger corpus embeds only its new papers
    assert one["raw_encode_texts"] == two["raw_encode_texts"] == 40
    for row in (one, two):
        assert row["ingest_over_raw_encode_rate"] > 0 and row["index_bytes_on_disk"] > 0
        assert row["search_ms"]["p50"] > 0 and row["chat_p50_over_1x"] > 0
