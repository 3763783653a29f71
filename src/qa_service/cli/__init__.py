"""qa-service: corpus | ingest | search | ask | cite | serve | mcp | eval | sources | bench.

The root only registers the command groups (one module each; none imports another). Errors become a
one-line message and exit code 2 at the edge (common.edge); nothing below prints or exits.
"""

from __future__ import annotations

import typer

from qa_service.cli import bench, corpus, evaluation, index, mcp, query, serve, sources

app = typer.Typer(add_completion=False, no_args_is_help=True, help=(__doc__ or "").split("\n\n")[0])
app.add_typer(corpus.app, name="corpus")
app.add_typer(index.app)
app.add_typer(query.app)
app.add_typer(serve.app)
app.add_typer(mcp.app)
app.add_typer(evaluation.app)
app.add_typer(sources.app, name="sources")
app.add_typer(bench.app, name="bench")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
