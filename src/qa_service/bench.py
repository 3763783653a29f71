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
from typing import Any, get_args

from qa_service.config import Settings
from qa_service.evaluate import load_eval_sets, percentile


def _ms(xs: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(xs, 50) * 1000, 2),
        "p95": round(percentile(xs, 95) * 1000, 2),
        "p99": round(percentile(xs, 99) * 1000, 2),
    }


def _questions(settings: Settings, n: int) -> list[str]:
    qs = [i.question for i in load_eval_sets(settings.eval_dir) if i.question]
    return (qs * (n // max(len(qs), 1) + 1))[:n]


# Ways to ask the same question that question analysis reads the same (stop words, punctuation): distinct
# strings, hence no cache hits, without the digits of a counter, which analysis takes for a year or figure
# the answer must state (so every "distinct" question used to abstain).
_LEADS = (
    "",
    "According to the paper, ",
    "According to the documents, ",
    "In the paper, ",
    "In the documents, ",
)
_ENDS = ("", "?", " ?", "!", " !?")


def distinct_questions(settings: Settings, n: int, offset: int = 0) -> list[str]:
    """n distinct questions (from `offset` on): the evaluation questions, asked in different words."""
    qs = [i.question.rstrip() for i in load_eval_sets(settings.eval_dir) if i.question]
    out = []
    for i in range(offset, offset + n):
        q, variant = qs[i % len(qs)], i // len(qs)
        lead, end = _LEADS[variant % len(_LEADS)], _ENDS[(variant // len(_LEADS)) % len(_ENDS)]
        first, _, rest = q.partition(" ")
        question_word = first.lower() in (
            "what",
            "when",
            "where",
            "which",
            "who",
            "whom",
            "whose",
            "why",
            "how",
        )
        text = lead + (first.lower() if question_word else first) + (f" {rest}" if rest else "")
        round_ = variant // (len(_LEADS) * len(_ENDS))
        out.append(text + end + (f" (#{round_})" if round_ else ""))  # a counter only past 25 variants
    return out


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

    load_before = _loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    s = settings.model_copy(update={"data_dir": tmp / "data", "chroma_host": ""})
    embedder = Embedder.from_settings(settings)  # the service's encoder (embed.backend)
    # the bare PyTorch fp32 model every figure is compared to, whatever encoder the service runs
    reference = embedder if embedder.backend == "torch" else Embedder.from_settings(settings, "torch")
    model = reference.model
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
    base = build_baseline(papers[:1], embedder.model_path, workdir=tmp / "baseline")
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
        "load_average": {"before": load_before, "after": _loadavg()},
        "encoder": embedder.description,
        "reference": f"{reference.description} (bare, for the ratios)",
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
            "--timeout-keep-alive",
            str(settings.server.keep_alive_s),
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
            questions = distinct_questions(settings, requests)
        # the bare fp32 query embedding every figure is compared to, and the service's own encoder bare
        # (with the service's threads: torch's default two spin-wait for a core another process holds)
        encoders = {"torch": Embedder.from_settings(settings, "torch")}
        if settings.embed.backend != "torch":
            encoders[settings.embed.backend] = Embedder.from_settings(settings)
        bare: dict[str, list[float]] = {k: [] for k in encoders}
        for name, emb in encoders.items():
            emb.encode_query("warm-up")
            for q in questions[:100]:
                t0 = time.perf_counter()
                emb.encode_query(q)
                bare[name].append(time.perf_counter() - t0)
        idle, idle_search = [], []
        with httpx.Client(base_url=base, timeout=60) as c:
            for q in questions[:50]:
                t0 = time.perf_counter()
                c.post("/chat", json={"messages": [{"role": "user", "content": q + " (idle)"}]})
                idle.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                c.post("/search", json={"query": q + " (idle search)", "k": 5})
                idle_search.append(time.perf_counter() - t0)
        result: dict[str, Any] = {
            "encoder": encoders[settings.embed.backend].description,
            "load_average_before": _loadavg(),
            "unique_questions": unique,
            "workers": workers,
            "requests_per_level": requests,
            "query_embed_ms": _ms(bare["torch"]),  # bare fp32
            "service_encoder_query_embed_ms": _ms(bare[settings.embed.backend]),
            "idle_chat_ms": _ms(idle),
            "idle_search_ms": _ms(idle_search),
            "levels": {},
        }
        result["idle_search_p50_over_fp32_embed_p50"] = round(
            result["idle_search_ms"]["p50"] / result["query_embed_ms"]["p50"], 3
        )
        rss_after_100 = None
        for li, level in enumerate(levels):
            if unique:  # each level its own questions: no level is served from another's cache
                questions = distinct_questions(settings, requests, offset=(li + 1) * requests)
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
        result["load_average_after"] = _loadavg()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    encoder = "" if settings.embed.backend == "torch" else f"-{settings.embed.backend}"
    _save(settings, f"bench-load-w{workers}-{'unique' if unique else 'repeated'}{encoder}", result)
    return result


async def _load(base: str, questions: list[str], concurrency: int, pid: int) -> tuple[dict[str, Any], int]:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    chat: list[float] = []
    search: list[float] = []
    errors = 0
    why: dict[str, int] = {}  # what the errors were: HTTP status, or the client's exception
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
                if not ok:
                    why[f"HTTP {r.status_code}"] = why.get(f"HTTP {r.status_code}", 0) + 1
            except httpx.HTTPError as exc:
                ok = False
                why[type(exc).__name__] = why.get(type(exc).__name__, 0) + 1
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
        "error_kinds": why,
        "throughput_rps": round(len(questions) / wall, 1),
        "chat_ms": _ms(chat),
        "search_ms": _ms(search),
    }, rss100


# ---------------------------------------------------------------- scale


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def _wait_ready(base: str, proc: subprocess.Popen[bytes], limit_s: float = 600) -> None:
    import httpx

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on {base} exited with {proc.returncode}")
        try:
            if httpx.get(base + "/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server on {base} did not become ready")


def bench_scale(
    settings: Settings,
    sizes: list[int],
    queries: int = 60,
    seed: int = 0,
    http: bool = True,
    raw_limit: int = 0,
    keep: Path | None = None,
    embedder: Any = None,
    topical: bool = False,
) -> dict[str, Any]:
    """The corpus at each size (the bundled documents, then seeded synthetic papers of the paper's size up to
    `size` documents, or with `topical` copies of the corpus's own papers with their names and numbers
    swapped, which compete with it for every question), ingested incrementally into one embedded Chroma. Per
    size: ingest embeddings/s (with the encoder of `embed.backend`) against the bare fp32 model's encode rate
    on the same new texts (half measured before the ingest, half after, so that a machine whose load drifts
    does not favour either), index size, then /search and /chat latency in-process and over HTTP (a fresh
    server per size, its RSS) with distinct questions, every size and the bare fp32 query embedding measured
    round-robin in the same loop, so the ratios between them hold on a loaded machine; and how many in-process
    answers cite only the primary paper (with topical papers, how often a competitor wins the question).
    `raw_limit`: encode at most this many of the new texts raw (0: all of them; the rate is per text)."""
    import random

    from qa_service.corpus import load_corpus
    from qa_service.embed import Embedder
    from qa_service.engine import Engine, run_ingest
    from qa_service.index import build_chunks, embedding_texts, prune
    from qa_service.models import Message
    from qa_service.sources.documents import source_papers
    from qa_service.store import VectorStore
    from qa_service.synthetic import write_corpus

    load_before = _loadavg()
    sizes = sorted(set(sizes))
    tmp = keep or Path(tempfile.mkdtemp(prefix="qa-bench-scale-"))
    corpus = tmp / "corpus"
    s = settings.model_copy(update={"data_dir": tmp / "data", "corpus_dir": corpus, "chroma_host": ""})
    s = s.model_copy(update={"server": s.server.model_copy(update={"follow_interval_s": 0.0})})
    embedder = embedder or Embedder.from_settings(settings)  # the service's encoder (embed.backend)
    # the bare fp32 model every figure is compared to, whatever encoder the service runs
    reference = embedder if embedder.backend == "torch" else Embedder.from_settings(settings, "torch")
    model = reference.model
    words = (Path(reference.model_path) / "vocab.txt").read_text(encoding="utf-8").split()
    model.encode(["warm-up"] * 8)
    embedder.encode(["warm-up"] * 8)
    rng = random.Random(seed)
    seen: set[str] = set()
    per_size: dict[str, dict[str, Any]] = {}
    engines: dict[int, Engine] = {}
    servers: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
    t_start = time.perf_counter()
    try:
        for n in sizes:
            write_corpus(corpus, n, seed=seed, base=settings.corpus_dir, words=words, topical=topical)
            papers = load_corpus(corpus)
            papers += source_papers(s, papers)
            chunks = build_chunks(papers, s)
            chunk_keys, sentence_keys, word_keys = embedding_texts(chunks, s, embedder.name)
            texts = dict(zip(chunk_keys, (c.embed_text() for c in chunks), strict=True))
            texts.update(sentence_keys)
            texts.update(word_keys)
            new = [t for k, t in texts.items() if k not in seen]
            seen.update(texts)
            sample = rng.sample(new, raw_limit) if 0 < raw_limit < len(new) else list(new)
            half = len(sample) // 2
            t0 = time.perf_counter()
            model.encode(sample[:half], batch_size=s.index.batch_size, normalize_embeddings=True)
            raw_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = run_ingest(s, embedder=embedder)
            ingest_wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            model.encode(sample[half:], batch_size=s.index.batch_size, normalize_embeddings=True)
            raw_s += time.perf_counter() - t0
            store = VectorStore.from_settings(s)
            prune(store, s, keep=set())  # only this size's build stays: the size on disk is one build
            raw_rate = len(sample) / raw_s if raw_s else 0.0
            ingest_rate = report.embedded / report.seconds if report.seconds else 0.0
            per_size[str(n)] = {
                "documents": report.documents,
                "passages": report.chunks,
                "sentences": report.sentences,
                "texts_embedded": report.embedded,
                "texts_reused": report.reused,
                "raw_encode_texts": len(sample),
                "raw_encode_texts_per_s": round(raw_rate, 1),
                "ingest_s": report.seconds,
                "ingest_with_parsing_s": round(ingest_wall, 3),
                "ingest_embed_s": report.embed_seconds,
                "ingest_texts_per_s": round(ingest_rate, 1),
                "ingest_over_raw_encode_rate": round(ingest_rate / raw_rate, 3) if raw_rate else None,
                "index_bytes_on_disk": _du(s.data_dir / "chroma"),
                "vectors_bytes_in_memory": int((report.chunks + report.sentences) * 4 * embedder.dimension),
            }
            engine = Engine(s, embedder=embedder)
            t0 = time.perf_counter()
            engine.load()
            per_size[str(n)]["engine_load_s"] = round(time.perf_counter() - t0, 3)
            engines[n] = engine
            if http:
                port = _free_port()
                env = dict(
                    os.environ,
                    QA_DATA_DIR=str(s.data_dir),
                    QA_CORPUS_DIR=str(corpus),
                    QA_SERVER__FOLLOW_INTERVAL_S="0",
                    QA_PROGRESS="false",
                    QA_EMBED__BACKEND=embedder.backend,
                    QA_EMBED__ONNX_DIR=str(s.embed.onnx_dir or settings.data_dir / "models"),
                )
                argv = ["-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
                argv += ["--timeout-keep-alive", str(s.server.keep_alive_s)]
                proc = subprocess.Popen([sys.executable, *argv, "--log-level", "warning"], env=env)
                base = f"http://127.0.0.1:{port}"
                servers[n] = (proc, base)
                t0 = time.perf_counter()
                _wait_ready(base, proc)
                per_size[str(n)]["server_start_to_ready_s"] = round(time.perf_counter() - t0, 3)

        questions = distinct_questions(settings, queries * (4 * len(sizes) + 1))
        timings: dict[str, list[float]] = {"embed": []}
        primary = {n: 0 for n in sizes}  # answers citing only the first paper
        answered = {n: 0 for n in sizes}
        for n in sizes:
            for what in ("search", "chat", "http_search", "http_chat"):
                timings[f"{what}_{n}"] = []
        import httpx

        clients = {n: httpx.Client(base_url=base, timeout=120) for n, (_, base) in servers.items()}
        errors = 0
        asked = iter(questions)  # every call its own question: nothing is served from a cache
        for _ in range(queries):
            t0 = time.perf_counter()
            model.encode([next(asked)], normalize_embeddings=True)
            timings["embed"].append(time.perf_counter() - t0)
            for n in sizes:  # round-robin: every size in the same moment of the machine's load
                e = engines[n]
                t0 = time.perf_counter()
                e.search(next(asked))
                timings[f"search_{n}"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                answer = e.ask([Message(role="user", content=next(asked))])
                timings[f"chat_{n}"].append(time.perf_counter() - t0)
                if not answer.abstained:
                    answered[n] += 1
                    paper = e.paper.doc_id
                    primary[n] += all(x.document in ("", paper) for x in answer.sentences)
                q_search, q_chat = next(asked), next(asked)
                if n in clients:
                    c = clients[n]
                    t0 = time.perf_counter()
                    r = c.post("/search", json={"query": q_search, "k": 5})
                    timings[f"http_search_{n}"].append(time.perf_counter() - t0)
                    errors += r.status_code != 200
                    t0 = time.perf_counter()
                    r = c.post("/chat", json={"messages": [{"role": "user", "content": q_chat}]})
                    timings[f"http_chat_{n}"].append(time.perf_counter() - t0)
                    errors += r.status_code != 200
        for c in clients.values():
            c.close()
        embed = _ms(timings["embed"])
        first = str(sizes[0])
        for n in sizes:
            row = per_size[str(n)]
            for what in ("search", "chat", "http_search", "http_chat"):
                xs = timings[f"{what}_{n}"]
                if xs:
                    row[f"{what}_ms"] = _ms(xs)
                    row[f"{what}_p50_over_embed_p50"] = round(row[f"{what}_ms"]["p50"] / embed["p50"], 3)
            row["chat_answered_share"] = round(answered[n] / queries, 3)
            row["chat_answers_from_primary_share"] = (
                round(primary[n] / answered[n], 3) if answered[n] else None
            )
            if n in servers:
                pid = servers[n][0].pid
                row["server_rss_mb"] = round(_rss_kb(pid) / 1024, 1)
                row["server_peak_rss_mb"] = round(_rss_kb(pid, "VmHWM") / 1024, 1)
        for n in sizes:
            row = per_size[str(n)]
            for what in ("search", "chat", "http_search", "http_chat"):
                if f"{what}_ms" in row and f"{what}_ms" in per_size[first]:
                    row[f"{what}_p50_over_{first}x"] = round(
                        row[f"{what}_ms"]["p50"] / per_size[first][f"{what}_ms"]["p50"], 3
                    )
        largest = per_size[str(sizes[-1])]
        chat_goal = 1.5 if topical else 1.3
        result: dict[str, Any] = {
            "machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end",
            "load_average": {"before": load_before, "after": _loadavg()},
            "documents": "topical (the corpus's papers, names and numbers swapped)"
            if topical
            else "synthetic",
            "encoder": embedder.description,
            "reference": reference.description + " (bare, for the ratios)",
            "sizes": sizes,
            "seed": seed,
            "queries_per_size": queries,
            "http_errors": errors,
            "query_embed_ms": embed,
            "run_s": round(time.perf_counter() - t_start, 1),
            "per_size": per_size,
            "goals": {
                f"chat_p50_at_largest_over_smallest (<= {chat_goal})": largest.get(f"chat_p50_over_{first}x"),
                f"http_chat_p50_at_largest_over_smallest (<= {chat_goal})": largest.get(
                    f"http_chat_p50_over_{first}x"
                ),
                "search_p50_over_embed_p50, worst size (<= 1.3)": max(
                    per_size[str(n)]["search_p50_over_embed_p50"] for n in sizes
                ),
                "http_search_p50_over_embed_p50, worst size (<= 1.3)": max(
                    (per_size[str(n)].get("http_search_p50_over_embed_p50") or 0.0) for n in sizes
                ),
                "ingest_over_raw_fp32_encode_rate, worst size (>= 0.9; >= 2 with int8)": min(
                    per_size[str(n)]["ingest_over_raw_encode_rate"] or 0.0 for n in sizes
                ),
                "server_rss_mb_at_largest (<= 1536)": largest.get("server_rss_mb"),
            },
        }
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    from qa_service.config import EmbedSettings

    default = EmbedSettings.model_fields["backend"].default
    suffix = "" if embedder.backend == default else f"-{embedder.backend}"  # one report per encoder
    name = ("bench-scale-topical" if topical else "bench-scale") + suffix
    _save(settings, name, result)
    _plot_scale(settings.eval_dir / "reports" / f"{name}.png", result)
    return result


def _plot_scale(path: Path, result: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = result["sizes"]
    rows = [result["per_size"][str(n)] for n in sizes]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    for key, label in (
        ("search_ms", "/search in-process"),
        ("chat_ms", "/chat in-process"),
        ("http_search_ms", "/search over HTTP"),
        ("http_chat_ms", "/chat over HTTP"),
    ):
        if all(key in r for r in rows):
            ax1.plot(sizes, [r[key]["p50"] for r in rows], marker="o", label=f"{label} p50")
    ax1.axhline(
        result["query_embed_ms"]["p50"], color="grey", linestyle="--", label="bare query embedding p50"
    )
    ax1.set(xlabel="corpus size (x the paper)", ylabel="ms", title="Latency p50 by corpus size", xscale="log")
    ax1.set_xticks(sizes, [f"{n}x" for n in sizes])
    ax1.set_ylim(bottom=0)
    ax1.legend(fontsize=7, loc="lower right")
    ax2.bar(
        [f"{n}x" for n in sizes], [r["ingest_over_raw_encode_rate"] or 0 for r in rows], color="tab:green"
    )
    ax2.axhline(0.9, color="grey", linestyle="--")
    top = max([1.2, *((r["ingest_over_raw_encode_rate"] or 0) * 1.1 for r in rows)])
    ax2.set(title="Ingest embeddings/s over raw encode rate (goal >= 0.9)", ylim=(0, top))
    ax3.plot(sizes, [r["index_bytes_on_disk"] / 2**20 for r in rows], marker="o", label="index on disk (MiB)")
    if all("server_rss_mb" in r for r in rows):
        ax3.plot(sizes, [r["server_rss_mb"] for r in rows], marker="o", label="server RSS (MiB)")
    ax3.set(xlabel="corpus size (x the paper)", title="Memory and disk", xscale="log")
    ax3.set_xticks(sizes, [f"{n}x" for n in sizes])
    ax3.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- encoders

# Evaluation metrics where a lower value is the better one (a rise is the drop); the others are better higher.
_LOWER_IS_BETTER = {"false_abstention_rate"}
# Figures of an evaluation summary that describe the run, not its quality: not compared.
_NOT_QUALITY = {
    "items",
    "answerable",
    "unanswerable",
    "mean_answer_words",
    "latency_ms_p50",
    "latency_ms_p95",
}


def _loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def quality_drops(fp32: dict[str, Any], int8: dict[str, Any]) -> dict[str, float]:
    """Per quality metric of two evaluation summaries, how much worse the second is (negative: better)."""
    out: dict[str, float] = {}
    for k, a in fp32.items():
        b = int8.get(k)
        if k in _NOT_QUALITY or not isinstance(a, int | float) or not isinstance(b, int | float):
            continue
        out[k] = round((b - a) if k in _LOWER_IS_BETTER else (a - b), 4)
    return out


def bench_encoder(
    settings: Settings,
    queries: int = 100,
    max_drop: float = 0.01,
    embedders: dict[str, Any] | None = None,
    block: int = 10,
) -> dict[str, Any]:
    """The encoders of the same model in one run, each against PyTorch fp32: the cosine agreement of their
    vectors over every sentence (and passage) of the corpus; the evaluation under each, with the shipped weights
    and leave-one-writer-out (each encoder's answer stage trained on its own features, as `qa-service eval`
    does); and their speed: a single query, a batch of 16, and ingest (texts embedded per second by a real
    ingest, against the bare PyTorch encode rate on the same texts, half timed before the ingests and half
    after). Single queries (`block` at a time) and batches (two at a time) rotate between the encoders, so load
    on a shared machine falls on all. `embedders`: {backend: Embedder} already loaded (tests); "torch" is the
    reference."""
    import numpy as np

    from qa_service.corpus import load_corpus
    from qa_service.embed import Backend, Embedder
    from qa_service.engine import Engine, run_ingest
    from qa_service.evaluate import engine_target, load_eval_sets, load_pure_test, report_of, run_eval
    from qa_service.index import build_chunks, embedding_texts
    from qa_service.learn import held_out_rows
    from qa_service.report import macros
    from qa_service.sources.documents import source_papers

    load_before = _loadavg()
    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-encoder-"))
    encoders: dict[str, Any] = embedders or {
        name: Embedder.from_settings(settings, name) for name in get_args(Backend)
    }
    fp32 = encoders["torch"]
    others = [name for name in encoders if name != "torch"]
    try:
        for enc in encoders.values():
            enc.encode(["warm-up"] * 8)
        papers = load_corpus(settings.corpus_dir)
        papers += source_papers(settings, papers)
        chunks = build_chunks(papers, settings)
        sentences = list(dict.fromkeys(s.text for c in chunks for s in c.sentences))
        passages = list(dict.fromkeys(c.embed_text() for c in chunks))
        questions = distinct_questions(settings, queries)
        reference = {"sentences": fp32.encode(sentences), "passages": fp32.encode(passages)}
        q32 = fp32.encode(questions)

        def agreement(name: str) -> dict[str, Any]:
            enc = encoders[name]
            out: dict[str, Any] = {}
            for what, texts in (("sentences", sentences), ("passages", passages)):
                cos = (reference[what] * enc.encode(texts)).sum(axis=1)
                out[what] = {
                    "texts": len(texts),
                    "cosine_mean": round(float(cos.mean()), 5),
                    "cosine_p1": round(float(np.percentile(cos, 1)), 5),
                    "cosine_min": round(float(cos.min()), 5),
                }
            q = enc.encode(questions)
            own = enc.encode(sentences)
            out["questions"] = {
                "texts": len(questions),
                "cosine_mean": round(float((q32 * q).sum(axis=1).mean()), 5),
                "same_nearest_sentence": round(
                    float(((q32 @ reference["sentences"].T).argmax(1) == (q @ own.T).argmax(1)).mean()), 4
                ),
            }
            return out

        agree = {name: agreement(name) for name in others}

        single: dict[str, list[float]] = {k: [] for k in encoders}
        batch: dict[str, list[float]] = {k: [] for k in encoders}
        names = list(encoders)

        def timed(timings: dict[str, list[float]], blocks: list[list[list[str]]]) -> None:
            """Each block of calls (lists of texts) by every encoder in turn, the order rotating from block to
            block; a call before each block is not timed: the first call after another encoder ran is slower
            (torch's threads wake up; about 2-3x here), a switch no server makes."""
            for i, calls in enumerate(blocks):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    encoders[name].encode(calls[0], batch_size=len(calls[0]))
                    for texts in calls:
                        t0 = time.perf_counter()
                        encoders[name].encode(texts, batch_size=len(texts))
                        timings[name].append(time.perf_counter() - t0)

        timed(single, [[[q] for q in questions[i : i + block]] for i in range(0, len(questions), block)])
        sixteens = [questions[i : i + 16] for i in range(0, len(questions) - 15, 16)] or [questions]
        timed(batch, [sixteens[i : i + 2] for i in range(0, len(sixteens), 2)])

        # ingest: what a real ingest embeds (passages, sentences, corpus words), under each encoder
        s0 = settings.model_copy(update={"chroma_host": "", "progress": False})
        _, sentence_keys, word_keys = embedding_texts(chunks, s0, fp32.name)
        texts = list(
            dict.fromkeys([c.embed_text() for c in chunks] + [*sentence_keys.values(), *word_keys.values()])
        )
        half = len(texts) // 2
        t0 = time.perf_counter()
        fp32.encode(texts[:half], settings.index.batch_size)
        raw32 = time.perf_counter() - t0
        ingests: dict[str, Any] = {}
        engines: dict[str, Engine] = {}
        for name, enc in encoders.items():
            s = s0.model_copy(update={"data_dir": tmp / name})
            report = run_ingest(s, embedder=enc)
            ingests[name] = {
                "texts_embedded": report.embedded,
                "ingest_s": report.seconds,
                "embed_s": report.embed_seconds,
                "ingest_texts_per_s": round(report.embedded / report.seconds, 1) if report.seconds else None,
            }
            engines[name] = Engine(s, embedder=enc)
        t0 = time.perf_counter()
        fp32.encode(texts[half:], settings.index.batch_size)
        raw32 += time.perf_counter() - t0
        raw_rate = len(texts) / raw32
        raw_rates = {"torch": round(raw_rate, 1)}
        for name in others:
            t0 = time.perf_counter()
            encoders[name].encode(texts, settings.index.batch_size)
            raw_rates[name] = round(len(texts) / (time.perf_counter() - t0), 1)
        for row in ingests.values():
            row["over_fp32_raw_encode_rate"] = round((row["ingest_texts_per_s"] or 0) / raw_rate, 3)

        # evaluation: every set, per writer, with the shipped weights and leave-one-writer-out
        items = load_eval_sets(settings.eval_dir)
        pure = load_pure_test(settings.eval_dir)
        shipped: dict[str, dict[str, Any]] = {}
        held: dict[str, dict[str, Any]] = {}
        for name, engine in engines.items():
            engine.load()
            shipped[name] = run_eval(engine_target(engine), items)["writers"]
            rows, _ = held_out_rows(engine, items, pure)
            held[name] = report_of(rows)["writers"]
        drops: dict[str, Any] = {}
        for name in others:
            macro_shipped = quality_drops(macros(shipped["torch"]), macros(shipped[name]))
            macro_held = quality_drops(macros(held["torch"]), macros(held[name]))
            drops[name] = {
                "held_out_macro": macro_held,
                "shipped_macro": macro_shipped,
                "held_out_per_writer": {
                    w: quality_drops(held["torch"][w], held[name].get(w, {})) for w in held["torch"]
                },
                "worst_held_out_macro": max(macro_held.values(), default=0.0),
                "worst_shipped_macro": max(macro_shipped.values(), default=0.0),
            }
        single_ms, batch_ms = ({k: _ms(v) for k, v in d.items()} for d in (single, batch))
        result: dict[str, Any] = {
            "machine": f"{os.cpu_count()} CPUs",
            "load_average": {"before": load_before, "after": _loadavg()},
            "encoders": {k: enc.description for k, enc in encoders.items()},
            "agreement_with_torch": agree,
            "speed": {
                "single_query_ms": single_ms,
                "batch_of_16_ms": batch_ms,
                "single_query_p50_torch_over": {
                    n: round(single_ms["torch"]["p50"] / single_ms[n]["p50"], 2) for n in others
                },
                "batch_of_16_p50_torch_over": {
                    n: round(batch_ms["torch"]["p50"] / batch_ms[n]["p50"], 2) for n in others
                },
                "raw_encode_texts": len(texts),
                "raw_encode_texts_per_s": raw_rates,
                "ingest": ingests,
            },
            "eval": {
                "items": len(items),
                "held_out": {"macro": {k: macros(v) for k, v in held.items()}, "writers": held},
                "shipped": {"macro": {k: macros(v) for k, v in shipped.items()}, "writers": shipped},
                "drop_from_torch": drops,
            },
            "recommendation": {
                "rule": f"an encoder may be the default only if no macro-averaged evaluation metric (held-out and "
                f"shipped) drops by more than {max_drop} from PyTorch fp32",
                "may_be_default": {
                    n: max(drops[n]["worst_held_out_macro"], drops[n]["worst_shipped_macro"]) <= max_drop
                    for n in others
                },
            },
            "queries": len(questions),
            "run_s": round(time.perf_counter() - t_start, 1),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _save(settings, "bench-encoder", result)
    return result
