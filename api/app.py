"""create_app(): the FastAPI app factory. The engine is loaded once, in the lifespan, and shared."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import check_api_key, engine_of
from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.errors import QAServiceError, Unauthorized
from qa_service.generate import Generator
from qa_service.jobs import JobManager
from qa_service.mcp_server import build_server, streamable_http_app
from qa_service.schemas import validation_detail

log = logging.getLogger("qa_service.api")
STATIC = Path(__file__).parent / "static"


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not Content-Length is sent. `larger`: other
    limits by (method, path), each with what to say of it (the upload of a paper)."""

    def __init__(
        self, app: ASGIApp, limit: int, larger: dict[tuple[str, str], tuple[int, str]] | None = None
    ) -> None:
        self.app, self.default, self.larger = app, limit, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, why = self.larger.get((scope.get("method", ""), scope.get("path", "")), (self.default, ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _json(send, 413, f"request body is {int(value)} bytes; " + (why or f"the limit is {limit}"))
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > limit:
                raise _TooLarge(limit, why)
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLarge as exc:
            await _json(send, 413, exc.detail)


class MCPEndpoint:
    """/mcp: hands the request to the MCP server's streamable-HTTP app, started in the lifespan."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        authorization = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        try:  # the same API key as the HTTP routes
            check_api_key(app.state.settings, authorization or None)
        except Unauthorized as exc:
            await _json(send, exc.status, exc.message, exc.headers)
            return
        inner = app.state.mcp_http
        if inner is None:
            await _json(send, 503, "the MCP server is not running")
            return
        await inner(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """An HTTP exception, so that a route reading its body (a form, JSON) answers it as the 413 it is."""

    def __init__(self, limit: int, why: str = "") -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes" + (f"; {why}" if why else ""))


async def _json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    resp = JSONResponse({"detail": detail}, status_code=status, headers=headers)
    await resp({"type": "http"}, _noop_receive, send)


async def _noop_receive() -> Message:
    return {"type": "http.disconnect"}


def _serve_new(engine: Engine) -> None:
    """After a job publishes a build: serve it now (the follower would within server.follow_interval_s)."""
    engine.refresh()


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, generator: Generator | None = None
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        served = engine
        try:  # the model first: without it nothing can be served, and /ready says why
            served = served or Engine(settings)
            await run_in_threadpool(served.embedder.encode_query, "warm-up")
        except QAServiceError as exc:
            log.error("engine not started: %s", exc.message)
            app.state.engine_error = exc.message
            served = None
        if served is not None and not served.loaded:
            try:
                await run_in_threadpool(served.load)
            except QAServiceError as exc:  # serve anyway: /ready says why; the follower loads it when it can
                log.warning("no index served yet: %s", exc.message)
        app.state.engine = served
        if served is not None:
            served.follow(settings.server.follow_interval_s)
            jobs = JobManager(
                settings, served.embedder, served.store, on_published=partial(_serve_new, served)
            )
            try:
                await run_in_threadpool(jobs.start)  # reports jobs a dead server left, then takes new ones
                app.state.jobs = jobs
            except (QAServiceError, OSError) as exc:
                log.error("corpus jobs not started: %s", getattr(exc, "message", exc))
        mcp_app = streamable_http_app(mcp, settings)  # a fresh session manager for each start
        try:
            async with mcp.session_manager.run():
                app.state.mcp_http = mcp_app
                yield
                app.state.mcp_http = None
        finally:
            if app.state.jobs is not None:
                app.state.jobs.stop()
                app.state.jobs = None
            if served is not None:
                await run_in_threadpool(served.stop_following)

    app = FastAPI(
        title="qa-service",
        version="0.1.0",
        lifespan=lifespan,
        description="Questions about the paper and its cited sources, answered with sentence- and "
        "footnote-level citations.",
    )
    app.state.settings = settings
    app.state.generator = generator or Generator.from_settings(settings)
    app.state.mcp_http = None
    app.state.jobs = None
    mcp = build_server(lambda: engine_of(app), app.state.generator, settings)
    app.state.engine_error = ""

    @app.exception_handler(QAServiceError)
    async def _qa_error(request: Request, exc: QAServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(list(exc.errors()))}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error: {exc.__class__.__name__}"}, status_code=500)

    from api.deps import require_api_key
    from api.routes import catalog, chat, documents, health, openai_compat

    app.include_router(health.router)  # /health and /ready stay open (probes)
    for module in (chat, catalog, documents, openai_compat):  # the API key, when the server requires one
        app.include_router(module.router, dependencies=[Depends(require_api_key)])
    # the MCP tools over streamable HTTP, beside the routes and before the web page's catch-all mount
    app.router.routes.append(Route("/mcp", endpoint=MCPEndpoint(), include_in_schema=False))
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    limits = settings.server
    upload = limits.max_upload_bytes + limits.max_body_bytes  # the file, and the form's other fields
    why = f"a paper's file may have at most {limits.max_upload_bytes:,} bytes (QA_SERVER__MAX_UPLOAD_BYTES)"
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes, larger={("POST", "/documents"): (upload, why)})
    return app
