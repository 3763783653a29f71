"""Papers added, removed and their sources fetched over HTTP, as jobs: the real app through a real client (and
a real uvicorn server on loopback where requests run at once), the real model, real Chroma (embedded, and a
real `chroma run` where marked), a real local HTTP server for sources.

Waits are on observable state: a job's event stream ends when the job is done or failed, and the tests read
it to its end (never sleep-polling); load loops are bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from conftest import CORPUS, free_port, make_pdf, make_settings, until_ready
from fixture_pdfs import (
    bomb_pdf,
    encrypted_pdf,
    grid_resilience_pdf,
    image_only_pdf,
    many_pages_pdf,
    zip_named_pdf,
)
from qa_service.config import Settings
from qa_service.corpus import read_manifest
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.index import current_state
from qa_service.jobs import Job, recover
from qa_service.store import VectorStore

PAPERS = Path(__file__).parent / "fixtures" / "papers"
CLI = str(Path(sys.executable).with_name("qa-service"))
GRID = "Grid Resilience After Storms"
PARAMETRIC = "What can parametric insurance pay for after a storm?"


# ---------------------------------------------------------------------------------------------- helpers


def snapshot(corpus: Path) -> dict[str, bytes]:
    return {str(p.relative_to(corpus)): p.read_bytes() for p in sorted(corpus.rglob("*")) if p.is_file()}


def follow(http: Any, job: str) -> list[dict[str, Any]]:
    """Every job event of GET /jobs/{job}/events, read until the stream ends (the job is done or failed)."""
    events = []
    with http.stream("GET", f"/jobs/{job}/events", timeout=600) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    assert events and events[-1]["state"] in ("done", "failed")
    return events


def upload(http: Any, name: str, data: bytes, **form: str) -> Any:
    return http.post("/documents", files={"file": (name, data, "application/octet-stream")}, data=form)


@contextmanager
def live(app: Any) -> Iterator[str]:
    """The app served by uvicorn on loopback (a listening socket first: early requests wait in its backlog)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def bundled(tmp: Path, engine: Engine, **kw: Any) -> Settings:
    """A private copy of the bundled corpus and of its built index (so nothing is embedded twice)."""
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("sources"))
    s = make_settings(tmp / "data", corpus, **kw)
    shutil.copytree(engine.settings.data_dir, s.data_dir, ignore=shutil.ignore_patterns("jobs"))
    return s


def small(tmp: Path, **kw: Any) -> Settings:
    """A corpus of one short paper (the markdown brief): quick to ingest from nothing."""
    corpus = tmp / "corpus"
    (corpus / "papers").mkdir(parents=True)
    shutil.copyfile(PAPERS / "mekong-drought-brief.md", corpus / "papers" / "mekong.md")
    (corpus / "manifest.toml").write_text(
        '[[documents]]\nid = "mekong"\npath = "papers/mekong.md"\nkind = "paper"\n', encoding="utf-8"
    )
    return make_settings(tmp / "data", corpus, **kw)


def job_files(s: Settings) -> list[Path]:
    d = s.data_dir / "jobs"
    return sorted(d.glob("*.json")) + sorted((d / "uploads").glob("*")) if d.exists() else []


# ---------------------------------------------------------------------------------------------- bad uploads


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, engine: Engine, embedder: Embedder) -> Iterator[Any]:
    s = bundled(tmp_path_factory.mktemp("guarded"), engine, server={"max_upload_bytes": 3_000_000})
    e = Engine(s, embedder=embedder)
    e.load()
    with TestClient(create_app(s, engine=e)) as client:
        client.settings = s  # type: ignore[attr-defined]
        yield client


BAD_UPLOADS = [
    ("bomb.pdf", bomb_pdf, {}, 413, "decompression bomb"),
    ("long.pdf", lambda: many_pages_pdf(5000), {}, 413, "the PDF has 5,000 pages; the limit is 500"),
    ("locked.pdf", encrypted_pdf, {}, 422, "locked.pdf: the PDF is encrypted (it needs a password)"),
    ("scan.pdf", image_only_pdf, {}, 422, "scan.pdf: no text in any of its 2 page(s): an image-only"),
    ("brief.pdf", zip_named_pdf, {}, 422, "brief.pdf: not a PDF file (no %PDF- header)"),
    ("../../x.pdf", grid_resilience_pdf, {}, 422, "the file name '../../x.pdf' is not a plain file name"),
    (
        "notes.txt",
        lambda: "Pr\xe9cis of the notes.\n".encode("latin-1"),
        {},
        422,
        "notes.txt: line 1: not UTF-8",
    ),
    ("empty.md", lambda: b"", {}, 422, "empty.md: the document is empty"),
    (
        "huge.txt",
        lambda: b"word " * 700_000,
        {},
        413,
        "at most 3,000,000 bytes (QA_SERVER__MAX_UPLOAD_BYTES)",
    ),
    (
        "over.txt",
        lambda: b"w" * 3_000_001,
        {},
        413,
        "over.txt: a paper's file may have at most 3,000,000 bytes",
    ),
    ("wordy.txt", lambda: b"word " * 420_000, {}, 413, "the limit is 2,000,000 (QA_PAPERS__MAX_CHARS)"),
    ("brief.docx", zip_named_pdf, {}, 422, "unsupported file type '.docx'"),
    (
        "gap.txt",
        lambda: (PAPERS / "malformed" / "numbering-gap.txt").read_bytes(),
        {},
        422,
        "jumps from 2 to 4",
    ),
    ("grid.pdf", grid_resilience_pdf, {"id": "tookhy-2025"}, 422, "document id 'tookhy-2025' is already in"),
    ("grid.pdf", grid_resilience_pdf, {"id": "bad id!"}, 422, "document id 'bad id!' is not valid"),
    (
        "copy.txt",
        lambda: next((CORPUS / "papers").iterdir()).read_bytes(),
        {},
        422,
        "same file is already in",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "form", "status", "detail"),
    BAD_UPLOADS,
    ids=[
        "bomb",
        "5000-pages",
        "encrypted",
        "image-only",
        "zip-as-pdf",
        "path-in-name",
        "not-utf8",
        "empty",
        "over-upload-bytes",
        "just-over-upload-bytes",
        "over-chars",
        "docx",
        "numbering-gap",
        "duplicate-id",
        "bad-id",
        "same-file",
    ],
)
def test_a_bad_upload_is_refused_naming_the_problem_and_changes_nothing(
    guarded: Any, name: str, make: Any, form: dict[str, str], status: int, detail: str
) -> None:
    s: Settings = guarded.settings
    store = VectorStore.from_settings(s)
    corpus, served, docs = snapshot(s.corpus_dir), store.current(), guarded.get("/documents").json()
    r = upload(guarded, name, make(), **form)
    assert r.status_code == status, r.text
    assert detail in r.json()["detail"]
    assert str(s.data_dir) not in r.json()["detail"]  # the upload's name, never where it lay on the server
    assert snapshot(s.corpus_dir) == corpus
    assert store.current() == served
    assert guarded.get("/documents").json() == docs
    assert job_files(s) == []  # no job, nothing left of the upload


def test_requests_that_are_not_uploads(guarded: Any) -> None:
    r = guarded.post("/documents", data={"id": "no-file"})
    assert r.status_code == 422 and "file" in json.dumps(r.json()["detail"])
    r = guarded.post("/documents", content=b"x" * 4_000_000, headers={"content-type": "multipart/form-data"})
    assert r.status_code == 413 and "at most 3,000,000 bytes" in r.json()["detail"]
    assert guarded.delete("/documents/nope").status_code == 404
    only = guarded.delete("/documents/tookhy-2025")
    assert only.status_code == 422 and "only paper" in only.json()["detail"]
    assert guarded.post("/documents/nope/sources/fetch").status_code == 404
    r = guarded.post("/documents/tookhy-2025/sources/fetch", json={"numbers": [47]})
    assert r.status_code == 422 and "no footnote 47" in r.json()["detail"]
    assert guarded.get("/jobs/0123456789abcdef").status_code == 404
    assert guarded.get("/jobs/..%2F..%2Fetc").status_code == 404
    assert guarded.get("/jobs/0123456789abcdef/events").status_code == 404
    assert job_files(guarded.settings) == []


# ---------------------------------------------------------------------------------------------- one upload


def test_upload_is_ingested_as_a_job_with_progress_then_answers_and_removal(
    tmp_path: Path, engine: Engine, embedder: Embedder
) -> None:
    s = bundled(tmp_path, engine)
    e = Engine(s, embedder=embedder)
    e.load()
    before = e.index.state.build
    with TestClient(create_app(s, engine=e)) as http:
        r = upload(http, "Grid Resilience (final).pdf", grid_resilience_pdf(), date="Autumn 2023")
        assert r.status_code == 202 and r.headers["location"] == f"/jobs/{r.json()['job']}"
        job, doc = r.json()["job"], r.json()["document"]
        assert doc == "grid-resilience-final"
        assert doc in {d.id for d in read_manifest(s.corpus_dir)}  # stored at once...
        events = follow(http, job)
        assert events[-1]["state"] == "done" and events[-1]["error"] == ""
        # A stream sends the job as it is when it looks (a slow client skips versions, never lags behind);
        # `steps` keeps every stage reached, with its last message and progress.
        assert [ev["version"] for ev in events] == sorted({ev["version"] for ev in events})
        steps = {st["stage"]: st for st in events[-1]["steps"]}
        assert list(steps) == ["starting", "parsing", "parsed", "embedding", "writing", "published"]
        assert steps["parsed"]["message"] == "2 papers and 0 fetched sources parsed"
        n = steps["embedding"]["progress"]["total"]
        assert n > 0 and steps["embedding"]["progress"]["done"] == n
        assert steps["embedding"]["message"] == f"{n:,} of {n:,} texts embedded"
        assert steps["published"]["message"] == f"build {events[-1]['build']} published"
        embedding = [ev for ev in events if ev["stage"] == "embedding"]
        assert all(ev["progress"]["unit"] == "texts" for ev in embedding)
        assert all(
            ev["message"] == f"{ev['progress']['done']:,} of {ev['progress']['total']:,} texts embedded"
            for ev in embedding
        )
        assert events[-1]["progress"]["done"] == events[-1]["progress"]["total"] > 0
        final = http.get(f"/jobs/{job}").json()
        assert final == events[-1] and final["title"] == GRID
        assert final["documents"] == ["tookhy-2025", doc] and final["build"] != before

        # ...and served as soon as the job is done: in /documents, in answers, with its own footnotes.
        docs = http.get("/documents")
        assert docs.headers["x-index-build"] == final["build"]
        listed = {d["id"]: d for d in docs.json()}
        assert listed[doc]["title"] == GRID and listed[doc]["date"] == "Autumn 2023"
        answer = http.post("/chat", json={"messages": [{"role": "user", "content": PARAMETRIC}]}).json()
        assert not answer["abstained"]
        assert answer["footnotes"] and {f["document"] for f in answer["footnotes"]} == {doc}
        assert all(c["document"] == doc and c["page"] == 3 for c in answer["citations"])

        r = http.delete(f"/documents/{doc}")
        assert r.status_code == 202
        removal = follow(http, r.json()["job"])
        assert removal[-1]["state"] == "done" and removal[-1]["steps"][1]["stage"] == "removing"
        assert removal[-1]["documents"] == ["tookhy-2025"]
        assert doc not in {d["id"] for d in http.get("/documents").json()}
        assert not (s.corpus_dir / "papers" / f"{doc}.pdf").exists()
        again = http.post("/chat", json={"messages": [{"role": "user", "content": PARAMETRIC}]}).json()
        assert all(f["document"] != doc for f in again["footnotes"])
        assert all(p["document"] != doc for p in again["passages"])
        listing = http.get("/jobs").json()
        assert listing["accepts_changes"] is True
        assert [j["id"] for j in listing["jobs"]] == [r.json()["job"], job]


def test_a_client_that_goes_away_does_not_stop_its_job(
    tmp_path: Path, engine: Engine, embedder: Embedder
) -> None:
    s = bundled(tmp_path, engine)
    e = Engine(s, embedder=embedder)
    e.load()
    with live(create_app(s, engine=e)) as base, httpx.Client(base_url=base, timeout=120) as http:
        started = upload(http, "grid.pdf", grid_resilience_pdf()).json()
        with http.stream("GET", f"/jobs/{started['job']}/events") as r:
            first = next(line for line in r.iter_lines() if line.startswith("data: "))
        assert json.loads(first[len("data: ") :])["state"] in ("queued", "running")
        # The stream was dropped mid-job; the job carries on, and a new stream sees it to the end.
        assert follow(http, started["job"])[-1]["state"] == "done"
        assert "grid" in {d["id"] for d in http.get("/documents").json()}


# ---------------------------------------------------------------------------------------------- two at once


@pytest.mark.parametrize("where", ["embedded", pytest.param("server", marks=pytest.mark.server)])
def test_two_uploads_at_once_are_both_published_in_order(
    tmp_path: Path, embedder: Embedder, where: str, request: pytest.FixtureRequest
) -> None:
    kw: dict[str, Any] = {}
    if where == "server":
        host, port = request.getfixturevalue("chroma_server")
        kw = {
            "chroma_host": host,
            "chroma_port": port,
            "index": {"collection_prefix": f"tup{os.getpid()}"},
            "server": {"corpus_writes": True},  # the one server that holds the corpus
        }
    s = small(tmp_path, **kw)
    first = run_ingest(s, embedder=embedder)
    e = Engine(s, embedder=embedder)
    e.load()
    papers = {
        "sahel.txt": (PAPERS / "sahel-cold-chain-report.txt").read_bytes(),
        "grid.pdf": grid_resilience_pdf(),
    }
    with live(create_app(s, engine=e)) as base:
        barrier = threading.Barrier(len(papers))
        answers: dict[str, Any] = {}

        def send(name: str) -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                barrier.wait()
                answers[name] = upload(http, name, papers[name])

        threads = [threading.Thread(target=send, args=(n,)) for n in papers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 202 for r in answers.values()), [r.text for r in answers.values()]
        with httpx.Client(base_url=base, timeout=120) as http:
            ends = {name: follow(http, r.json()["job"])[-1] for name, r in answers.items()}
            a, b = sorted(ends.values(), key=lambda j: j["created"])
            assert a["state"] == b["state"] == "done", (a["error"], b["error"])
            assert a["finished"] <= b["started"]  # one at a time, in the order they came
            assert set(a["documents"]) >= {"mekong", a["document"]}
            assert b["documents"] == ["mekong", a["document"], b["document"]]  # nothing lost
            served = http.get("/documents")
            assert [d["id"] for d in served.json()] == ["mekong", a["document"], b["document"]]
            assert served.headers["x-index-build"] == b["build"]
    state = current_state(VectorStore.from_settings(s))
    assert state is not None and state.build == b["build"] and set(state.documents) == set(b["documents"])
    assert a["build"] in (state.previous, b["build"]) and first.build != a["build"]
    assert [d.id for d in read_manifest(s.corpus_dir)] == b["documents"]


# ---------------------------------------------------------------------------------------------- under load

# Ways of asking the same questions, distinct strings (no cache hits) without digits (bench.distinct_questions).
LEADS = (
    "",
    "According to the documents, ",
    "In the documents, ",
    "Tell me: ",
    "Please say: ",
    "I wonder: ",
    "Quick question: ",
    "From the papers: ",
)
ENDS = ("?", " ?", "!?", " ?!", "??")
TAILS = ("", " exactly", " in short", " please")
ABOUT_GRID = (
    "what can parametric insurance pay for after a storm",
    "why did spare transformers run out",
    "what kept clinics open after the main grid failed",
)
ABOUT_PAPER = (
    "when did the SCO create a contact group",
    "where did the US move half of the DAB assets",
    "what did Lavrov say about the new Kabul government",
)


def test_an_upload_while_serving_sixteen_clients_answers_each_from_one_build(
    tmp_path: Path, engine: Engine, embedder: Embedder
) -> None:
    s = bundled(tmp_path, engine)
    e = Engine(s, embedder=embedder)
    e.load()
    old = e.index.state.build
    store = VectorStore.from_settings(s)
    questions = [
        lead + q[0].upper() + q[1:] + tail + end
        for tail in TAILS
        for lead in LEADS
        for end in ENDS
        for pair in zip(ABOUT_GRID, ABOUT_PAPER, strict=True)
        for q in pair
    ]
    assert len(set(questions)) == len(questions) == 960
    results: list[tuple[str, int, str, dict[str, Any]]] = []
    lock = threading.Lock()
    warm, stop = threading.Event(), threading.Event()
    after: dict[int, int] = {}

    def client(w: int, base: str) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            for q in questions[w::16]:  # bounded: at most 60 distinct questions each
                if stop.is_set() and after.get(w, 0) >= 2:
                    return
                r = http.post("/chat", json={"messages": [{"role": "user", "content": q}]})
                body = r.json() if r.status_code == 200 else {}
                with lock:
                    results.append((q, r.status_code, r.headers.get("x-index-build", ""), body))
                    if len(results) >= 16:
                        warm.set()
                    if stop.is_set():
                        after[w] = after.get(w, 0) + 1

    with live(create_app(s, engine=e)) as base:
        workers = [threading.Thread(target=client, args=(w, base)) for w in range(16)]
        for t in workers:
            t.start()
        try:
            assert warm.wait(timeout=600), "no answers under load"
            with httpx.Client(base_url=base, timeout=300) as http:
                started = upload(http, "grid.pdf", grid_resilience_pdf())
                assert started.status_code == 202
                end = follow(http, started.json()["job"])[-1]
        finally:
            stop.set()
            for t in workers:
                t.join(timeout=600)
    assert end["state"] == "done", end["error"]
    new = end["build"]
    assert [code for _, code, _, _ in results if code != 200] == []  # 0 errors
    by_build = {b: [r for r in results if r[2] == b] for b in (old, new)}
    assert by_build[old] and by_build[new] and len(by_build[old]) + len(by_build[new]) == len(results)
    passages = {
        b: {i for page in store.read(store.collection(b, "passages"), []) for i in page["ids"]}
        for b in (old, new)
    }
    for build, answers in by_build.items():
        docs = {"tookhy-2025"} | ({"grid"} if build == new else set())
        for q, _, _, body in answers:  # every part of an answer is of the build that answered
            assert {p["id"] for p in body["passages"]} <= passages[build], q
            assert {p["document"] for p in body["passages"]} <= docs, q
            assert {f["document"] for f in body["footnotes"]} <= docs, q
            assert {c["passage_id"] for c in body["citations"]} <= passages[build], q
    grid_after = [body for q, _, _, body in by_build[new] if any(x in q.lower() for x in ABOUT_GRID)]
    assert grid_after and all("grid" in {p["document"] for p in body["passages"]} for body in grid_after)


# ---------------------------------------------------------------------------------------------- faults


def test_a_replica_refuses_changes_with_409(tmp_path: Path, engine: Engine) -> None:
    replica = make_settings(
        tmp_path / "replica", tmp_path / "no-corpus", chroma_host="127.0.0.1", chroma_port=free_port()
    )
    beside = make_settings(tmp_path / "beside", CORPUS, chroma_host="127.0.0.1", chroma_port=free_port())
    for s, words in [(replica, "has no corpus here"), (beside, "is a replica of the index in Chroma")]:
        with TestClient(create_app(s, engine=engine)) as http:
            for r in (
                upload(http, "grid.pdf", grid_resilience_pdf()),
                http.delete("/documents/tookhy-2025"),
                http.post("/documents/tookhy-2025/sources/fetch"),
            ):
                assert r.status_code == 409 and words in r.json()["detail"], r.text
                assert "qa-service corpus add" in r.json()["detail"]
            listing = http.get("/jobs").json()
            assert listing["accepts_changes"] is False and words in listing["detail"]
    assert not (tmp_path / "replica" / "jobs").exists()  # a replica keeps no data of its own


def test_with_api_keys_every_write_needs_a_key(tmp_path: Path, engine: Engine) -> None:
    s = bundled(tmp_path, engine, server={"api_keys": ["k-one"]})
    with TestClient(create_app(s, engine=engine)) as http:
        before = snapshot(s.corpus_dir)
        for r in (
            upload(http, "grid.pdf", grid_resilience_pdf()),
            http.delete("/documents/tookhy-2025"),
            http.post("/documents/tookhy-2025/sources/fetch"),
            http.get("/jobs"),
            http.get("/jobs/0123456789abcdef/events"),
        ):
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert snapshot(s.corpus_dir) == before
        keyed = http.post(
            "/documents",
            files={"file": ("empty.md", b"", "text/markdown")},
            headers={"Authorization": "Bearer k-one"},
        )
        assert keyed.status_code == 422  # past the key, to the file's own check


def test_a_job_left_running_by_a_dead_server_is_reported_failed_and_undone(
    tmp_path: Path, engine: Engine, embedder: Embedder
) -> None:
    """What a crash leaves (a record still running, its upload in the corpus, nothing published): the next
    start reports it failed and takes the upload out of the corpus; the previous build serves on."""
    s = bundled(tmp_path, engine)
    corpus_before = snapshot(s.corpus_dir)
    from qa_service.corpus import add_document

    pdf = tmp_path / "grid.pdf"
    pdf.write_bytes(grid_resilience_pdf())
    add_document(s.corpus_dir, pdf, "grid")
    (s.data_dir / "jobs").mkdir()
    crashed = Job(
        id="00000000000000aa",
        kind="add",
        document="grid",
        state="running",
        stage="embedding",
        created=time.time(),
        owner="another-host-1-dead",
    )
    (s.data_dir / "jobs" / f"{crashed.id}.json").write_text(crashed.model_dump_json(), encoding="utf-8")
    served = current_state(VectorStore.from_settings(s))
    e = Engine(s, embedder=embedder)
    e.load()
    with TestClient(create_app(s, engine=e)) as http:
        job = http.get(f"/jobs/{crashed.id}").json()
        assert job["state"] == "failed" and job["stage"] == "interrupted"
        assert job["error"].startswith("interrupted: the server stopped while this job was running")
        assert "taken out of the corpus again" in job["error"]
        assert snapshot(s.corpus_dir) == corpus_before
        assert "grid" not in {d["id"] for d in http.get("/documents").json()}
        assert served is not None and http.get("/ready").json()["detail"].count(served.build) == 1
        assert follow(http, crashed.id) == [job]  # a finished job's stream: one event, then the end
        raw = http.get(f"/jobs/{crashed.id}/events").text
        assert raw.startswith("event: job\ndata: {") and raw.endswith("}\n\n") and raw.count("\n") == 3
    assert recover(s, VectorStore.from_settings(s)) == []  # once


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.slow
def test_a_server_killed_mid_ingest_serves_the_previous_build_and_reports_the_job_failed(
    tmp_path: Path, engine: Engine
) -> None:
    from qa_service.synthetic import Vocabulary, synthetic_paper

    s = bundled(tmp_path, engine)
    paper = synthetic_paper(Vocabulary(__import__("random").Random(7)), 7, words=8000).encode()
    env = dict(os.environ, QA_CORPUS_DIR=str(s.corpus_dir), QA_DATA_DIR=str(s.data_dir), QA_PROGRESS="false")
    port = free_port()
    proc = _serve(env, port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        try:
            before = until_ready(http, proc)
            corpus = snapshot(s.corpus_dir)
            started = upload(http, "annex.txt", paper).json()
            with http.stream("GET", f"/jobs/{started['job']}/events", timeout=600) as r:
                for line in r.iter_lines():  # until it is embedding, then the server dies
                    if line.startswith("data: ") and json.loads(line[6:])["progress"]["done"] > 0:
                        break
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            proc = _serve(env, port)  # `serve` again, nothing else
            after = until_ready(http, proc)
            job = http.get(f"/jobs/{started['job']}").json()
            assert job["state"] == "failed" and job["stage"] == "interrupted", job
            assert "was running (at embedding)" in job["error"] and "taken out of the corpus" in job["error"]
            assert after.split(",")[0] == before.split(",")[0]  # the same build serves
            assert "annex" not in {d["id"] for d in http.get("/documents").json()}
            assert snapshot(s.corpus_dir) == corpus
            retry = upload(http, "annex.txt", paper)  # the dead server's locks hold nothing back
            assert retry.status_code == 202 and follow(http, retry.json()["job"])[-1]["state"] == "done"
        finally:
            proc.terminate()
            proc.wait(timeout=60)


# ---------------------------------------------------------------------------------------------- sources


class Sources(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/restoration.pdf":
            body = make_pdf(["Restoration took four months on the worst-hit islands."])
            ctype, status = "application/pdf", 200
        elif self.path == "/microgrids.html":
            body = (
                b"<html><head><title>Microgrids</title></head><body><article><h1>Microgrids for clinics</h1>"
                b"<p>Solar microgrids with batteries kept island clinics open for days after the main grid "
                b"failed in the storm season.</p><p>They are cheapest where diesel is expensive and roads "
                b"are easily blocked by fallen trees.</p></article></body></html>"
            )
            ctype, status = "text/html", 200
        else:
            body, ctype, status = b"not here", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def source_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Sources)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetching_a_papers_sources_is_a_job_with_each_sources_outcome(
    tmp_path: Path, engine: Engine, embedder: Embedder, source_server: str
) -> None:
    s = bundled(tmp_path, engine, sources={"allowed_hosts": ["127.0.0.1"], "retries": 0, "timeout_s": 5})
    brief = (
        "Island Grids\n\nA Short Note\n\nSummary\n\n"
        "Customers on the worst-hit islands waited four months for power.¹ Microgrids kept clinics open.² "
        "A private address is never fetched.³ Books are not online.⁴\n\nNotes\n\n"
        f"1. Utility review, 2018, {source_server}/restoration.pdf.\n"
        f"2. Energy lab, 2021, {source_server}/microgrids.html.\n"
        "3. Internal memo, 2022, http://10.255.255.1/memo.pdf.\n"
        "4. A. Author, Grids (Island Press, 2019).\n"
    )
    e = Engine(s, embedder=embedder)
    e.load()
    with TestClient(create_app(s, engine=e)) as http:
        added = upload(http, "island-grids.txt", brief.encode())
        assert follow(http, added.json()["job"])[-1]["state"] == "done"
        r = http.post("/documents/island-grids/sources/fetch")
        assert r.status_code == 202
        events = follow(http, r.json()["job"])
        end = events[-1]
        assert end["state"] == "done" and end["kind"] == "fetch"
        fetching = next(st for st in end["steps"] if st["stage"] == "fetching")
        assert fetching["message"] == "2 fetched, 1 failed, 1 not fetchable"
        assert fetching["progress"] == {"done": 4, "total": 4, "unit": "sources"}
        outcome = {x["number"]: x for x in end["sources"]}
        assert (outcome[1]["status"], outcome[1]["kind"], outcome[1]["pages"]) == ("ok", "pdf", 1)
        assert (outcome[2]["status"], outcome[2]["kind"]) == ("ok", "html")
        assert outcome[3]["status"] == "failed" and "non-public address" in outcome[3]["reason"]
        assert outcome[4]["status"] == "skipped" and "book" in outcome[4]["reason"]
        docs = {d["id"]: d for d in http.get("/documents").json()}
        assert docs["source-island-grids-1"]["cites_document"] == "island-grids"
        assert "source-island-grids-2" in docs and "source-island-grids-3" not in docs
        prov = json.loads((s.corpus_dir / "sources" / "island-grids" / "1" / "provenance.json").read_text())
        assert prov["status"] == "ok" and prov["sha256"] and prov["url"].endswith("/restoration.pdf")
        cite = http.get("/documents/island-grids/citations/1").json()
        assert cite["source"]["status"] == "fetched"

        gone = follow(http, http.delete("/documents/island-grids").json()["job"])[-1]
        assert gone["state"] == "done"
        ids = {d["id"] for d in http.get("/documents").json()}
        assert not {i for i in ids if "island-grids" in i}  # the paper and its sources
        assert not (s.corpus_dir / "sources" / "island-grids").exists()
