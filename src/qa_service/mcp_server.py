"""The MCP server (official SDK): tools ask, search, cite, passage and documents over the same engine as the
HTTP API, with the same response shapes (qa_service.schemas) as typed structured output.

`qa-service mcp` serves it over stdio; the HTTP app mounts the same tools at /mcp (streamable HTTP).
Arguments are checked against the same models as the HTTP request bodies before the tool runs, and a failed
call answers what HTTP would: `{"status": 422, "detail": [...]}` (or 404, 503, 504 with the same message),
as an error result, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from qa_service.config import Settings
from qa_service.engine import Citation, Engine
from qa_service.errors import QAServiceError, RequestTimeout
from qa_service.generate import AnswerMode, Generator
from qa_service.models import Message
from qa_service.schemas import (
    AskRequest,
    ChatMessage,
    ChatResponse,
    CiteRequest,
    Content,
    DocumentList,
    DocumentsRequest,
    ErrorResult,
    FootnoteNumber,
    K,
    PassageDetail,
    PassageId,
    PassageRequest,
    Query,
    SearchMode,
    SearchRequest,
    SearchResponse,
    to_chat,
    to_detail,
    to_documents,
    to_passage,
    validation_detail,
)

T = TypeVar("T")
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ARGUMENTS: dict[str, type[BaseModel]] = {
    "ask": AskRequest,
    "search": SearchRequest,
    "cite": CiteRequest,
    "passage": PassageRequest,
    "documents": DocumentsRequest,
}
MODE_HELP = (
    "extractive (the documents' sentences) or generate (LLM prose, each sentence checked against the evidence "
    "it cites); default from the server's settings."
)
INSTRUCTIONS = (
    "Questions about a set of documents (a paper and the sources its footnotes cite), answered from their own "
    "sentences. `ask` answers with passage markers [n] and the exact footnotes behind each sentence (or "
    "abstains, saying why); `search` ranks passages; `cite` says what footnote N cites and which sentences "
    "cite it; `passage` gives one passage by id; `documents` lists the documents."
)


def error_result(status: int, detail: str | list[dict[str, Any]]) -> CallToolResult:
    err = ErrorResult(status=status, detail=detail)
    return CallToolResult(
        content=[TextContent(text=json.dumps(err.model_dump(), ensure_ascii=False))],
        structured_content=err.model_dump(),
        is_error=True,
    )


async def validate_like_http(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: a tool call's arguments are validated by the HTTP request models first, so a bad
    argument gets HTTP's 422 detail (loc, msg, type) rather than the SDK's own wording."""
    params = ctx.params
    if ctx.method == "tools/call" and isinstance(params, dict):
        model = ARGUMENTS.get(str(params.get("name")))
        if model is not None:
            try:
                model.model_validate(params.get("arguments") or {})
            except ValidationError as exc:
                return error_result(422, validation_detail(list(exc.errors())))
    return await call_next(ctx)


def build_server(engine: Callable[[], Engine], generator: Generator, settings: Settings) -> MCPServer:
    """`engine`: returns the loaded engine (or raises IndexMissing), called per tool call."""
    server: MCPServer = MCPServer(
        "qa-service",
        instructions=INSTRUCTIONS,
        version="0.1.0",
        log_level="WARNING",
        middleware=[validate_like_http],
    )

    async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Blocking engine work off the event loop, within the request time limit (as over HTTP)."""
        limit = settings.server.request_timeout_s
        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), abandon_on_cancel=True)
        except TimeoutError as exc:
            raise RequestTimeout(f"the request took longer than {limit} s") from exc

    async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Engine errors become the error result HTTP would answer (typed as T: the SDK passes an error
        CallToolResult through unchanged)."""
        try:
            return await run(fn, *args, **kwargs)
        except QAServiceError as exc:
            failed: Any = error_result(exc.status, exc.message)
            return failed

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def ask(
        question: Content,
        history: Annotated[
            list[ChatMessage], Field(max_length=999, description="Earlier turns, oldest first.")
        ] = [],  # noqa: B006  (the SDK copies defaults into the schema; never mutated)
        mode: Annotated[AnswerMode | None, Field(description=MODE_HELP)] = None,
        k: K | None = None,
        documents: Annotated[
            list[str] | None,
            Field(
                description="Answer only from these document ids (see `documents`) and the sources they cite."
            ),
        ] = None,
    ) -> ChatResponse:
        """Answer a question from the documents. Each answer sentence ends with [n], the passage it comes
        from; `footnotes` are exactly the references the sentences that answer cite (a citation marked
        `context` is shown only for context); `abstained` and `reason` say when and why the documents don't
        answer it."""
        args = AskRequest(question=question, history=history, mode=mode, k=k, documents=documents)
        request = args.chat_request()
        messages = [Message(role=m.role, content=m.content) for m in request.messages]

        try:  # the engine's answer under the request time limit; the LLM then has its own timeout
            e = engine()
            result = await run(e.ask, messages, request.k, documents=request.documents)
            if generator.mode(request.mode) != "generate":
                return to_chat(result, e)
            result, generation = await anyio.to_thread.run_sync(generator.generate, result, messages)
            return to_chat(result, e, generation)
        except QAServiceError as exc:
            failed: Any = error_result(exc.status, exc.message)
            return failed

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def search(
        query: Query,
        k: K = 5,
        mode: SearchMode = "hybrid",
        documents: Annotated[
            list[str] | None, Field(description="Only passages of these document ids (see `documents`).")
        ] = None,
    ) -> SearchResponse:
        """Passages ranked for a query (hybrid retrieval: dense + best sentence + BM25), each with its
        document, section, page and footnotes, as POST /search returns them."""

        def ranked() -> SearchResponse:
            e = engine()
            hits = e.search(query, k, mode, documents)
            return SearchResponse(passages=[to_passage(h) for h in hits])

        return await call(ranked)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def cite(
        number: FootnoteNumber,
        document: Annotated[
            str | None,
            Field(max_length=200, description="Whose footnote (a document id); default: the paper."),
        ] = None,
    ) -> Citation:
        """What footnote `number` cites (text, URLs, title, author, date), the sentences that carry or are
        covered by its marker, and, once fetched, its source's quotation checks."""

        return await call(lambda: engine().cite(number, document))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def passage(id: PassageId) -> PassageDetail:
        """One passage by id, with its sentences and the footnotes of each."""
        return await call(lambda: to_detail(engine().passage(id)))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def documents() -> DocumentList:
        """The documents: the paper(s) and the fetched sources of their footnotes."""
        return await call(lambda: to_documents(engine()))

    return server


def serve_stdio(settings: Settings, engine: Engine) -> None:
    server = build_server(lambda: engine, Generator.from_settings(settings), settings)
    server.run("stdio")


def streamable_http_app(server: MCPServer, settings: Settings) -> Any:
    """The ASGI app answering POST/GET/DELETE /mcp (stateless: any worker can answer any call)."""
    return server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, host=settings.server.host
    )
