"""What every command group shares: the error edge, JSON output, the consoles, settings and the engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from qa_service.config import Settings
from qa_service.errors import QAServiceError

if TYPE_CHECKING:
    from qa_service.engine import Engine

out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def edge(fn: F) -> F:
    """Turn the engine's errors into a clear message and exit code 2, without a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAServiceError as exc:
            # escaped: a message may quote "[writer.x.min]" or a reader's "[sic]", which Rich reads as markup
            err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return Settings()


def open_engine(s: Settings | None = None) -> Engine:
    from qa_service.engine import Engine

    return Engine.open(s or settings())


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
