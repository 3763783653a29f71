"""`qa-service mcp`: the MCP server over stdio (for agents and IDE assistants that start it themselves)."""

from __future__ import annotations

import typer

from qa_service.cli.common import edge, open_engine, settings

app = typer.Typer()


@app.command("mcp")
@edge
def mcp() -> None:
    """Serve the MCP tools (ask, search, cite, passage, documents) over stdio; needs a built index."""
    from qa_service.mcp_server import serve_stdio

    s = settings()
    serve_stdio(s, open_engine(s))
