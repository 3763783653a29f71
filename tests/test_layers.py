"""The three front doors over one engine, without cycles: api -> qa_service, cli -> qa_service (+ api only
in `serve`), the MCP server -> qa_service; CLI groups do not import each other; no import cycle at module
level inside qa_service. Read from the source (ast), so it costs nothing to run."""

from __future__ import annotations

import ast
from pathlib import Path

from qa_service.config import PROJECT_ROOT

SRC = PROJECT_ROOT / "src"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC if SRC in path.parents else PROJECT_ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def files(root: Path) -> dict[str, Path]:
    return {module_name(p): p for p in root.rglob("*.py")}


def test_front_doors_point_inwards() -> None:
    for name, path in files(SRC / "qa_service").items():
        uses_api = {m for m in imports(path, top_level_only=False) if m == "api" or m.startswith("api.")}
        if name == "qa_service.cli.serve":
            continue
        assert not uses_api, f"{name} imports {uses_api}: only `serve` may reach the HTTP app"
    groups = {n for n in files(SRC / "qa_service") if n.startswith("qa_service.cli.")} - {
        "qa_service.cli.common"
    }
    for name in groups:
        used = imports(files(SRC / "qa_service")[name], top_level_only=False)
        assert not used & (groups - {name}), f"{name} imports another command group"
    for name, path in files(PROJECT_ROOT / "api").items():
        assert "api.app" not in imports(path, top_level_only=False) or name in ("api.main",), name


def test_no_module_level_cycles() -> None:
    mods = files(SRC / "qa_service")
    graph = {n: {m for m in imports(p, top_level_only=True) if m in mods and m != n} for n, p in mods.items()}
    state: dict[str, int] = {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(m) :], m]))
            if m not in state:
                visit(m, [*stack, m])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])
