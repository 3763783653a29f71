"""The encoders of the shipped model: ONNX Runtime fp32 gives PyTorch's vectors and shares its index; int8 agrees
with fp32 on the corpus, cuts at the same 256 word pieces, is exported once into its folder; an index records its
encoder, and neither a server nor an ingest mixes vectors of two encoders that differ."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import make_settings, small_corpus
from qa_service import embed
from qa_service.config import Settings
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.errors import EncoderMismatch
from qa_service.index import IndexState, build_chunks, current_state
from qa_service.models import Message, Paper
from qa_service.store import VectorStore

LONG = " ".join(
    ["The committee discussed frozen reserves and the humanitarian exemptions of the regime."] * 40
)


def test_int8_vectors_agree_with_fp32_on_every_corpus_sentence(
    paper: Paper, embedder: Embedder, int8_embedder: Embedder
) -> None:
    settings = make_settings(Path("unused"))
    texts = list(dict.fromkeys(s.text for c in build_chunks([paper], settings) for s in c.sentences))
    fp32, int8 = embedder.encode(texts), int8_embedder.encode(texts)
    assert int8.shape == fp32.shape and int8.dtype == np.float32
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)  # normalised, like fp32
    cos = (fp32 * int8).sum(axis=1)
    # measured at a mean of 0.992 and a 1st percentile of 0.988 (per-channel weights); per-tensor was 0.958
    assert cos.mean() > 0.985 and np.percentile(cos, 1) > 0.97
    # what retrieval reads: the same nearest sentence for most queries
    queries = embedder.encode(texts[::10]), int8_embedder.encode(texts[::10])
    same = ((queries[0] @ fp32.T).argmax(1) == (queries[1] @ int8.T).argmax(1)).mean()
    assert same == 1.0


def test_both_encoders_cut_at_256_word_pieces(embedder: Embedder, int8_embedder: Embedder) -> None:
    for e in (embedder, int8_embedder):
        assert e.max_tokens == 256
        assert e.encoder.token_count(LONG) > 256  # counted in full, so a cut is reported
        assert e.count_truncated([LONG, "A short sentence."]) == 1
        cut, longer = e.encode([LONG, LONG + " Then something else entirely about the harvest."])
        assert float(cut @ longer) > 0.99999  # the tail past the window is not seen
    assert float(embedder.encode([LONG])[0] @ int8_embedder.encode([LONG])[0]) > 0.97


def test_the_int8_model_is_exported_once_and_reused(
    tmp_path: Path, int8_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = int8_embedder._cache_dir
    assert folder is not None
    files = sorted(folder.glob("*.onnx"))
    sizes = {p.name.rsplit("-", 1)[-1]: p.stat().st_size for p in files}
    assert set(sizes) == {"fp32.onnx", "int8.onnx"}  # the fp32 export it was quantised from is kept
    assert sizes["int8.onnx"] < 40_000_000 < sizes["fp32.onnx"]  # int8: a quarter of fp32's 90 MB
    mtimes = [p.stat().st_mtime_ns for p in files]
    again = Embedder(backend="onnx-int8", cache_dir=folder)
    assert np.array_equal(again.encode(["frozen assets"]), int8_embedder.encode(["frozen assets"]))
    assert sorted(folder.glob("*.onnx")) == files and [p.stat().st_mtime_ns for p in files] == mtimes
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left
    # a new recipe is a new file: the old one is not taken for it
    monkeypatch.setattr(embed, "EXPORT_VERSION", "test-recipe")
    exported: list[Path] = []
    monkeypatch.setattr(embed, "_export", lambda _m, out: (exported.append(out), out.write_bytes(b"x")))
    path = embed.onnx_model(int8_embedder.model_path, tmp_path, quantized=False)
    assert path.read_bytes() == b"x" and path.name not in {p.name for p in files} and len(exported) == 1


def test_onnx_fp32_gives_pytorchs_vectors_and_serves_its_index(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    onnx = Embedder(backend="onnx", cache_dir=int8_embedder._cache_dir)  # the fp32 file is already there
    texts = [LONG, "A short sentence.", "When was the Mekong River Commission created?", "frozen assets"]
    cos = (onnx.encode(texts) * embedder.encode(texts)).sum(axis=1)
    assert cos.min() > 0.99999
    assert onnx.name == embedder.name != int8_embedder.name  # one key, one vector per text
    s = make_settings(tmp_path / "data", small_corpus(tmp_path / "corpus"))
    run_ingest(s, embedder=embedder)
    engine = Engine(s, embedder=onnx)
    engine.load()  # a PyTorch build is served by ONNX Runtime fp32, and the other way round
    answer = engine.ask([Message(role="user", content="When was the Mekong River Commission created?")])
    assert not answer.abstained and "1995" in answer.answer
    again = run_ingest(s, embedder=onnx)
    assert again.unchanged and again.embedded == 0
    with pytest.raises(EncoderMismatch, match="ONNX Runtime int8"):
        Engine(s, embedder=int8_embedder).load()
    rebuilt = run_ingest(s, rebuild=True, embedder=onnx)  # a build ONNX Runtime embedded...
    state = current_state(VectorStore.from_settings(s))
    assert rebuilt.embedded > 0 and state is not None and state.encoder == "onnx"
    torch_engine = Engine(s, embedder=embedder)  # ...is served by PyTorch, with the same answer
    torch_engine.load()
    again_answer = torch_engine.ask([Message(role="user", content="When was the Mekong River Commission created?")])
    assert again_answer.answer == answer.answer


def test_settings_choose_the_encoder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_EMBED__BACKEND", "onnx-int8")
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QA_EMBED__ONNX_DIR", raising=False)
    e = Embedder.from_settings(Settings())
    assert e.backend == "onnx-int8" and e._cache_dir == tmp_path / "models"
    assert e.name != Embedder().name  # vectors of the two are keyed apart
    monkeypatch.setenv("QA_EMBED__BACKEND", "fp16")
    with pytest.raises(ValueError, match="onnx-int8"):
        Settings()


def test_an_index_records_its_encoder_and_is_never_mixed(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    s = make_settings(tmp_path / "data", small_corpus(tmp_path / "corpus"))
    report = run_ingest(s, embedder=int8_embedder)
    state = current_state(VectorStore.from_settings(s))
    assert state is not None and (state.model, state.encoder) == ("all-MiniLM-L6-v2", "onnx-int8")
    # the int8 index answers, end to end
    engine = Engine(s, embedder=int8_embedder)
    engine.load()
    answer = engine.ask([Message(role="user", content="When was the Mekong River Commission created?")])
    assert not answer.abstained and "1995" in answer.answer
    # a server of the other encoder refuses it, saying which is which
    with pytest.raises(EncoderMismatch, match=r"ONNX Runtime int8.*PyTorch fp32"):
        Engine(s, embedder=embedder).load()
    # an ingest of the other encoder refuses to add its vectors to it...
    with pytest.raises(EncoderMismatch, match="--rebuild"):
        run_ingest(s, embedder=embedder)
    assert current_state(VectorStore.from_settings(s)) == state
    # ...and with --rebuild re-embeds everything (nothing reused across encoders)
    rebuilt = run_ingest(s, rebuild=True, embedder=embedder)
    assert rebuilt.reused == 0 and rebuilt.embedded == report.embedded
    new = current_state(VectorStore.from_settings(s))
    assert new is not None and new.encoder == "torch" and new.generation != state.generation
    assert engine.refresh(force=True) is False  # the int8 server keeps its build and says why
    ready, why = engine.ready()
    assert ready and re.search("PyTorch fp32.*ONNX Runtime int8", why)
    Engine(s, embedder=embedder).load()  # its own encoder's server serves it


def test_a_build_recorded_before_the_choice_is_a_pytorch_one() -> None:
    record = {
        "generation": "g",
        "build": "g-1",
        "model": "all-MiniLM-L6-v2",
        "created": "2025-01-01T00:00:00+00:00",
        "documents": {},
        "chunks": 0,
        "sentences": 0,
        "vectors": 0,
        "papers": 0,
    }
    state = IndexState.model_validate(record)
    assert state.encoder == "torch" and Embedder().name == state.model  # its vectors' keys are unchanged


class _Recorder:
    """An Encoder that records the batches it is given (each text's vector: its length, then ones)."""

    dimension, max_tokens = 3, 256

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.array([[len(t), 1.0, 1.0] for t in texts], dtype=np.float32)

    def token_count(self, text: str) -> int:
        return len(text.split())


def test_texts_embedded_together_are_batched_by_length_not_padded_to_the_longest() -> None:
    e = Embedder(backend="onnx", batch_length_ratio=2.0)
    recorder = _Recorder()
    e._model = recorder
    question = "Which countries took part in the meetings held in Moscow in 2023?"
    texts = ["gatherings", question, "talks", question.replace("Moscow", "Tehran"), "neighbours"]
    vectors = e.encode_together(texts)
    assert [v[0] for v in vectors] == [len(t) for t in texts]  # each text's own vector, in order
    assert sorted(map(sorted, recorder.batches)) == [
        sorted([question, question.replace("Moscow", "Tehran")]),
        ["gatherings", "neighbours", "talks"],
    ]
    # PyTorch pays a fixed cost per call, more than the padding: its texts share one batch
    pytorch = Embedder(backend="torch", batch_length_ratio=2.0)
    pytorch._model = torch_recorder = _Recorder()
    assert [v[0] for v in pytorch.encode_together(texts)] == [len(t) for t in texts]
    assert len(torch_recorder.batches) == 1
    # through the query batcher (its worker thread) each caller still gets its own text's vector
    assert [v[0] for v in e.encode_queries(["one question", "a second, longer question"])] == [12, 25]


def test_counting_tokens_waits_for_the_encoder_like_encoding_does() -> None:
    """A build counts the tokens of its texts while requests are embedded (an upload while serving): the
    tokenizer is the encoder's, and a count in the middle of a batch leaves the batch unpadded (a 500), so it
    takes the same lock as encoding (a probe encoder in place of the model: the upload test drives the real
    one)."""
    e = Embedder()
    seen: list[bool] = []

    class Probe:
        dimension, max_tokens = 3, 10

        def encode_batch(self, texts: list[str]) -> np.ndarray:
            seen.append(e._encode_lock.locked())
            return np.ones((len(texts), 3), dtype=np.float32)

        def token_count(self, text: str) -> int:
            seen.append(e._encode_lock.locked())
            return len(text.split())

    e._model = Probe()
    assert e.count_truncated(["one two three four five six seven eight nine ten eleven", "short"]) == 1
    assert e.encode(["a", "b"]).shape == (2, 3)
    assert seen == [True, True]

