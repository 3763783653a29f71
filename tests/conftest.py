"""Shared fixtures: the real paper, the real embedding model, a real Chroma index in a temp dir, the real app."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa_service.answer import Answer
from qa_service.config import PROJECT_ROOT, Settings
from qa_service.corpus import load_corpus
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.models import Paper

CORPUS = PROJECT_ROOT / "corpus"
PAPER_FILE = CORPUS / "papers" / "tookhy-2025-international-cooperation-on-afghanistan.txt"


def pytest_configure(config: pytest.Config) -> None:
    """Servers the tests start export the ONNX encoder (the default) on first use: once per session, into one
    folder every process of the session shares, not once per temporary data directory."""
    folder = tempfile.mkdtemp(prefix="qa-test-onnx-")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.environ.setdefault("QA_EMBED__ONNX_DIR", folder)


@pytest.fixture(scope="session")
def paper() -> Paper:
    return load_corpus(CORPUS)[0]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    e = Embedder()
    e.encode_query("warm-up")
    return e


def answering_footnotes(a: Answer) -> set[tuple[str, int]]:
    """The footnotes an answer cites: those of its sentences that answer, not of those shown for context."""
    assert not a.sentences or any(not s.context for s in a.sentences), "an answer has a sentence that answers"
    return {(s.footnote_doc, n) for s in a.sentences if not s.context for n in s.footnotes}


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **kw: object) -> Settings:
    return Settings(data_dir=data_dir, corpus_dir=corpus_dir, progress=False, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def engine(settings: Settings, embedder: Embedder) -> Engine:
    run_ingest(settings, embedder=embedder)
    e = Engine(settings, embedder=embedder)
    e.load()
    return e


@pytest.fixture(scope="session")
def client(engine: Engine) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(engine.settings, engine=engine)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until_ready(http: httpx.Client, proc: subprocess.Popen[bytes]) -> str:
    """The /ready detail of a server process once it serves (it loads the model and the index first)."""
    for _ in range(6000):  # bounded: until the server answers /ready (it loads the model and the index)
        assert proc.poll() is None, "the server exited"
        try:
            r = http.get("/ready")
            if r.status_code == 200:
                return str(r.json()["detail"])
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server never became ready")


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma run did not start")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` on loopback: the one .ci/run started (QA_TEST_CHROMA_URL), else our own."""
    url = os.environ.get("QA_TEST_CHROMA_URL")
    if url:
        parts = httpx.URL(url)
        yield parts.host, int(parts.port or 8000)
        return
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the corpus, for tests that change it."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst, ignore=shutil.ignore_patterns("sources"))
    return dst


def make_pdf(pages: list[str]) -> bytes:
    """A PDF with one page per text (fpdf2), for source documents in tests."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


@pytest.fixture(scope="session")
def int8_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The ONNX Runtime int8 encoder, exported from the shipped model once per test session."""
    e = Embedder(backend="onnx-int8", cache_dir=tmp_path_factory.mktemp("onnx"))
    e.encode_query("warm-up")
    return e


def small_corpus(directory: Path) -> Path:
    """A corpus of one short fixture paper: an index of it embeds a few hundred texts, not thousands."""
    (directory / "papers").mkdir(parents=True)
    shutil.copy(
        PROJECT_ROOT / "tests" / "fixtures" / "papers" / "mekong-drought-brief.md", directory / "papers"
    )
    (directory / "manifest.toml").write_text(
        '[[documents]]\nid = "mekong"\npath = "papers/mekong-drought-brief.md"\nkind = "paper"\n',
        encoding="utf-8",
    )
    return directory
