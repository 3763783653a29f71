"""The scale benchmark's synthetic papers go through the real parser like any paper, are distinct and seeded;
the benchmark itself runs end to end on a small size and writes its JSON and plot."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import CORPUS, PAPER_FILE, make_settings, small_corpus
from qa_service.bench import bench_encoder, bench_scale, quality_drops
from qa_service.config import PROJECT_ROOT
from qa_service.corpus import load_corpus
from qa_service.embed import Embedder, default_model_path
from qa_service.index import build_chunks
from qa_service.synthetic import topical_swaps, write_corpus

WORDS = (Path(default_model_path()) / "vocab.txt").read_text(encoding="utf-8").split()
PAPER_TEXT = PAPER_FILE.read_text(encoding="utf-8")


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
    saved = json.loads((eval_dir / "reports" / "bench-scale-torch.json").read_text())  # named by its encoder
    assert saved == result and (eval_dir / "reports" / "bench-scale-torch.png").stat().st_size > 10_000
    one, two = result["per_size"]["1"], result["per_size"]["2"]
    assert result["sizes"] == [1, 2] and two["documents"] == 2 and two["passages"] > 1.5 * one["passages"]
    assert two["texts_reused"] >= one["texts_embedded"]  # the larger corpus embeds only its new papers
    assert one["raw_encode_texts"] == two["raw_encode_texts"] == 40
    for row in (one, two):
        assert row["ingest_over_raw_encode_rate"] > 0 and row["index_bytes_on_disk"] > 0
        assert row["search_ms"]["p50"] > 0 and row["chat_p50_over_1x"] > 0


def test_quality_drops_reads_each_metric_in_its_direction() -> None:
    fp32 = {"evidence_recall_at_1": 0.8, "false_abstention_rate": 0.1, "items": 10, "latency_ms_p50": 5.0}
    int8 = {"evidence_recall_at_1": 0.75, "false_abstention_rate": 0.05, "items": 10, "latency_ms_p50": 1.0}
    assert quality_drops(fp32, int8) == {"evidence_recall_at_1": 0.05, "false_abstention_rate": -0.05}


def test_bench_encoder_compares_the_encoders_in_one_run(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    corpus = small_corpus(tmp_path / "corpus")
    eval_dir = tmp_path / "eval"
    (eval_dir / "sets").mkdir(parents=True)
    items = [
        {"id": "m1", "writer": "a", "question": "When was the Mekong River Commission created?",
         "gold_evidence": ["created in 1995"], "must_include": [["1995"]]},
        {"id": "m2", "writer": "b", "question": "Which countries created the Mekong River Commission?",
         "gold_evidence": ["Cambodia, Laos, Thailand and Vietnam"], "must_include": [["Cambodia"]]},
        {"id": "m3", "writer": "b", "question": "What did the brief say about Antarctic krill quotas?",
         "answerable": False},
        {"id": "m4", "writer": "c", "question": "What year did the commission come into being?",
         "gold_evidence": ["created in 1995"], "must_include": [["1995"]]},
    ]  # fmt: skip
    (eval_dir / "sets" / "mekong.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    settings = make_settings(tmp_path / "data", corpus, eval_dir=eval_dir)
    onnx = Embedder(backend="onnx", cache_dir=int8_embedder._cache_dir)
    encoders = {"torch": embedder, "onnx": onnx, "onnx-int8": int8_embedder}
    result = bench_encoder(settings, queries=16, embedders=encoders)
    assert json.loads((eval_dir / "reports" / "bench-encoder.json").read_text()) == result
    sentences = {s.text for c in build_chunks(load_corpus(corpus), settings) for s in c.sentences}
    agree = result["agreement_with_torch"]
    assert set(agree) == {"onnx", "onnx-int8"}
    assert agree["onnx"]["sentences"]["cosine_min"] > 0.99999  # the same vectors
    int8 = agree["onnx-int8"]["sentences"]
    assert int8["texts"] == len(sentences) and 0.98 < int8["cosine_mean"] < 0.99999
    assert int8["cosine_min"] <= int8["cosine_p1"] <= 1.0
    speed = result["speed"]
    for name in encoders:
        assert speed["single_query_ms"][name]["p50"] > 0 and speed["batch_of_16_ms"][name]["p50"] > 0
        assert speed["ingest"][name]["texts_embedded"] > len(sentences)
    assert set(speed["single_query_p50_torch_over"]) == {"onnx", "onnx-int8"}
    ev = result["eval"]
    assert ev["items"] == 4
    for how in ("held_out", "shipped"):
        assert set(ev[how]["writers"]["torch"]) == {"a", "b", "c"}
        assert ev[how]["writers"]["onnx-int8"]["b"]["items"] == 2
        # ONNX Runtime fp32 answers exactly as PyTorch does
        quality = [
            {w: {k: v for k, v in row.items() if not k.startswith("latency")} for w, row in writers.items()}
            for writers in (ev[how]["writers"]["torch"], ev[how]["writers"]["onnx"])
        ]
        assert quality[0] == quality[1]
    torch_macro, int8_macro = ev["held_out"]["macro"]["torch"], ev["held_out"]["macro"]["onnx-int8"]
    drops = ev["drop_from_torch"]["onnx-int8"]
    assert drops["held_out_macro"]["mrr"] == round(torch_macro["mrr"] - int8_macro["mrr"], 4)
    assert drops["held_out_macro"]["false_abstention_rate"] == round(
        int8_macro["false_abstention_rate"] - torch_macro["false_abstention_rate"], 4
    )
    worst = max(drops["worst_held_out_macro"], drops["worst_shipped_macro"])
    assert result["recommendation"]["may_be_default"]["onnx-int8"] == (worst <= 0.01)
    assert result["load_average"]["before"] >= 0


def test_topical_papers_are_the_paper_with_other_names_and_numbers(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "a", 3, seed=5, base=CORPUS, topical=True)
    paper, *topical = load_corpus(corpus)
    assert [p.doc_id for p in topical] == ["topical-0001", "topical-0002"]
    own = [s.text for _, _, s in paper.sentences()]
    for p in topical:
        assert p.problems == [] and len(p.references) == len(paper.references)
        assert [r.number for r in p.references] == [r.number for r in paper.references]
        marked = {n for _, _, s in p.sentences() for n in s.footnotes}
        assert marked == {n for _, _, s in paper.sentences() for n in s.footnotes}  # markers untouched
        texts = [s.text for _, _, s in p.sentences()]
        assert abs(len(texts) - len(own)) <= 0.05 * len(own)  # the same sentences...
        assert len(set(texts) - set(own)) >= 0.6 * len(own)  # ...most with other names or numbers
        assert p.metadata.title != paper.metadata.title or p.metadata.author != paper.metadata.author
        # a name is replaced by one other name, everywhere
        target = topical_swaps(PAPER_TEXT, 5 * 100_003 + int(p.doc_id[-4:]))["Afghanistan"]
        assert target != "Afghanistan" and _count("Afghanistan", texts) < _count("Afghanistan", own) / 5
        assert _count(target, texts) >= 0.95 * _count("Afghanistan", own)
    again = write_corpus(tmp_path / "b", 3, seed=5, base=CORPUS, topical=True)
    other = write_corpus(tmp_path / "c", 3, seed=6, base=CORPUS, topical=True)
    name = "papers/topical-0002.txt"
    assert (again / name).read_text() == (corpus / name).read_text() != (other / name).read_text()


def _count(word: str, texts: list[str]) -> int:
    return sum(len(re.findall(rf"(?<![\w-]){word}(?![\w-])", t)) for t in texts)


def test_bench_scale_topical_with_the_int8_encoder(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    eval_dir = tmp_path / "eval"
    (eval_dir / "sets").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "eval" / "sets" / "team.jsonl", eval_dir / "sets")
    settings = make_settings(tmp_path / "unused", eval_dir=eval_dir, retrieval={"expand": False})
    result = bench_scale(
        settings, [1, 2], queries=3, http=False, raw_limit=40, embedder=int8_embedder, topical=True
    )
    reports = sorted(p.name for p in (eval_dir / "reports").iterdir())
    assert reports == ["bench-scale-topical-onnx-int8.json", "bench-scale-topical-onnx-int8.png"]
    assert "int8" in result["encoder"] and "fp32" in result["reference"]
    one, two = result["per_size"]["1"], result["per_size"]["2"]
    assert two["documents"] == 2 and 0.9 * 2 * one["passages"] <= two["passages"] <= 1.1 * 2 * one["passages"]
    assert two["texts_embedded"] < one["texts_embedded"]  # its sentences without names or numbers: reused
    assert 0 <= two["chat_answered_share"] <= 1 and two["chat_p50_over_1x"] > 0
