"""The MCP server through the SDK's own client: over stdio (`qa-service mcp` in a subprocess) and over
streamable HTTP (/mcp of the app under a real uvicorn server on loopback). Same passages, footnotes and
answers as the HTTP API; bad arguments get the same errors as HTTP."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client, StdioServerParameters

from qa_service.engine import Engine

TOOLS = {"ask", "search", "cite", "passage", "documents"}
QUESTION = "Where did the US move half of the DAB assets?"


@pytest.fixture(scope="module")
def http_server(engine: Engine) -> Iterator[str]:
    """The whole app under uvicorn on a loopback socket that is listening before the server starts."""
    from api.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine.settings, engine=engine), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def with_client(target: Any, body: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        async with Client(target) as c:
            await body(c)

    anyio.run(main)


async def call(c: Client, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    r = await c.call_tool(tool, args)
    return bool(r.is_error), r.structured_content


def same_errors(http_detail: list[dict[str, Any]], mcp_detail: list[dict[str, Any]]) -> bool:
    """The same messages and error types (HTTP's loc starts with body/path; MCP's is the argument's name)."""
    return {(e["msg"], e["type"]) for e in http_detail} == {(e["msg"], e["type"]) for e in mcp_detail}


def test_over_http_same_as_the_api(http_server: str) -> None:
    api = httpx.Client(base_url=http_server, timeout=120)
    http_search = api.post("/search", json={"query": "frozen DAB assets", "k": 4}).json()
    http_chat = api.post("/chat", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    http_cite = api.get("/citations/15").json()
    http_passage = api.get(f"/passages/{http_search[0]['id']}").json()
    bad_k = api.post("/search", json={"query": "x", "k": 500})
    blank = api.post("/chat", json={"messages": [{"role": "user", "content": "   "}]})
    too_long = api.post("/chat", json={"messages": [{"role": "user", "content": "x" * 2000}]})
    missing = api.get("/citations/99")
    assert {r.status_code for r in (bad_k, blank, too_long)} == {422} and missing.status_code == 404

    async def body(c: Client) -> None:
        tools = (await c.list_tools()).tools
        assert {t.name for t in tools} == TOOLS and all(t.output_schema for t in tools)
        assert await call(c, "search", {"query": "frozen DAB assets", "k": 4}) == (
            False,
            {"passages": http_search},
        )
        error, chat = await call(c, "ask", {"question": QUESTION})
        assert not error and chat == http_chat and chat["footnotes"][0]["number"] == 32
        assert await call(c, "cite", {"number": 15}) == (False, http_cite)
        assert await call(c, "passage", {"id": http_search[0]["id"]}) == (False, http_passage)
        error, docs = await call(c, "documents", {})
        assert (
            not error and docs["documents"][0]["kind"] == "paper" and docs["documents"][0]["footnotes"] == 46
        )
        # bad arguments: the same status and detail as HTTP
        error, result = await call(c, "search", {"query": "x", "k": 500})
        assert error and result["status"] == 422 and same_errors(bad_k.json()["detail"], result["detail"])
        assert result["detail"][0]["loc"] == ["k"]
        error, result = await call(c, "ask", {"question": "   "})
        assert error and result["status"] == 422 and same_errors(blank.json()["detail"], result["detail"])
        error, result = await call(c, "ask", {"question": "x" * 2000})
        assert error and result == {"status": 422, "detail": too_long.json()["detail"]}
        error, result = await call(c, "cite", {"number": 99})
        assert error and result == {"status": 404, "detail": missing.json()["detail"]}
        error, result = await call(c, "passage", {"id": "nope"})
        assert error and result["status"] == 404 and "nope" in result["detail"]
        error, result = await call(c, "cite", {"number": "fifteen"})
        assert error and result["status"] == 422 and result["detail"][0]["loc"] == ["number"]
        error, result = await call(
            c, "ask", {"question": "hi", "history": [{"role": "robot", "content": "x"}]}
        )
        assert error and result["status"] == 422 and "role" in str(result["detail"])
        error, result = await call(c, "search", {"query": "x", "surprise": 1})
        assert error and result["detail"][0]["type"] == "extra_forbidden"

    with_client(f"{http_server}/mcp", body)


def test_over_stdio(engine: Engine, client: Any) -> None:
    cli = str(Path(sys.executable).with_name("qa-service"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(("QA_", "HF_", "PYTHON", "ANONYMIZED", "PATH", "HOME"))
    }
    params = StdioServerParameters(
        command=cli,
        args=["mcp"],
        env=env | {"QA_DATA_DIR": str(engine.settings.data_dir), "QA_PROGRESS": "false"},
    )
    http_search = client.post("/search", json={"query": "Afghanistan Contact Group", "k": 3}).json()
    http_chat = client.post(
        "/chat",
        json={
            "messages": [
                {"role": "user", "content": "What is the SCO?"},
                {"role": "assistant", "content": "..."},
                {"role": "user", "content": "When did it create a contact group?"},
            ]
        },
    ).json()

    async def body(c: Client) -> None:
        assert {t.name for t in (await c.list_tools()).tools} == TOOLS
        assert await call(c, "search", {"query": "Afghanistan Contact Group", "k": 3}) == (
            False,
            {"passages": http_search},
        )
        history = [{"role": "user", "content": "What is the SCO?"}, {"role": "assistant", "content": "..."}]
        error, chat = await call(
            c, "ask", {"question": "When did it create a contact group?", "history": history}
        )
        assert not error and chat == http_chat and "2005" in chat["answer"]
        error, result = await call(c, "cite", {"number": 0})
        assert error and result["status"] == 422 and result["detail"][0]["loc"] == ["number"]

    with_client(params, body)
