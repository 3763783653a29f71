"""What the routes depend on: the shared engine and settings (as Annotated dependencies) and run_engine(),
which runs blocking engine work off the event loop within the request time limit. Routes import from here,
never from app.py."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.errors import IndexMissing, RequestTimeout, Unauthorized
from qa_service.generate import AnswerMode, Generator
from qa_service.jobs import JobManager
from qa_service.schemas import ChatResponse, to_chat

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_generator(request: Request) -> Generator:
    generator: Generator = request.app.state.generator
    return generator


def engine_of(app: Any) -> Engine:
    """The app's engine fixed to the index build it serves now (Engine.view), or IndexMissing saying why it
    is not loaded: a request (or an MCP tool call) that uses one view never mixes two builds, even when the
    server moves to a new one while it runs."""
    engine: Engine | None = app.state.engine
    if engine is None:
        reason = app.state.engine_error or "the index is not loaded"
        raise IndexMissing(f"{reason}; build it with `qa-service ingest`")
    return engine.view()


BUILD_HEADER = "X-Index-Build"  # the index build that answered a request (see get_engine)


async def get_engine(request: Request, response: Response) -> Engine:
    """The engine fixed to one build for this request; its id goes back in the X-Index-Build header.
    (async, like every dependency here: none blocks, and a sync dependency would cost every request a hop
    to the thread pool and back.)"""
    engine = engine_of(request.app)
    if engine.loaded:
        response.headers[BUILD_HEADER] = engine.index.state.build
    return engine


async def get_jobs(request: Request) -> JobManager:
    """The server's corpus jobs, or 503 saying why there are none (the engine did not start)."""
    jobs: JobManager | None = request.app.state.jobs
    if jobs is None:
        reason = request.app.state.engine_error or "the engine is not running"
        raise IndexMissing(f"{reason}: this server cannot ingest papers")
    return jobs


def check_api_key(settings: Settings, authorization: str | None) -> None:
    """Unauthorized unless no keys are configured (server.api_keys) or `authorization` is `Bearer <key>` with
    one of them. Shared by the HTTP routes and the MCP endpoint."""
    keys = settings.server.api_keys
    if not keys:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this server requires an API key: send the header `Authorization: Bearer <key>`")
    token = token.strip()
    if not any(hmac.compare_digest(token.encode(), k.encode()) for k in keys):
        raise Unauthorized("the API key is not valid")


async def require_api_key(request: Request) -> None:
    """The route dependency for check_api_key (every route but /health and /ready)."""
    check_api_key(get_settings(request), request.headers.get("authorization"))


async def run_engine(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking engine work in the thread pool, within the per-request time limit."""
    return await run_limited(get_settings(request), fn, *args, **kwargs)


async def run_limited(settings: Settings, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """run_engine() without a request (the MCP tools use it too)."""
    try:
        return await asyncio.wait_for(
            run_in_threadpool(partial(fn, *args, **kwargs)), timeout=settings.server.request_timeout_s
        )
    except TimeoutError as exc:
        raise RequestTimeout(f"the request took longer than {settings.server.request_timeout_s} s") from exc


async def answer(
    request: Request,
    engine: Engine,
    generator: Generator,
    messages: list[Any],
    k: int | None = None,
    mode: AnswerMode | None = None,
    documents: list[str] | None = None,
) -> ChatResponse:
    """The engine's answer under the request time limit; in generate mode, then the LLM's checked answer,
    limited by the LLM's own timeout (LLM trouble gives the extractive answer with a reason, never an error)."""
    result = await run_engine(request, engine.ask, messages, k, documents=documents)
    if generator.mode(mode) != "generate":
        return to_chat(result, engine)
    result, generation = await run_in_threadpool(generator.generate, result, messages)
    return to_chat(result, engine, generation)


EngineDep = Annotated[Engine, Depends(get_engine)]
GeneratorDep = Annotated[Generator, Depends(get_generator)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
