"""What the routes depend on: the shared engine and settings (as Annotated dependencies) and run_engine(),
which runs blocking engine work off the event loop within the request time limit. Routes import from here,
never from app.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.errors import IndexMissing, RequestTimeout

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine | None = request.app.state.engine
    if engine is None:
        reason = request.app.state.engine_error or "the index is not loaded"
        raise IndexMissing(f"{reason}; build it with `qa-service ingest`")
    return engine


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


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
