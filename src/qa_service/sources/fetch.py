"""fetch_sources(): download each fetchable source of one document with httpx, safely, and store raw file,
text and provenance under corpus/sources/<doc>/<n>/. A note may list several URLs: they are tried in order
until one gives a readable PDF or HTML page, and every attempt is recorded. Timeouts and 5xx are retried
with exponential backoff (tenacity). One failure is recorded for that source and never stops the others."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, Field
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from qa_service.config import SourcesSettings
from qa_service.errors import SourceError
from qa_service.sources.extract import PAGE_BREAK, extract, sniff
from qa_service.sources.layout import existing_source_dir, source_dir
from qa_service.sources.manifest import SourceEntry


class Attempt(BaseModel):
    """One URL tried for a source: what came back, or why it failed."""

    url: str
    status: str  # "ok" or "failed"
    final_url: str = ""
    http_status: int | None = None
    reason: str = ""


class Provenance(BaseModel):
    number: int
    document: str = Field("", description="The paper whose footnote `number` this source is.")
    status: str  # "ok", "failed" or "skipped"
    url: str = ""
    final_url: str = ""
    http_status: int | None = None
    fetched_at: str = ""
    sha256: str = ""
    content_type: str = ""
    kind: str = ""
    bytes: int = 0
    pages: int = 0
    extractor: str = ""
    reason: str = ""
    origin: str = "fetched"  # or "added" (a file attached by hand)
    attempts: list[Attempt] = Field(default_factory=list, description="Each URL tried, in order.")


def read_provenance(corpus_dir: Path, doc: str, n: int) -> Provenance | None:
    path = existing_source_dir(corpus_dir, doc, n) / "provenance.json"
    try:
        return Provenance.model_validate_json(path.read_text(encoding="utf-8")) if path.exists() else None
    except ValueError:
        return None


def read_pages(corpus_dir: Path, doc: str, n: int) -> list[str] | None:
    path = existing_source_dir(corpus_dir, doc, n) / "text.txt"
    return path.read_text(encoding="utf-8").split(PAGE_BREAK) if path.exists() else None


def check_address(url: str, cfg: SourcesSettings) -> None:
    """Only public addresses, unless the host is allowed explicitly (tests) or private ones are allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"not an http(s) URL: {url}")
    host = parts.hostname
    if cfg.allow_private or host in cfg.allowed_hosts:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise SourceError(f"cannot resolve {host} ({exc.strerror})") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise SourceError(f"refused: {host} resolves to a non-public address ({addr})")


def _get(client: httpx.Client, url: str, cfg: SourcesSettings) -> tuple[httpx.Response, bytes, str]:
    """GET with manual redirects (each hop checked), a size cap, and retries on timeouts and 5xx."""
    for _hop in range(6):
        check_address(url, cfg)
        resp, body = _get_once(client, url, cfg)
        if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
            url = urljoin(url, resp.headers["location"])
            continue
        return resp, body, url
    raise SourceError(f"too many redirects (last: {url})")


def _get_once(client: httpx.Client, url: str, cfg: SourcesSettings) -> tuple[httpx.Response, bytes]:
    """One GET, retried on timeouts and 5xx with exponential backoff (cfg.retries times, from cfg.backoff_s)."""

    def give_up(state: RetryCallState) -> tuple[httpx.Response, bytes]:
        exc = state.outcome.exception() if state.outcome else None
        raise SourceError(f"gave up after {state.attempt_number} tries: {exc or exc.__class__.__name__}")

    retrying = Retrying(
        stop=stop_after_attempt(cfg.retries + 1),
        wait=wait_exponential(multiplier=cfg.backoff_s),  # backoff_s, then twice that, ...
        retry=retry_if_exception_type((httpx.TimeoutException, _Retry)),
        retry_error_callback=give_up,
    )
    try:
        return retrying(_get_body, client, url, cfg)
    except httpx.HTTPError as exc:
        raise SourceError(f"request failed: {exc.__class__.__name__}: {exc}") from exc


def _get_body(client: httpx.Client, url: str, cfg: SourcesSettings) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", url) as resp:
        if resp.status_code >= 500:
            raise _Retry(f"HTTP {resp.status_code}")
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cfg.max_bytes:
            raise SourceError(f"too large: {declared} bytes (limit {cfg.max_bytes})")
        chunks, size = [], 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > cfg.max_bytes:
                raise SourceError(f"too large: over {cfg.max_bytes} bytes")
            chunks.append(chunk)
        return resp, b"".join(chunks)


class _Retry(Exception):
    pass


def store(corpus_dir: Path, doc: str, n: int, body: bytes, prov: Provenance) -> Provenance:
    """Extract and write raw file, text and provenance atomically (a folder renamed into place)."""
    kind = sniff(body)
    if kind is None:
        raise SourceError(f"neither PDF nor HTML (Content-Type said '{prov.content_type or 'nothing'}')")
    pages, extractor = extract(body, kind)
    final = source_dir(corpus_dir, doc, n)
    tmp = final.with_name(f".{n}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / f"raw.{kind}").write_bytes(body)
    (tmp / "text.txt").write_text(PAGE_BREAK.join(pages), encoding="utf-8")
    prov = prov.model_copy(
        update={
            "status": "ok",
            "document": doc,
            "kind": kind,
            "bytes": len(body),
            "pages": len(pages),
            "sha256": hashlib.sha256(body).hexdigest(),
            "extractor": extractor,
        }
    )
    (tmp / "provenance.json").write_text(prov.model_dump_json(indent=2), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return prov


def _record_failure(corpus_dir: Path, doc: str, prov: Provenance) -> Provenance:
    have = read_provenance(corpus_dir, doc, prov.number)
    if (
        have
        and have.status == "ok"
        and (existing_source_dir(corpus_dir, doc, prov.number) / "text.txt").exists()
    ):
        return prov  # keep the good copy we have; report the failure only
    d = source_dir(corpus_dir, doc, prov.number)
    d.mkdir(parents=True, exist_ok=True)
    (d / "provenance.json").write_text(prov.model_dump_json(indent=2), encoding="utf-8")
    return prov


def fetch_one(
    corpus_dir: Path, doc: str, entry: SourceEntry, cfg: SourcesSettings, client: httpx.Client
) -> Provenance:
    """Try the entry's URLs in order until one gives a readable source; every attempt is recorded."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    attempts: list[Attempt] = []
    for url in entry.urls:
        prov = Provenance(number=entry.number, document=doc, status="failed", url=url, fetched_at=now)
        try:
            resp, body, final_url = _get(client, url, cfg)
            prov.final_url, prov.http_status = final_url, resp.status_code
            prov.content_type = resp.headers.get("content-type", "")
            if resp.status_code != 200:
                raise SourceError(f"HTTP {resp.status_code}")
            attempts.append(Attempt(url=url, status="ok", final_url=final_url, http_status=resp.status_code))
            return store(corpus_dir, doc, entry.number, body, prov.model_copy(update={"attempts": attempts}))
        except SourceError as exc:
            if attempts and attempts[-1].url == url:  # fetched, but neither PDF nor HTML, or unreadable
                attempts[-1] = attempts[-1].model_copy(update={"status": "failed", "reason": exc.message})
            else:
                attempts.append(
                    Attempt(
                        url=url,
                        status="failed",
                        final_url=prov.final_url,
                        http_status=prov.http_status,
                        reason=exc.message,
                    )
                )
    last = attempts[-1] if attempts else Attempt(url="", status="failed", reason="no URL to fetch")
    reason = last.reason if len(attempts) <= 1 else f"all {len(attempts)} URLs failed; last: {last.reason}"
    failed = Provenance(
        number=entry.number,
        document=doc,
        status="failed",
        url=last.url,
        final_url=last.final_url,
        http_status=last.http_status,
        fetched_at=now,
        reason=reason,
        attempts=attempts,
    )
    return _record_failure(corpus_dir, doc, failed)


def fetch_sources(
    corpus_dir: Path,
    doc: str,
    entries: list[SourceEntry],
    cfg: SourcesSettings,
    force: bool = False,
    on_done: Callable[[Provenance], Any] | None = None,
) -> list[Provenance]:
    """Fetch each entry of document `doc` (skipping those already fetched unless force), `cfg.concurrency`
    at a time."""
    todo, results = [], []
    for e in entries:
        have = read_provenance(corpus_dir, doc, e.number)
        if not force and have and have.status == "ok":
            results.append(have)
            if on_done:
                on_done(have)
        elif not e.fetchable or not e.urls:
            prov = Provenance(
                number=e.number, document=doc, status="skipped", reason=e.reason or "nothing to fetch"
            )
            results.append(prov)
            if on_done:
                on_done(prov)
        else:
            todo.append(e)
    headers = {"User-Agent": cfg.user_agent, "Accept": "application/pdf,text/html;q=0.9,*/*;q=0.5"}
    with httpx.Client(timeout=cfg.timeout_s, follow_redirects=False, headers=headers) as client:

        def run(e: SourceEntry) -> Provenance:
            prov = fetch_one(corpus_dir, doc, e, cfg, client)
            if on_done:
                on_done(prov)
            return prov

        with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
            results += list(pool.map(run, todo))
    return sorted(results, key=lambda p: p.number)


def add_file(corpus_dir: Path, doc: str, n: int, path: Path, url: str = "") -> Provenance:
    """Attach a file the user downloaded by hand (PDF or HTML) to footnote n of document `doc` (the caller
    resolves a short-form note to the note it repeats first: see manifest.attach_target)."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    prov = Provenance(
        number=n,
        document=doc,
        status="failed",
        url=url,
        final_url=str(path),
        origin="added",
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    try:
        return store(corpus_dir, doc, n, body, prov)
    except SourceError as exc:
        raise SourceError(f"{path}: {exc.message}") from exc


def status_table(corpus_dir: Path, doc: str, entries: list[SourceEntry]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        p = read_provenance(corpus_dir, doc, e.same_as or e.number)
        rows.append(
            {
                "document": doc,
                "number": e.number,
                "kind": e.kind,
                "fetchable": e.fetchable,
                "same_as": e.same_as,
                "status": p.status if p else _unfetched(e),
                "reason": (p.reason if p else e.reason),
                "pages": p.pages if p else 0,
                "url": e.urls[0] if e.urls else None,
                "urls": e.urls,
                "title": e.title,
            }
        )
    return rows


def _unfetched(e: SourceEntry) -> str:
    if e.same_as:
        return "same_source"
    return "not_fetched" if e.fetchable else "not_online"


def dumps(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False)
