"""Changes to the corpus as jobs: adding a paper, removing one, fetching a paper's cited sources. Each ends by
ingesting the corpus and publishing a build, as `qa-service ingest` does (index.ingest: incremental, atomic).

An upload is validated and stored in the request (corpus.add_document: refused with nothing stored, or in
the corpus), then its ingest is queued; a removal or a fetch is checked in the request and done in the job.
One job runs at a time per corpus: a worker thread takes them in order, and a file lock under the data
directory keeps two processes (`serve --workers 2`) from running theirs at once. Two uploads therefore end up
published one build after the other, the second with both papers. Jobs run in the server, not in the request:
a client that goes away changes nothing.

Each job's record is a small JSON file, <data_dir>/jobs/<id>.json, rewritten as it moves (queued; running,
with its stage and progress; done or failed), so GET /jobs/{id} answers from any worker and after a restart.
Every manager holds a lock file of its own while it lives; a record whose owner's lock is free belongs to a
process that died (a crash, a kill): recover() reports such a job as failed. Its ingest never published (the
previous build still serves: a build is published only when complete), and an upload it did not publish is
taken out of the corpus again, so that the corpus and the build served agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from qa_service.config import Settings
from qa_service.corpus import (
    add_document,
    find_document,
    load_corpus,
    manifest_file,
    read_manifest,
    remove_document,
)
from qa_service.embed import Embedder
from qa_service.errors import Conflict, InvalidInput, NotFound, QAServiceError, TooLarge
from qa_service.index import current_state, ingest
from qa_service.models import Paper
from qa_service.store import VectorStore

log = logging.getLogger("qa_service.jobs")

JobKind = Literal["add", "remove", "fetch"]
JobState = Literal["queued", "running", "done", "failed"]
FINISHED = ("done", "failed")
_ID_RE = re.compile(r"^[0-9a-f]{16}$")


class Progress(BaseModel):
    done: int = Field(0, description="Units done in this stage.")
    total: int = Field(0, description="Units in this stage (0: not counted).")
    unit: str = Field("", description="What is counted: 'texts' (embedded) or 'sources' (fetched).")


class Step(BaseModel):
    """A stage the job reached, as it stood when it left it (or stands now, for the last one)."""

    stage: str
    message: str = ""
    progress: Progress = Field(default_factory=Progress)


class SourceResult(BaseModel):
    """One footnote's source in a fetch job: its outcome as it comes in."""

    number: int
    status: str = Field(description="pending, ok (fetched), failed or skipped (nothing to fetch).")
    reason: str = ""
    url: str = ""
    pages: int = 0
    kind: str = Field("", description="pdf or html, once fetched.")


class Job(BaseModel):
    id: str
    kind: JobKind = Field(description="add (an upload's ingest), remove, or fetch (a paper's sources).")
    document: str = Field(description="The paper's id.")
    title: str = Field("", description="The paper's title, as parsed (or as given).")
    state: JobState = "queued"
    stage: str = Field(
        "queued",
        description="queued; removing or fetching (remove and fetch jobs); parsing, parsed, embedding, writing, "
        "published (the ingest); interrupted (the server stopped while it ran).",
    )
    progress: Progress = Field(default_factory=Progress)
    message: str = Field("", description="What is happening, in words: '120 of 340 texts embedded'.")
    steps: list[Step] = Field(
        default_factory=list,
        description="Every stage reached, in order, with its last message and progress: what a client that "
        "looked only now (or an event stream that skipped versions) would have seen.",
    )
    error: str = Field("", description="Why it failed (state 'failed').")
    build: str = Field("", description="The index build it published.")
    documents: list[str] = Field(
        default_factory=list, description="The papers of the build it published, in order."
    )
    sources: list[SourceResult] = Field(
        default_factory=list, description="Fetch jobs: each source's outcome."
    )
    created: float = Field(description="When it was queued (seconds since the epoch).")
    started: float | None = None
    finished: float | None = None
    version: int = Field(0, description="Bumped at every change (the event stream sends each version).")
    owner: str = Field("", description="The server process that runs it.")


class JobList(BaseModel):
    accepts_changes: bool = Field(description="Whether this server adds and removes papers (else 409).")
    detail: str = Field("", description="Why it does not, when it does not.")
    jobs: list[Job] = Field(description="The most recent jobs, newest first.")


class JobFailed(QAServiceError):
    """A job's failure, with what became of the corpus."""


def jobs_dir(settings: Settings) -> Path:
    return settings.data_dir / "jobs"


@contextlib.contextmanager
def _file_lock(path: Path, blocking: bool = True) -> Iterator[IO[bytes]]:
    """An exclusive flock on `path` (held by this open file: threads and processes alike wait for it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_reentry = threading.local()


@contextlib.contextmanager
def corpus_lock(settings: Settings) -> Iterator[None]:
    """Held while the manifest is read or changed (corpus add/remove, an ingest reading the corpus): two
    changes never write over each other's manifest, and a reader never sees a file removed under it.
    Re-entrant within a thread (a second flock on the same file by the same thread would wait for itself)."""
    path = jobs_dir(settings) / ".corpus.lock"
    held: set[Path] = _reentry.__dict__.setdefault("held", set())
    if path in held:
        yield
        return
    with _file_lock(path):
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)


def accepts_changes(settings: Settings) -> tuple[bool, str]:
    """(whether this server may change the corpus, why not): server.corpus_writes, else only a server with
    the corpus manifest and an embedded Chroma (a replica's corpus is on another machine)."""
    manifest = manifest_file(settings.corpus_dir)
    chosen = settings.server.corpus_writes
    where = f"Chroma at {settings.chroma_host}:{settings.chroma_port}"
    if chosen is False:
        return False, "this server does not change its corpus (QA_SERVER__CORPUS_WRITES=false)"
    if not manifest.exists():
        return False, (
            f"this server has no corpus here ({manifest} does not exist)"
            + (f": it serves the index in {where}" if settings.chroma_host else "")
            + "; add papers where the corpus is (`qa-service corpus add`, then `qa-service ingest`)"
        )
    if chosen is None and settings.chroma_host:
        return False, (
            f"this server is a replica of the index in {where}; papers are added where the corpus is "
            "(`qa-service corpus add`, then `qa-service ingest`), or on the one server started there with "
            "QA_SERVER__CORPUS_WRITES=true"
        )
    return True, ""


def plain_name(filename: str) -> str:
    """The upload's file name, refused unless it is a bare name (no folder, no '..', no control character)."""
    name = filename or ""
    if not name.strip():
        raise InvalidInput("the upload has no file name: send the file with its name, e.g. brief.pdf")
    if "/" in name or "\\" in name or name.startswith(".") or any(ord(c) < 32 for c in name):
        raise InvalidInput(
            f"the file name {name!r} is not a plain file name (it holds a folder, '..' or a control "
            "character): send the file under its bare name"
        )
    if len(name) > 200:
        raise InvalidInput(f"the file name is {len(name)} characters long; the limit is 200")
    return name


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, QAServiceError):
        return exc.message
    return f"internal error ({exc.__class__.__name__}: {exc})"


class JobManager:
    """The jobs of one server process. start() recovers what a dead process left and starts the worker;
    add(), remove() and fetch() check the request, queue a job and return it; get(), recent() and listening()
    report on them. `on_published` is called after each published build (the server loads it at once)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: VectorStore,
        on_published: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder, self.store = embedder, store
        self.on_published = on_published or (lambda: None)
        self.dir = jobs_dir(settings)
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._jobs: dict[str, Job] = {}
        self._work: dict[str, Callable[[str], None]] = {}
        self._cond = threading.Condition()
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._worker: threading.Thread | None = None
        self._owner_lock: contextlib.ExitStack | None = None

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        if not self.accepts_changes()[0]:
            return  # a replica: nothing to run, no data directory of its own (GET /jobs says why)
        self.dir.mkdir(parents=True, exist_ok=True)
        stack = contextlib.ExitStack()
        stack.enter_context(_file_lock(self._owner_file(self.owner)))  # held while this process lives
        self._owner_lock = stack
        recover(self.settings, self.store)
        prune_records(self.settings)
        self._worker = threading.Thread(target=self._run_queue, name="corpus-jobs", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """No new job starts; a running one is left to finish or, if the process exits first, to be reported
        as interrupted by the next start."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker = None
        if self._owner_lock is not None:
            self._owner_lock.close()
            self._owner_lock = None
            self._owner_file(self.owner).unlink(missing_ok=True)

    def _owner_file(self, owner: str) -> Path:
        return self.dir / f".owner-{owner}.lock"

    # ------------------------------------------------------------------ requests

    def accepts_changes(self) -> tuple[bool, str]:
        return accepts_changes(self.settings)

    def _require_changes(self) -> None:
        ok, why = self.accepts_changes()
        if not ok:
            raise Conflict(why)

    def add(
        self, data: bytes, filename: str, doc_id: str | None = None, metadata: dict[str, str] | None = None
    ) -> Job:
        """Validate the file as `corpus add` does (InvalidInput, ParseError, TooLarge, DuplicateDocument:
        nothing stored), store it in the corpus and queue its ingest."""
        self._require_changes()
        name = plain_name(filename)
        limit = self.settings.server.max_upload_bytes
        if len(data) > limit:
            raise TooLarge(
                f"{name}: a paper's file may have at most {limit:,} bytes (QA_SERVER__MAX_UPLOAD_BYTES); "
                "this one has more"
            )
        tmp = self.dir / "uploads" / secrets.token_hex(8)
        tmp.mkdir(parents=True)
        path = tmp / name
        try:
            path.write_bytes(data)
            with corpus_lock(self.settings):
                try:
                    spec, paper = add_document(
                        self.settings.corpus_dir, path, doc_id or None, metadata, limits=self.settings.papers
                    )
                except QAServiceError as exc:  # the same error, naming the upload rather than where it lay
                    raise type(exc)(exc.message.replace(str(path), name)) from None
                return self._queue_job("add", spec.id, paper.metadata.title or spec.id, self._run_add)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def remove(self, doc: str) -> Job:
        """Queue the removal of a paper (its manifest entry, its file, its fetched sources) and the ingest
        that publishes a build without it. NotFound for a document the corpus does not list."""
        self._require_changes()
        with corpus_lock(self.settings):
            specs = read_manifest(self.settings.corpus_dir)
            spec = find_document(specs, doc)
            if len(specs) == 1:
                raise InvalidInput(f"'{doc}' is the only paper of the corpus: add another before removing it")
            return self._queue_job("remove", doc, spec.title or self._title(doc), self._run_remove)

    def fetch(self, doc: str, numbers: list[int] | None = None, force: bool = False) -> Job:
        """Queue fetching a paper's cited sources (all fetchable ones, or footnotes `numbers`), then the
        ingest that makes them documents."""
        self._require_changes()
        paper = self._corpus_paper(doc)
        from qa_service.sources.manifest import entries_for

        known = entries_for(self.settings.corpus_dir, paper)
        bad = [n for n in numbers or [] if n not in known]
        if bad:
            raise InvalidInput(
                f"no footnote {bad[0]} in {doc}: it has "
                + (f"footnotes 1-{max(known)}" if known else "no footnotes")
            )

        def run(job_id: str) -> None:
            self._run_fetch(job_id, numbers, force)

        return self._queue_job("fetch", doc, paper.metadata.title or doc, run)

    # ------------------------------------------------------------------ reports

    def get(self, job_id: str) -> Job:
        if not _ID_RE.fullmatch(job_id):
            raise NotFound(f"no job '{job_id}'")
        with self._cond:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        found = _read(self.dir / f"{job_id}.json")  # a job of another process, or of an earlier run
        if found is None:
            raise NotFound(f"no job '{job_id}'")
        return found

    def recent(self, limit: int = 50) -> JobList:
        on_disk = {j.id: j for j in (_read(p) for p in self.dir.glob("*.json")) if j is not None}
        with self._cond:
            on_disk.update(self._jobs)
        jobs = sorted(on_disk.values(), key=lambda j: j.created, reverse=True)[:limit]
        ok, why = self.accepts_changes()
        return JobList(accepts_changes=ok, detail=why, jobs=jobs)

    @contextlib.contextmanager
    def listening(self) -> Iterator[asyncio.Event]:
        """An asyncio.Event (of the running loop) set whenever any job changes: what an event stream awaits."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._cond:
            self._listeners.add(key)
        try:
            yield event
        finally:
            with self._cond:
                self._listeners.discard(key)

    # ------------------------------------------------------------------ the queue

    def _queue_job(self, kind: JobKind, doc: str, title: str, run: Callable[[str], None]) -> Job:
        job = Job(
            id=secrets.token_hex(8),
            kind=kind,
            document=doc,
            title=title,
            created=time.time(),
            owner=self.owner,
            message="waiting for the jobs before it" if self._busy() else "about to start",
        )
        with self._cond:
            self._jobs[job.id] = job
            self._work[job.id] = run
            self._save(job)
        self._queue.put(job.id)
        return job

    def _busy(self) -> bool:
        with self._cond:
            return any(j.state in ("queued", "running") for j in self._jobs.values())

    def _run_queue(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._cond:
                run = self._work.pop(job_id)
            with _file_lock(self.dir / ".run.lock"):  # one job at a time per corpus, across processes
                self._update(
                    job_id, state="running", stage="starting", started=time.time(), message="started"
                )
                try:
                    run(job_id)
                except Exception as exc:
                    if not isinstance(exc, QAServiceError):
                        log.exception("job %s failed", job_id)
                    self._update(
                        job_id,
                        state="failed",
                        error=_describe(exc),
                        message="failed",
                        finished=time.time(),
                    )
                else:
                    self._update(job_id, state="done", finished=time.time())

    def _update(self, job_id: str, **changes: Any) -> Job:
        with self._cond:
            job = self._jobs[job_id]
            job = job.model_copy(update={**changes, "version": job.version + 1})
            if job.state == "running":
                step = Step(stage=job.stage, message=job.message, progress=job.progress)
                same = job.steps and job.steps[-1].stage == job.stage
                job.steps = [*job.steps[:-1], step] if same else [*job.steps, step]
            self._jobs[job_id] = job
            self._save(job)
            for loop, event in list(self._listeners):
                with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                    loop.call_soon_threadsafe(event.set)
        return job

    def _save(self, job: Job) -> None:
        _write(self.dir / f"{job.id}.json", job)

    # ------------------------------------------------------------------ the work

    def _run_add(self, job_id: str) -> None:
        try:
            self._ingest(job_id)
        except Exception as exc:
            raise JobFailed(_describe(exc) + self._undo_add(self._jobs[job_id].document)) from exc

    def _undo_add(self, doc: str) -> str:
        """After a failed ingest: take the upload out of the corpus again unless a build with it is served."""
        try:
            state = current_state(self.store)
            if state is not None and doc in state.documents:
                return ""
            with corpus_lock(self.settings):
                if doc in {s.id for s in read_manifest(self.settings.corpus_dir)}:
                    remove_document(self.settings.corpus_dir, doc)
                    return (
                        "; the paper was taken out of the corpus again (it was not published): add it again"
                    )
        except QAServiceError as exc:
            return f"; the paper stays in the corpus ({exc.message}): the next ingest publishes it"
        return ""

    def _run_remove(self, job_id: str) -> None:
        doc = self._jobs[job_id].document
        self._update(job_id, stage="removing", message="removing it and its fetched sources from the corpus")
        with corpus_lock(self.settings):
            remove_document(self.settings.corpus_dir, doc)
        self._ingest(job_id)

    def _run_fetch(self, job_id: str, numbers: list[int] | None, force: bool) -> None:
        from qa_service.sources.fetch import Provenance, fetch_sources
        from qa_service.sources.layout import migrate
        from qa_service.sources.manifest import entries_for

        doc = self._jobs[job_id].document
        corpus = self.settings.corpus_dir
        migrate(corpus)  # as every `sources` command does
        paper = self._corpus_paper(doc)
        entries = entries_for(corpus, paper)
        chosen = [entries[n] for n in (numbers or sorted(entries))]
        results = {
            e.number: SourceResult(number=e.number, status="pending", url=(e.urls or [""])[0]) for e in chosen
        }
        self._update(
            job_id,
            stage="fetching",
            progress=Progress(done=0, total=len(chosen), unit="sources"),
            message=f"fetching {len(chosen)} sources",
            sources=list(results.values()),
        )

        def done(p: Provenance) -> None:
            with self._cond:
                results[p.number] = SourceResult(
                    number=p.number,
                    status=p.status,
                    reason=p.reason,
                    url=p.final_url or p.url or results[p.number].url,
                    pages=p.pages,
                    kind=p.kind,
                )
                n = sum(r.status != "pending" for r in results.values())
                self._update(
                    job_id,
                    progress=Progress(done=n, total=len(chosen), unit="sources"),
                    message=f"{n} of {len(chosen)} sources done",
                    sources=sorted(results.values(), key=lambda r: r.number),
                )

        fetch_sources(corpus, doc, chosen, self.settings.sources, force=force, on_done=done)
        ok = sum(r.status == "ok" for r in results.values())
        failed = sum(r.status == "failed" for r in results.values())
        self._update(
            job_id, message=f"{ok} fetched, {failed} failed, {len(results) - ok - failed} not fetchable"
        )
        self._ingest(job_id)

    def _ingest(self, job_id: str) -> None:
        """Read the corpus (papers and fetched sources), ingest it and publish; this server then serves it."""
        from qa_service.sources.documents import source_papers

        self._update(job_id, stage="parsing", progress=Progress(), message="reading the corpus")
        with corpus_lock(self.settings):
            papers = load_corpus(self.settings.corpus_dir)
            papers += source_papers(self.settings, papers)
        n_papers = sum(p.kind == "paper" for p in papers)
        self._update(
            job_id,
            stage="parsed",
            message=f"{_count(n_papers, 'paper')} and {_count(len(papers) - n_papers, 'fetched source')} parsed",
        )

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "embedding":
                self._update(
                    job_id,
                    stage="embedding",
                    progress=Progress(done=done, total=total, unit="texts"),
                    message=f"{done:,} of {total:,} texts embedded" if total else "nothing new to embed",
                )
            elif stage == "writing":
                self._update(job_id, stage="writing", message="writing the new build")
            elif stage == "published":
                self._update(job_id, stage="published", message="published")

        report = ingest(papers, self.settings, self.embedder, self.store, progress=progress)
        try:
            self.on_published()  # this server moves to the new build now (replicas within their interval)
        except QAServiceError as exc:
            log.warning("published build %s not loaded yet: %s", report.build, exc.message)
        self._update(
            job_id,
            build=report.build,
            documents=[p.doc_id for p in papers if p.kind == "paper"],
            message=f"build {report.build} published"
            + (" (nothing had changed)" if report.unchanged else ""),
        )

    def _corpus_paper(self, doc: str) -> Paper:
        """A paper of the corpus, parsed (NotFound for an id the manifest does not list)."""
        from qa_service.corpus import _overrides
        from qa_service.parse import parse_file

        with corpus_lock(self.settings):
            specs = read_manifest(self.settings.corpus_dir)
            spec = find_document(specs, doc)
            return parse_file(
                self.settings.corpus_dir / spec.path, doc_id=spec.id, overrides=_overrides(spec)
            )

    def _title(self, doc: str) -> str:
        try:
            return self._corpus_paper(doc).metadata.title or doc
        except QAServiceError:
            return doc


# ---------------------------------------------------------------------------------------------- records


def _write(path: Path, job: Job) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(job.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read(path: Path) -> Job | None:
    try:
        return Job.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def _owner_alive(directory: Path, owner: str) -> bool:
    """Whether the process that owns a record still runs: it holds its lock file while it lives."""
    path = directory / f".owner-{owner}.lock"
    if not path.exists():
        return False
    try:
        with _file_lock(path, blocking=False):
            pass
    except BlockingIOError:
        return True
    path.unlink(missing_ok=True)  # its owner is gone: so is the need for its lock file
    return False


def recover(settings: Settings, store: VectorStore) -> list[Job]:
    """Report as failed the jobs a dead process left queued or running (see the module's docstring); an
    upload it did not publish leaves the corpus again. Returns the jobs it changed. Call it before anything
    ingests the corpus (`serve` does, before its start-up ingest), so that a half-done upload is not
    published by that ingest."""
    directory = jobs_dir(settings)
    if not directory.exists():
        return []
    changed = []
    stale = [
        j
        for j in (_read(p) for p in sorted(directory.glob("*.json")))
        if j is not None and j.state not in FINISHED and not _owner_alive(directory, j.owner)
    ]
    if not stale:
        return []
    try:
        state = current_state(store)
        published: set[str] | None = set(state.documents) if state else set()
    except QAServiceError as exc:
        log.warning("cannot read the published build while recovering jobs: %s", exc.message)
        published = None
    for job in stale:
        note = ""
        served = (
            published is not None
            and (job.document in published) == (job.kind != "remove")
            and job.kind != "fetch"
            and job.state == "running"
        )
        if served:  # it got as far as publishing: its result is served
            done = job.model_copy(
                update={
                    "state": "done",
                    "stage": "published",
                    "message": "published before the server stopped",
                    "finished": time.time(),
                    "version": job.version + 1,
                }
            )
            _write(directory / f"{job.id}.json", done)
            changed.append(done)
            continue
        if job.kind == "add" and published is not None and job.document not in published:
            with contextlib.suppress(QAServiceError), corpus_lock(settings):
                if job.document in {s.id for s in read_manifest(settings.corpus_dir)}:
                    remove_document(settings.corpus_dir, job.document)
                    note = (
                        "; the paper was taken out of the corpus again (it was not published): add it again"
                    )
        elif job.kind == "remove":
            note = "; a build without the paper is published by the next change or `qa-service ingest`"
        elif job.kind == "fetch":
            note = "; what was fetched stays in the corpus and is published by the next change or ingest"
        failed = job.model_copy(
            update={
                "state": "failed",
                "stage": "interrupted",
                "error": f"interrupted: the server stopped while this job was {job.state} (at {job.stage}); "
                "the build served is the one published before it" + note,
                "message": "interrupted",
                "finished": time.time(),
                "version": job.version + 1,
            }
        )
        _write(directory / f"{job.id}.json", failed)
        changed.append(failed)
    return changed


def prune_records(settings: Settings) -> None:
    """Keep the newest server.jobs_kept finished records."""
    directory = jobs_dir(settings)
    finished = sorted(
        (j for j in (_read(p) for p in directory.glob("*.json")) if j is not None and j.state in FINISHED),
        key=lambda j: j.created,
        reverse=True,
    )
    for job in finished[settings.server.jobs_kept :]:
        (directory / f"{job.id}.json").unlink(missing_ok=True)
