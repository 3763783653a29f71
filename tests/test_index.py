"""Ingest: idempotent, incremental, atomic under kill -9, clear errors on a damaged index; both Chroma modes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_settings
from qa_service.config import Settings
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.errors import IndexCorrupt, IndexMissing
from qa_service.index import IndexState, current_state
from qa_service.models import Message
from qa_service.store import VectorStore

EXTRA = """Annex On Water

Annex Heading

{body}

1 Water Agency, “Rivers,” 2024.
"""


def add_document(corpus: Path, sentences: int = 40) -> None:
    body = (
        " ".join(
            f"The Helmand river treaty clause {i} allocates water shares between the riparian states."
            for i in range(sentences - 1)
        )
        + " Water disputes persist.\u00b9"
    )
    (corpus / "papers" / "annex.txt").write_text(EXTRA.format(body=body), encoding="utf-8")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[documents]]\nid = "annex"\npath = "papers/annex.txt"\nkind = "paper"\n')


def state(s: Settings) -> IndexState:
    st = current_state(VectorStore.from_settings(s))
    assert st is not None
    return st


def test_reingest_of_unchanged_corpus_loads_no_model(engine: Engine) -> None:
    fresh = Embedder()
    report = run_ingest(engine.settings, embedder=fresh)
    assert report.unchanged and report.embedded == 0
    assert fresh._model is None
    assert report.truncated == 0


def test_missing_index_says_how_to_build_it(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(IndexMissing, match="qa-service ingest"):
        Engine(make_settings(tmp_path / "empty"), embedder=embedder).load()


def test_incremental_ingest_embeds_only_new_text(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder, engine: Engine
) -> None:
    s = make_settings(tmp_path / "data", corpus_copy)
    shutil.copytree(engine.settings.data_dir, s.data_dir)  # start from the built index of the paper
    before = state(s)
    add_document(corpus_copy)
    report = run_ingest(s, embedder=embedder)
    assert not report.unchanged and report.documents == 2
    assert 0 < report.embedded < 150 and report.reused >= before.chunks
    e = Engine(s, embedder=embedder)
    e.load()
    assert any("Helmand" in h.chunk.text for h in e.search("Helmand river water shares", 3))
    assert state(s).previous == before.build


def test_kill_9_during_ingest_leaves_previous_index_serving(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder, engine: Engine
) -> None:
    s = make_settings(tmp_path / "data", corpus_copy)
    shutil.copytree(engine.settings.data_dir, s.data_dir)
    before = state(s)
    add_document(corpus_copy, sentences=400)
    env = dict(os.environ, QA_DATA_DIR=str(s.data_dir), QA_CORPUS_DIR=str(corpus_copy), QA_PROGRESS="false")
    cli = Path(sys.executable).with_name("qa-service")
    proc = subprocess.Popen(
        [str(cli), "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    store = VectorStore.from_settings(s)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if any(b.status == "building" for b in store.builds()):
            os.kill(proc.pid, signal.SIGKILL)  # mid-write: the new build's collections half filled
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"
    assert state(s) == before  # the half-written build was never published
    served = Engine(s, embedder=embedder)
    served.load()
    answer = served.ask([Message(role="user", content="When did the SCO create a contact group?")])
    assert "2005" in answer.answer
    report = run_ingest(s, embedder=embedder)  # the next run completes it
    assert not report.unchanged and report.documents == 2
    after = Engine(s, embedder=embedder)
    after.load()
    assert any("Helmand" in h.chunk.text for h in after.search("Helmand river treaty clause", 3))
    assert after.index.state.build == report.build != before.build


def test_damaged_index_gives_clear_error_and_ingest_rebuilds(
    tmp_path: Path, embedder: Embedder, engine: Engine
) -> None:
    s = make_settings(tmp_path / "data")
    shutil.copytree(engine.settings.data_dir, s.data_dir)
    store = VectorStore.from_settings(s)
    store.publish("{ half written")
    with pytest.raises(IndexCorrupt, match="ingest --rebuild"):
        Engine(s, embedder=embedder).load()
    assert not run_ingest(s, embedder=embedder).unchanged  # a damaged record is rebuilt, not served
    e = Engine(s, embedder=embedder)
    e.load()
    built = state(s)
    passages = store.collection(built.build, "passages")
    first = next(store.read(passages, ["metadatas"]))
    damaged = {**first["metadatas"][0], "chunk": json.dumps({"id": 1})}
    store.client.get_collection(passages).update(ids=[first["ids"][0]], metadatas=[damaged])
    with pytest.raises(IndexCorrupt, match="damaged"):
        Engine(s, embedder=embedder).load()
    store.drop(store.collection(built.build, "vectors"))
    with pytest.raises(IndexCorrupt, match="incomplete"):  # never served half
        Engine(s, embedder=embedder).load()


def test_server_mode(tmp_path: Path, chroma_server: tuple[str, int], embedder: Embedder) -> None:
    host, port = chroma_server
    s = make_settings(
        tmp_path / "data", chroma_host=host, chroma_port=port, index={"collection_prefix": f"t{os.getpid()}"}
    )
    report = run_ingest(s, embedder=embedder)
    assert report.store == f"server {host}:{port}" and report.chunks > 100
    assert not (s.data_dir / "chroma").exists()  # everything lives on the server
    store = VectorStore.from_settings(s)
    assert store.collection(report.build, "passages") in store.collections()
    e = Engine(s, embedder=embedder)
    e.load()
    assert e.ready()[0]
    hits = e.search("When did the SCO create a contact group?", 3, "dense")
    assert any("2005" in h.chunk.text for h in hits)
    assert run_ingest(s, embedder=embedder).unchanged


def test_ingest_reports_its_progress(tmp_path: Path, embedder: Embedder) -> None:
    from qa_service.corpus import load_corpus
    from qa_service.index import ingest

    corpus = tmp_path / "corpus"
    (corpus / "papers").mkdir(parents=True)
    shutil.copyfile(
        Path(__file__).parent / "fixtures" / "papers" / "mekong-drought-brief.md", corpus / "papers" / "m.md"
    )
    (corpus / "manifest.toml").write_text('[[documents]]\nid = "m"\npath = "papers/m.md"\n', encoding="utf-8")
    s = make_settings(tmp_path / "data", corpus, index={"batch_size": 50})
    store = VectorStore.from_settings(s)
    seen: list[tuple[str, int, int]] = []
    report = ingest(load_corpus(corpus), s, embedder, store, progress=lambda *a: seen.append(a))
    total = report.embedded
    steps = [done for stage, done, _ in seen if stage == "embedding"]
    assert steps == [*range(0, total, 50), total] and {t for st, _, t in seen if st == "embedding"} == {total}
    assert [st for st, _, _ in seen if st != "embedding"] == ["writing", "published"]
    assert current_state(store) is not None  # "published" came once it was
    seen.clear()
    assert ingest(load_corpus(corpus), s, embedder, store, progress=lambda *a: seen.append(a)).unchanged
    assert seen == [("published", 0, 0)]
