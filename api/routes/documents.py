"""Changing the corpus over HTTP: add a paper (an upload), remove one, fetch a paper's cited sources. Each
answers 202 with the job that ingests and publishes the change (qa_service.jobs); GET /jobs/{id} reports on
it, and GET /jobs/{id}/events streams every change of it as Server-Sent Events until it is done or failed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import JobsDep
from api.schemas import ERRORS, Error
from qa_service.jobs import FINISHED, Job, JobList

router = APIRouter(tags=["documents"], responses=ERRORS)
DocId = Annotated[str, Path(max_length=200, description="A paper's id (GET /documents).")]
JobId = Annotated[str, Path(max_length=40, description="A job id, as POST or DELETE /documents answered.")]
CHANGES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Error,
        "description": "This server does not change its corpus (a replica): the detail says where papers are "
        "added.",
    },
}
# A job run by another worker process (serve --workers N) reaches this one only through its record on disk:
# its event stream reads the record again this often. A job of this process wakes its streams at each change.
OTHER_PROCESS_POLL_S = 1.0
TITLE_FIELDS = ("title", "subtitle", "author", "publisher", "date")
FORM_FIELD_CHARS = 500  # an id or title-page field longer than this is not one


class JobStarted(BaseModel):
    job: str = Field(description="The job's id: GET /jobs/{job}, GET /jobs/{job}/events.")
    document: str = Field(description="The paper's id.")


class FetchRequest(BaseModel):
    numbers: list[Annotated[int, Field(ge=1, le=100_000)]] | None = Field(
        None, max_length=10_000, description="Footnote numbers (default: every fetchable one)."
    )
    force: bool = Field(False, description="Fetch again what was fetched already.")


def _started(job: Job) -> JSONResponse:
    body = JobStarted(job=job.id, document=job.document).model_dump()
    return JSONResponse(body, status_code=202, headers={"Location": f"/jobs/{job.id}"})


FormText = Annotated[str, Form(max_length=FORM_FIELD_CHARS)]


@router.post(
    "/documents",
    status_code=202,
    response_model=JobStarted,
    responses={**CHANGES, 413: {"model": Error, "description": "Over a limit (bytes, pages, characters)."}},
)
async def add_paper(
    jobs: JobsDep,
    file: Annotated[UploadFile, File(description="The paper: .pdf, .txt or .md.")],
    doc_id: Annotated[
        str,
        Form(alias="id", max_length=FORM_FIELD_CHARS, description="Its id (default: from the file name)."),
    ] = "",
    title: FormText = "",
    subtitle: FormText = "",
    author: FormText = "",
    publisher: FormText = "",
    date: FormText = "",
) -> JSONResponse:
    """Add a paper: it is validated as `qa-service corpus add` validates (422 or 413 naming the problem, and
    nothing stored), stored in the corpus, and ingested by a job: 202 `{"job", "document"}`. The title-page
    fields override what the parser reads. The paper is in GET /documents (and answers) once the job is done."""
    limit = jobs.settings.server.max_upload_bytes
    data = await file.read(limit + 1)  # one byte more than allowed says it is too large
    meta = dict(zip(TITLE_FIELDS, (title, subtitle, author, publisher, date), strict=True))
    job = await run_in_threadpool(jobs.add, data, file.filename or "", doc_id.strip() or None, meta)
    return _started(job)


@router.delete("/documents/{doc}", status_code=202, response_model=JobStarted, responses=CHANGES)
async def remove_paper(doc: DocId, jobs: JobsDep) -> JSONResponse:
    """Remove a paper, its file and its fetched sources from the corpus, and publish a build without them
    (a job: 202 `{"job", "document"}`)."""
    return _started(await run_in_threadpool(jobs.remove, doc))


@router.post("/documents/{doc}/sources/fetch", status_code=202, response_model=JobStarted, responses=CHANGES)
async def fetch_sources(doc: DocId, jobs: JobsDep, body: FetchRequest | None = None) -> JSONResponse:
    """Fetch the sources a paper's footnotes cite (the public web only: see the README), then ingest them as
    documents linked to their footnotes (a job; each source's outcome is in the job's `sources`)."""
    body = body or FetchRequest()
    return _started(await run_in_threadpool(jobs.fetch, doc, body.numbers, body.force))


@router.get("/jobs", response_model=JobList)
async def list_jobs(jobs: JobsDep) -> JobList:
    """The most recent jobs, newest first, and whether this server accepts changes to its corpus."""
    return await run_in_threadpool(jobs.recent)


@router.get("/jobs/{job_id}", response_model=Job)
async def get_job(job_id: JobId, jobs: JobsDep) -> Job:
    """A job: `state` queued, running, done or failed; `stage` and `progress` while it runs (parsed, N of M
    texts embedded, published); `error` when it failed; `build` and `documents` once published."""
    return jobs.get(job_id)


@router.get(
    "/jobs/{job_id}/events",
    responses={200: {"content": {"text/event-stream": {}}, "description": "One `job` event per change."}},
)
async def job_events(job_id: JobId, jobs: JobsDep) -> Any:
    """Server-Sent Events: `event: job` with the job (as GET /jobs/{id}) now and at every change, until it is
    done or failed. A client that goes away stops only its stream, never the job."""
    jobs.get(job_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[dict[str, str]]:
        seen = -1
        with jobs.listening() as changed:
            while True:
                changed.clear()
                job = jobs.get(job_id)
                if job.version != seen:
                    seen = job.version
                    yield {"event": "job", "data": job.model_dump_json()}
                if job.state in FINISHED:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=OTHER_PROCESS_POLL_S)

    return EventSourceResponse(events(), sep="\n")
