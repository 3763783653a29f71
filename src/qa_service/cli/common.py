"""What every command group shares: the error edge, JSON output, the consoles, settings and the engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from qa_service.config import Settings
from qa_service.errors import QAServiceError

if TYPE_CHECKING:
    from qa_service.engine import Engine

# no markup: what is printed is the documents' and the readers' text ("[t]he", "[sic]", a title with "[/i]"),
# shown as written; styles are given as Text (rich.text.Text.assemble), never as "[bold]" in a string
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)
F = TypeVar("F", bound=Callable[..., Any])


def edge(fn: F) -> F:
    """Turn the engine's errors into a clear message and exit code 2, without a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAServiceError as exc:
            err.print(Text.assemble(("error:", "red"), f" {exc.message}"), highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return Settings()


def open_engine(s: Settings | None = None) -> Engine:
    from qa_service.engine import Engine

    return Engine.open(s or settings())


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
