"""Scale-out: replicas that need only Chroma's address, follow new index builds while serving, survive a
Chroma outage, and never serve half a build; ingest never prunes what a live server holds.

Replicas are real `qa-service serve` processes on loopback. Waits are bounded loops on observable state
(/ready's detail names the build served); reloads are triggered by /ready, never waited for by the clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import free_port, make_settings, start_chroma
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.errors import IndexCorrupt
from qa_service.index import current_state
from qa_service.store import VectorStore

CLI = str(Path(sys.executable).with_name("qa-service"))
SCO = "When did the SCO create a contact group?"

PAPER = """Annex On {topic}

Annex Heading

{body}

1 {topic} Agency, “Annual Report,” 2024.
"""


def add_paper(corpus: Path, doc_id: str, topic: str, sentences: int = 12) -> None:
    """A small paper about `topic` (a made-up word no other document uses)."""
    lines = [
        f"The {topic} compact clause {i} assigns grazing rights to the {topic} valley herders."
        for i in range(sentences - 1)
    ]
    body = " ".join([*lines, f"The {topic} compact was signed in the spring.\u00b9"])
    (corpus / "papers" / f"{doc_id}.txt").write_text(PAPER.format(topic=topic, body=body), encoding="utf-8")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[[documents]]\nid = "{doc_id}"\npath = "papers/{doc_id}.txt"\nkind = "paper"\n')


def until(check: Callable[[], Any], what: str, limit_s: float = 240.0) -> Any:
    """Wait for `check()` to return something truthy, checking state in a bounded loop."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Replica:
    """`qa-service serve` in a process of its own."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        full = dict(os.environ, QA_DATA_DIR=str(data_dir), QA_PROGRESS="false", **env)
        self.proc = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port)],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def up(self) -> bool:
        assert self.proc.poll() is None, "the replica exited"
        return self.http.get("/health").status_code == 200

    def ready(self) -> tuple[int, str]:
        r = self.http.get("/ready")
        return r.status_code, r.json()["detail"]

    def serves(self, build: str) -> bool:
        status, detail = self.ready()
        return status == 200 and f"build {build}" in detail

    def ask(self, question: str) -> httpx.Response:
        return self.http.post("/chat", json={"messages": [{"role": "user", "content": question}]})

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture()
def replicas() -> Iterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for r in started:
        r.stop()


def test_replicas_need_only_chroma_follow_ingests_and_survive_an_outage(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder, replicas: list[Replica]
) -> None:
    port = free_port()
    chroma = start_chroma(tmp_path / "chroma", port)
    try:
        env = {
            "QA_CHROMA_HOST": "127.0.0.1",
            "QA_CHROMA_PORT": str(port),
            "QA_CORPUS_DIR": str(tmp_path / "no-corpus"),  # a replica has no corpus, only Chroma's address
            "QA_SERVER__FOLLOW_INTERVAL_S": "1",
        }
        replicas += [Replica(env, tmp_path / "replica-a"), Replica(env, tmp_path / "replica-b")]
        until(lambda: all(r.up() for r in replicas), "both replicas to start")
        for r in replicas:  # started before any ingest: they say so, and how to fix it
            status, detail = r.ready()
            assert status == 503 and "no index" in detail and "qa-service ingest" in detail
            assert r.ask(SCO).status_code == 503

        s = make_settings(tmp_path / "ingest-data", corpus_copy, chroma_host="127.0.0.1", chroma_port=port)
        first = run_ingest(s, embedder=embedder)
        until(lambda: all(r.serves(first.build) for r in replicas), "both replicas to load the index")
        a, b = (r.ask(SCO) for r in replicas)
        assert a.status_code == b.status_code == 200 and "2005" in a.json()["answer"]
        assert a.json() == b.json()  # the same build, the same answer, whatever the data directory
        assert not any((tmp_path / d).joinpath("chroma").exists() for d in ("replica-a", "replica-b"))

        add_paper(corpus_copy, "annex-vel", "Velmora")
        second = run_ingest(s, embedder=embedder)  # an ingest "from another machine"
        until(lambda: all(r.serves(second.build) for r in replicas), "both replicas to follow the ingest")
        found = [
            r.http.post("/search", json={"query": "Velmora compact grazing rights", "k": 3}) for r in replicas
        ]
        assert found[0].json() == found[1].json()
        assert found[0].json() and all("Velmora compact clause" in hit["text"] for hit in found[0].json())

        before = replicas[0].ask(SCO).json()
        chroma.terminate()  # outage
        chroma.wait(timeout=30)
        for r in replicas:
            status, detail = r.ready()
            assert status == 503 and "vector store unavailable" in detail
            assert r.http.get("/health").status_code == 200
        during = [r.ask(SCO) for r in replicas]  # answered from the build held in memory
        assert all(x.status_code == 200 and x.json() == before for x in during)

        chroma = start_chroma(tmp_path / "chroma", port)  # back, same data
        until(lambda: all(r.ready()[0] == 200 for r in replicas), "both replicas to recover")
        add_paper(corpus_copy, "annex-tor", "Torvane")
        third = run_ingest(s, embedder=embedder)
        until(lambda: all(r.serves(third.build) for r in replicas), "both replicas to follow after recovery")
        answers = [r.ask("What does the Torvane compact assign?").json() for r in replicas]
        assert answers[0] == answers[1] and "Torvane" in answers[0]["answer"]
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)


def test_server_under_load_while_two_ingests_run_beside_it(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder, replicas: list[Replica]
) -> None:
    """Embedded mode, two processes: the server follows the ingests; no request fails meanwhile."""
    s = make_settings(tmp_path / "data", corpus_copy)
    first = run_ingest(s, embedder=embedder)
    env = {
        "QA_CORPUS_DIR": str(corpus_copy),
        "QA_SERVER__FOLLOW_INTERVAL_S": "0.5",
    }
    server = Replica(env, s.data_dir)
    replicas.append(server)
    until(lambda: server.serves(first.build), "the server to load the index")

    stop = threading.Event()
    outcomes: list[int] = []

    def load(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for i in range(5000):  # bounded; stopped once the ingests are followed
                if stop.is_set():
                    return
                q = f"{SCO} ({worker}-{i})"  # distinct questions: no cache hits
                try:
                    if i % 2:
                        r = http.post("/search", json={"query": q, "k": 5})
                    else:
                        r = http.post("/chat", json={"messages": [{"role": "user", "content": q}]})
                    outcomes.append(r.status_code)
                except httpx.HTTPError:
                    outcomes.append(-1)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    try:
        add_paper(corpus_copy, "annex-one", "Quillmark")
        second = run_ingest(s, embedder=embedder)
        add_paper(corpus_copy, "annex-two", "Brennhold")
        third = run_ingest(s, embedder=embedder)
        until(lambda: server.serves(third.build), "the server to follow both ingests")
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=120)
    assert second.build != third.build and len(outcomes) > 20
    assert outcomes.count(200) == len(outcomes), f"errors: {[o for o in outcomes if o != 200][:5]}"
    for topic in ("Quillmark", "Brennhold"):
        hits = server.http.post("/search", json={"query": f"{topic} compact grazing rights", "k": 3}).json()
        assert hits and all(f"{topic} compact clause" in hit["text"] for hit in hits)
        answer = server.ask(f"What does the {topic} compact assign?").json()
        assert topic in answer["answer"] and not answer["abstained"]


def test_ingest_never_prunes_a_build_a_live_server_holds(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder
) -> None:
    s = make_settings(tmp_path / "data", corpus_copy, server={"follow_interval_s": 3600})
    store = VectorStore.from_settings(s)
    first = run_ingest(s, embedder=embedder)
    server = Engine(s, embedder=embedder)
    server.follow(s.server.follow_interval_s)  # loads the index now, then sleeps: it holds `first`
    try:
        until(lambda: server.loaded, "the server to load")
        assert server.index.state.build == first.build
        add_paper(corpus_copy, "annex-one", "Quillmark")
        second = run_ingest(s, embedder=embedder)
        add_paper(corpus_copy, "annex-two", "Brennhold")
        third = run_ingest(s, embedder=embedder)  # `first` is neither current nor previous: only leased
        assert first.build not in third.pruned
        assert {b.build for b in store.builds()} >= {first.build, second.build, third.build}
        assert server.refresh() and server.index.state.build == third.build
        add_paper(corpus_copy, "annex-three", "Corvelle")
        fourth = run_ingest(s, embedder=embedder)  # now `first` and `second` are free
        assert set(fourth.pruned) == {first.build, second.build}
        assert {b.build for b in store.builds()} == {third.build, fourth.build}
    finally:
        server.stop_following()
    assert not any(lease.server == server.server_id for lease in store.leases())


def test_a_published_but_incomplete_build_is_never_served(
    tmp_path: Path, chroma_server: tuple[str, int], embedder: Embedder
) -> None:
    host, port = chroma_server
    s = make_settings(tmp_path, chroma_host=host, chroma_port=port, index={"collection_prefix": "thalf"})
    first = run_ingest(s, embedder=embedder)
    engine = Engine(s, embedder=embedder)
    engine.load()
    store = VectorStore.from_settings(s)
    state = current_state(store)
    assert state is not None
    half = state.model_copy(update={"build": "half-written", "chunks": 10})
    store.begin_build("half-written", half.model_dump_json())
    store.publish(half.model_dump_json())  # as if a broken writer published too early
    assert not engine.refresh()
    assert engine.index.state.build == first.build  # still the complete one
    ok, detail = engine.ready()
    assert ok and "half-written cannot be served" in detail and "incomplete" in detail
    assert engine.search(SCO, 3)
    with pytest.raises(IndexCorrupt, match="incomplete"):
        Engine(s, embedder=embedder).load()  # a fresh replica refuses it too
