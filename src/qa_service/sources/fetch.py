"""fetch_sources(): download each fetchable source with httpx, safely, and store raw file, text and provenance
under corpus/sources/<n>/. One failure is recorded for that source and never stops the others."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel

from qa_service.config import SourcesSettings
from qa_service.errors import SourceError
from qa_service.sources.extract import PAGE_BREAK, extract, sniff
from qa_service.sources.manifest import SourceEntry


class Provenance(BaseModel):
    number: int
    status: str  # "ok" or "failed"
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


def source_dir(corpus_dir: Path, n: int) -> Path:
    return corpus_dir / "sources" / str(n)


def read_provenance(corpus_dir: Path, n: int) -> Provenance | None:
    path = source_dir(corpus_dir, n) / "provenance.json"
    try:
        return Provenance.model_validate_json(path.read_text(encoding="utf-8")) if path.exists() else None
    except ValueError:
        return None


def read_pages(corpus_dir: Path, n: int) -> list[str] | None:
    path = source_dir(corpus_dir, n) / "text.txt"
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
    delay = cfg.backoff_s
    for attempt in range(cfg.retries + 1):
        try:
            with client.stream("GET", url) as resp:
                if resp.status_code >= 500 and attempt < cfg.retries:
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
        except (httpx.TimeoutException, _Retry) as exc:
            if attempt >= cfg.retries:
                raise SourceError(
                    f"gave up after {attempt + 1} tries: {exc or exc.__class__.__name__}"
                ) from exc
            time.sleep(delay)
            delay *= 2
        except httpx.HTTPError as exc:
            raise SourceError(f"request failed: {exc.__class__.__name__}: {exc}") from exc
    raise SourceError("unreachable")  # pragma: no cover


class _Retry(Exception):
    pass


def store(corpus_dir: Path, n: int, body: bytes, prov: Provenance) -> Provenance:
    """Extract and write raw file, text and provenance atomically (a folder renamed into place)."""
    kind = sniff(body)
    if kind is None:
        raise SourceError(f"neither PDF nor HTML (Content-Type said '{prov.content_type or 'nothing'}')")
    pages, extractor = extract(body, kind)
    final = source_dir(corpus_dir, n)
    tmp = final.with_name(f".{n}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / f"raw.{kind}").write_bytes(body)
    (tmp / "text.txt").write_text(PAGE_BREAK.join(pages), encoding="utf-8")
    prov = prov.model_copy(
        update={
            "status": "ok",
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


def _record_failure(corpus_dir: Path, prov: Provenance) -> Provenance:
    d = source_dir(corpus_dir, prov.number)
    d.mkdir(parents=True, exist_ok=True)
    if read_provenance(corpus_dir, prov.number) and (d / "text.txt").exists():
        return prov  # keep the good copy we have; report the failure only
    (d / "provenance.json").write_text(prov.model_dump_json(indent=2), encoding="utf-8")
    return prov


def fetch_one(corpus_dir: Path, entry: SourceEntry, cfg: SourcesSettings, client: httpx.Client) -> Provenance:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    url = entry.urls[0]
    prov = Provenance(number=entry.number, status="failed", url=url, fetched_at=now)
    try:
        resp, body, final_url = _get(client, url, cfg)
        prov.final_url, prov.http_status = final_url, resp.status_code
        prov.content_type = resp.headers.get("content-type", "")
        if resp.status_code != 200:
            raise SourceError(f"HTTP {resp.status_code}")
        return store(corpus_dir, entry.number, body, prov)
    except SourceError as exc:
        prov.reason = exc.message
        return _record_failure(corpus_dir, prov)


def fetch_sources(
    corpus_dir: Path,
    entries: list[SourceEntry],
    cfg: SourcesSettings,
    force: bool = False,
    on_done: Callable[[Provenance], Any] | None = None,
) -> list[Provenance]:
    """Fetch each entry (skipping those already fetched unless force), `cfg.concurrency` at a time."""
    todo, results = [], []
    for e in entries:
        have = read_provenance(corpus_dir, e.number)
        if not force and have and have.status == "ok":
            results.append(have)
            if on_done:
                on_done(have)
        elif not e.fetchable or not e.urls:
            prov = Provenance(number=e.number, status="skipped", reason=e.reason or "nothing to fetch")
            results.append(prov)
            if on_done:
                on_done(prov)
        else:
            todo.append(e)
    headers = {"User-Agent": cfg.user_agent, "Accept": "application/pdf,text/html;q=0.9,*/*;q=0.5"}
    with httpx.Client(timeout=cfg.timeout_s, follow_redirects=False, headers=headers) as client:

        def run(e: SourceEntry) -> Provenance:
            prov = fetch_one(corpus_dir, e, cfg, client)
            if on_done:
                on_done(prov)
            return prov

        with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
            results += list(pool.map(run, todo))
    return sorted(results, key=lambda p: p.number)


def add_file(corpus_dir: Path, n: int, path: Path, url: str = "") -> Provenance:
    """Attach a file the user downloaded by hand (PDF or HTML)."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    prov = Provenance(
        number=n,
        status="failed",
        url=url,
        final_url=str(path),
        origin="added",
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return store(corpus_dir, n, body, prov)


def status_table(corpus_dir: Path, entries: list[SourceEntry]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        p = read_provenance(corpus_dir, e.number)
        rows.append(
            {
                "number": e.number,
                "kind": e.kind,
                "fetchable": e.fetchable,
                "status": p.status if p else _unfetched(e),
                "reason": (p.reason if p else e.reason),
                "pages": p.pages if p else 0,
                "url": e.urls[0] if e.urls else None,
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
