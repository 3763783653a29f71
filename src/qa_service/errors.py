"""The service's errors. They become HTTP codes (api/) and CLI messages (cli/common.edge) only at the edges."""

from __future__ import annotations


class QAServiceError(Exception):
    """Base class. `status` is the HTTP status the edge maps it to; the message says what was wrong."""

    status: int = 500
    headers: dict[str, str] | None = None  # response headers the HTTP edge adds

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(QAServiceError):
    """The caller sent something we cannot use (empty query, k out of range, ...)."""

    status = 422


class DuplicateDocument(InvalidInput):
    """A document id (or the same file) that the corpus already has."""


class TooLarge(InvalidInput):
    """An input over a configured size limit (an uploaded file's bytes, a PDF's pages, a paper's text)."""

    status = 413


class Conflict(QAServiceError):
    """The request cannot be done on this server as it stands: e.g. a change to the corpus on a replica whose
    corpus is on another machine."""

    status = 409


class Unauthorized(QAServiceError):
    """The server requires an API key (server.api_keys) and the request did not carry a valid one."""

    status = 401
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 (read-only)


class NotFound(QAServiceError):
    """A footnote, passage or document that does not exist."""

    status = 404


class ParseError(QAServiceError):
    """A corpus document that cannot be read or parsed (names the file and the problem)."""

    status = 422


class IndexMissing(QAServiceError):
    """No index has been built yet."""

    status = 503


class IndexCorrupt(QAServiceError):
    """The data directory exists but cannot be read; rebuild with `qa-service ingest --rebuild`."""

    status = 503


class EncoderMismatch(IndexCorrupt):
    """An index embedded by another model or encoder (embed.backend) than the one asking: never mixed."""


class StoreUnavailable(QAServiceError):
    """The vector store (e.g. a Chroma server) cannot be reached."""

    status = 503


class SourceError(QAServiceError):
    """A primary source could not be fetched, read or attached."""

    status = 422


class RequestTimeout(QAServiceError):
    """A request ran past the per-request time limit."""

    status = 504
