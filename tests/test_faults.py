"""Faults: a Chroma server that goes away makes /ready 503 with the reason while the service keeps answering
from the index build it holds in memory; it recovers by itself when Chroma returns. A service with no index
yet says so (503) and how to build one."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from conftest import free_port, make_settings, start_chroma
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest


def test_chroma_server_outage_makes_ready_503_then_recovers(tmp_path: Path, embedder: Embedder) -> None:
    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        s = make_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port)
        run_ingest(s, embedder=embedder)
        engine = Engine(s, embedder=embedder)
        engine.load()
        with TestClient(create_app(s, engine=engine)) as client:
            q = {"messages": [{"role": "user", "content": "When did India reopen its embassy in Kabul?"}]}
            assert client.post("/chat", json=q).status_code == 200
            server.terminate()
            server.wait(timeout=20)
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json()["ready"] is False
            assert "vector store unavailable" in ready.json()["detail"]
            assert client.get("/health").status_code == 200  # alive, not ready
            down = client.post("/chat", json={"messages": [{"role": "user", "content": "Who is Lavrov?"}]})
            assert down.status_code == 200 and down.json()["passages"]  # answered from the build in memory
            server = start_chroma(tmp_path / "chroma", port)  # same data, same port
            assert client.get("/ready").status_code == 200
            again = client.post("/chat", json={"messages": [{"role": "user", "content": "Who is Lavrov?"}]})
            assert again.status_code == 200 and again.json() == down.json()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_service_without_index_starts_and_says_why(tmp_path: Path) -> None:
    s = make_settings(tmp_path / "nothing")
    with TestClient(create_app(s)) as client:
        assert client.get("/health").status_code == 200
        r = client.get("/ready")
        assert r.status_code == 503 and "ingest" in r.json()["detail"]
        chat = client.post("/chat", json={"messages": [{"role": "user", "content": "hi"}]})
        assert chat.status_code == 503 and "qa-service ingest" in chat.json()["detail"]
