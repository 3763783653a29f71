"""Serving beyond one's own machine: bearer-token auth on the API and MCP (server.api_keys; /health and
/ready open), and Chroma's token auth passed through to a Chroma server that requires it (behind a checking
proxy)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.app import create_app
from conftest import free_port, make_settings
from qa_service.engine import Engine
from qa_service.errors import StoreUnavailable
from qa_service.store import VectorStore

QUESTION = {"messages": [{"role": "user", "content": "When did the SCO create a contact group?"}]}


@pytest.fixture()
def secured(engine: Engine) -> Iterator[TestClient]:
    settings = engine.settings.model_copy(
        update={"server": engine.settings.server.model_copy(update={"api_keys": ["k-one", "k-two"]})}
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def test_api_keys_guard_everything_but_health_and_ready(secured: TestClient) -> None:
    assert secured.get("/health").status_code == 200
    assert secured.get("/ready").status_code == 200
    assert secured.get("/").status_code == 200  # the web page loads, and asks for the key
    missing = secured.post("/chat", json=QUESTION)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong = secured.post("/chat", json=QUESTION, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "the API key is not valid"}
    assert secured.get("/footnotes", headers={"Authorization": "Basic k-one"}).status_code == 401
    ok = secured.post("/chat", json=QUESTION, headers={"Authorization": "Bearer k-two"})
    assert ok.status_code == 200 and "2005" in ok.json()["answer"]
    for path in ("/footnotes", "/documents", "/citations/1", "/v1/models"):
        assert secured.get(path).status_code == 401
        assert secured.get(path, headers={"Authorization": "Bearer k-one"}).status_code == 200
    mcp = secured.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert mcp.status_code == 401 and mcp.headers["www-authenticate"] == "Bearer"
    keyed = secured.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": "Bearer k-one"},
    )
    assert keyed.status_code != 401  # past the key check, the MCP server answers (its own protocol rules)


def test_openai_client_sends_the_key(secured: TestClient) -> None:
    from openai import AuthenticationError, OpenAI

    good = OpenAI(base_url="http://testserver/v1", api_key="k-one", http_client=secured)
    reply = good.chat.completions.create(
        model="qa-service", messages=[{"role": "user", "content": QUESTION["messages"][0]["content"]}]
    )
    assert "2005" in (reply.choices[0].message.content or "")
    bad = OpenAI(base_url="http://testserver/v1", api_key="k-three", http_client=secured, max_retries=0)
    with pytest.raises(AuthenticationError):
        bad.models.list()


def _token_proxy(upstream: str, token: str) -> Starlette:
    """A stand-in for a Chroma server with token auth: forwards to `upstream` only with the right bearer."""
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def forward(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        r = await client.request(
            request.method,
            request.url.path,
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
        return Response(r.content, r.status_code, media_type=r.headers.get("content-type"))

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


@pytest.fixture()
def token_chroma(chroma_server: tuple[str, int]) -> Iterator[tuple[str, int]]:
    host, port = chroma_server
    proxy_port = free_port()
    config = uvicorn.Config(
        _token_proxy(f"http://{host}:{port}", "s3cret"), host="127.0.0.1", port=proxy_port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(2000):  # bounded: until the proxy accepts connections
        if server.started:
            break
        time.sleep(0.01)
    assert server.started
    try:
        yield "127.0.0.1", proxy_port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_chroma_token_is_passed_through(tmp_path: Any, token_chroma: tuple[str, int]) -> None:
    host, port = token_chroma
    s = make_settings(
        tmp_path,
        chroma_host=host,
        chroma_port=port,
        chroma_token="s3cret",
        index={"collection_prefix": "tauth"},
    )
    store = VectorStore.from_settings(s)
    assert store.heartbeat()
    store.publish('{"probe": true}')
    assert store.current() == '{"probe": true}'
    anonymous = VectorStore.from_settings(s.model_copy(update={"chroma_token": ""}))
    assert not anonymous.heartbeat()
    with pytest.raises(StoreUnavailable):
        anonymous.current()
