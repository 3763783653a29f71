"""Benchmarks: every figure comes with the bare cost it is compared to, measured in the same run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qa_service.config import Settings
from qa_service.evaluate import load_items, percentile


def _ms(xs: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(xs, 50) * 1000, 2),
        "p95": round(percentile(xs, 95) * 1000, 2),
        "p99": round(percentile(xs, 99) * 1000, 2),
    }


def _questions(settings: Settings, n: int) -> list[str]:
    qs = [i.question for i in load_items(settings.eval_dir / "questions.jsonl") if i.question]
    return (qs * (n // max(len(qs), 1) + 1))[:n]


def _save(settings: Settings, name: str, result: dict[str, Any]) -> None:
    out = settings.eval_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


def bench_retrieval(settings: Settings, n_queries: int = 100) -> dict[str, Any]:
    from qa_service.baseline import build_baseline
    from qa_service.corpus import load_corpus
    from qa_service.embed import Embedder
    from qa_service.engine import Engine, run_ingest
    from qa_service.index import build_chunks
    from qa_service.models import Message

    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    s = settings.model_copy(update={"data_dir": tmp / "data", "chroma_host": ""})
    embedder = Embedder(s.index.model_path)
    model = embedder.model
    papers = load_corpus(s.corpus_dir)
    chunks = build_chunks(papers, s)
    texts = list(
        dict.fromkeys([c.embed_text() for c in chunks] + [x.text for c in chunks for x in c.sentences])
    )
    model.encode(texts[:8])  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=s.index.batch_size, normalize_embeddings=True)
    raw_encode = time.perf_counter() - t0
    report = run_ingest(s, embedder=embedder)
    again = run_ingest(s, embedder=embedder)
    engine = Engine(s, embedder=embedder)
    engine.load()
    questions = _questions(s, n_queries)
    bare, search, ask = [], [], []
    for q in questions:
        engine.retriever.clear_cache()
        t0 = time.perf_counter()
        model.encode([q], normalize_embeddings=True)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.search(q)
        search.append(time.perf_counter() - t0)
        engine.retriever.clear_cache()
        t0 = time.perf_counter()
        engine.ask([Message(role="user", content=q)])
        ask.append(time.perf_counter() - t0)
    base = build_baseline(papers[0], embedder.model_path, workdir=tmp / "baseline")
    base_search = []
    for q in questions:
        t0 = time.perf_counter()
        base.search(q)
        base_search.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    base.embed_model.get_text_embedding_batch(base.texts)
    base_raw = time.perf_counter() - t0
    b, se, a, bs = _ms(bare), _ms(search), _ms(ask), _ms(base_search)
    result = {
        "machine": f"{os.cpu_count()} CPUs",
        "texts_embedded": len(texts),
        "chunks": len(chunks),
        "raw_encode_s": round(raw_encode, 3),
        "ingest_s": report.seconds,
        "ingest_over_raw_encode": round(report.seconds / raw_encode, 3),
        "ingest_chunks_per_s": round(len(chunks) / report.seconds, 1),
        "raw_encode_texts_per_s": round(len(texts) / raw_encode, 1),
        "reingest_unchanged_s": again.seconds,
        "query_embed_ms": b,
        "search_ms": se,
        "search_p50_over_embed_p50": round(se["p50"] / b["p50"], 3),
        "ask_ms": a,
        "ask_p50_over_embed_p50": round(a["p50"] / b["p50"], 3),
        "baseline_llamaindex": {
            "chunks": base.chunks,
            "build_s": round(base.build_seconds, 3),
            "raw_encode_s": round(base_raw, 3),
            "search_ms": bs,
            "search_p50_over_embed_p50": round(bs["p50"] / b["p50"], 3),
        },
        "queries": len(questions),
    }
    shutil.rmtree(tmp, ignore_errors=True)
    _save(settings, "bench-retrieval", result)
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process and its children (uvicorn workers), in KiB, from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def bench_load(
    settings: Settings, requests: int, levels: list[int], workers: int = 1, unique: bool = True
) -> dict[str, Any]:
    """`unique`: every request a distinct question (no cache hits: the worst case); else the evaluation
    questions repeat, as real traffic does, and the cache serves the repeats."""
    import httpx

    from qa_service.embed import Embedder
    from qa_service.engine import run_ingest

    run_ingest(settings)
    port = _free_port()
    env = dict(os.environ, QA_DATA_DIR=str(settings.data_dir))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("service did not become ready")
        questions = _questions(settings, requests)
        if unique:
            questions = [f"{q} (#{i})" for i, q in enumerate(questions)]
        emb = Embedder(settings.index.model_path)
        emb.encode_query("warm-up")
        bare = []
        for q in questions[:100]:
            t0 = time.perf_counter()
            emb.encode_query(q)
            bare.append(time.perf_counter() - t0)
        idle = []
        with httpx.Client(base_url=base, timeout=60) as c:
            for q in questions[:50]:
                t0 = time.perf_counter()
                c.post("/chat", json={"messages": [{"role": "user", "content": q + " (idle)"}]})
                idle.append(time.perf_counter() - t0)
        result: dict[str, Any] = {
            "unique_questions": unique,
            "workers": workers,
            "requests_per_level": requests,
            "query_embed_ms": _ms(bare),
            "idle_chat_ms": _ms(idle),
            "levels": {},
        }
        rss_after_100 = None
        for level in levels:
            stats, rss100 = asyncio.run(_load(base, questions, level, proc.pid))
            rss_after_100 = rss_after_100 or rss100
            stats["chat_p50_over_idle_p50"] = round(
                stats["chat_ms"]["p50"] / result["idle_chat_ms"]["p50"], 3
            )
            stats["chat_p50_over_embed_p50"] = round(
                stats["chat_ms"]["p50"] / result["query_embed_ms"]["p50"], 3
            )
            result["levels"][str(level)] = stats
        rss_end = _rss_kb(proc.pid)
        result["server_rss_mb_after_first_100"] = round((rss_after_100 or 0) / 1024, 1)
        result["server_rss_mb_at_end"] = round(rss_end / 1024, 1)
        result["server_peak_rss_mb"] = round(_rss_kb(proc.pid, "VmHWM") / 1024, 1)
        result["rss_growth_ratio"] = round(rss_end / rss_after_100, 3) if rss_after_100 else None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    _save(settings, f"bench-load-w{workers}-{'unique' if unique else 'repeated'}", result)
    return result


async def _load(base: str, questions: list[str], concurrency: int, pid: int) -> tuple[dict[str, Any], int]:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    chat: list[float] = []
    search: list[float] = []
    errors = 0
    done = 0
    rss100 = 0

    async def one(i: int, client: httpx.AsyncClient) -> None:
        nonlocal errors, done, rss100
        q = questions[i % len(questions)]
        async with sem:
            t0 = time.perf_counter()
            try:
                if i % 2 == 0:
                    r = await client.post("/chat", json={"messages": [{"role": "user", "content": q}]})
                else:
                    r = await client.post("/search", json={"query": q, "k": 5})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            (chat if i % 2 == 0 else search).append(time.perf_counter() - t0)
            errors += not ok
            done += 1
            if done == 100:
                rss100 = _rss_kb(pid)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, client) for i in range(len(questions))))
        wall = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "requests": len(questions),
        "errors": errors,
        "throughput_rps": round(len(questions) / wall, 1),
        "chat_ms": _ms(chat),
        "search_ms": _ms(search),
    }, rss100
