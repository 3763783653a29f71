from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import run_engine
from api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
async def ready(request: Request) -> Ready | JSONResponse:
    """The index is loaded and the vector store answers."""
    engine = request.app.state.engine
    if engine is None:
        detail = request.app.state.engine_error or "index not loaded"
        return JSONResponse(Ready(ready=False, detail=detail).model_dump(), status_code=503)
    ok, detail = await run_engine(request, engine.ready)
    if not ok:
        return JSONResponse(Ready(ready=False, detail=detail).model_dump(), status_code=503)
    return Ready(ready=True, detail=detail)
