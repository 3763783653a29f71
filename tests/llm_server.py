"""A scripted OpenAI-compatible chat server on loopback: a real HTTP server whose replies the test chooses.

`script(request_json) -> Reply` decides each answer; `evidence(request_json)` reads the numbered evidence
the service sent, so a script can cite it by number.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str | None = None  # the assistant's content
    status: int = 200
    raw: bytes | None = None  # a body sent as is (malformed output)
    hang: bool = False  # never answer (until the server stops)


Script = Callable[[dict[str, Any]], Reply]


def evidence(request: dict[str, Any]) -> dict[int, str]:
    """The numbered evidence sentences in the last user message: {n: text}."""
    content = request["messages"][-1]["content"]
    return {int(n): t for n, t in re.findall(r"^\[(\d+)\] (.+)$", content, re.M)}


def find(request: dict[str, Any], words: str) -> int:
    """The number of the first evidence sentence containing `words`."""
    return next(n for n, t in evidence(request).items() if words in t)


class ScriptedLLM:
    def __init__(self) -> None:
        self.script: Script = lambda req: Reply(text="The documents don't say.")
        self.requests: list[dict[str, Any]] = []
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                outer.requests.append(body)
                reply = outer.script(body)
                if reply.hang:
                    outer._release.wait()
                    return
                if reply.raw is not None:
                    payload = reply.raw
                elif reply.status != 200:
                    payload = json.dumps(
                        {"error": {"message": "scripted failure", "type": "server_error"}}
                    ).encode()
                else:
                    payload = json.dumps(
                        {
                            "id": "chatcmpl-scripted",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body.get("model", "scripted"),
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": reply.text},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                        }
                    ).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @contextmanager
    def running(self) -> Iterator[ScriptedLLM]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._release.set()
            self.server.shutdown()
            self.server.server_close()
