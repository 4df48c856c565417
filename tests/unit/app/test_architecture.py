"""The shape of the code: no import cycles among the app's modules, and no import hidden inside a function
unless a comment on that line says why (the import-linter layers contract in pyproject.toml does the rest)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[3]


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.find_modules_directly_imported_by(node) & modules):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_among_the_apps_modules() -> None:
    graph = grimp.build_graph("can_crm", "matching", "geo")
    modules = {m for m in graph.modules if m.split(".")[0] in {"can_crm", "matching", "geo"}}
    assert _cycles(graph, modules) == []


def _function_level_imports(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    hidden: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    line = lines[inner.lineno - 1]
                    before = lines[inner.lineno - 2].strip() if inner.lineno > 1 else ""
                    if "#" not in line and not before.startswith("#"):
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {line.strip()}")
    return hidden


def test_no_import_inside_a_function_without_a_comment_saying_why() -> None:
    hidden = sorted({h for p in (ROOT / "can_crm").rglob("*.py") for h in _function_level_imports(p)})
    assert hidden == []


def test_views_never_roll_back_services_own_their_transaction_boundary() -> None:
    """Services that refuse run in a savepoint (`unit_of_work.atomic`); the request boundary commits or rolls
    back. Only the error handlers (http.py, the API's envelope), the boundaries themselves (a web request, a job,
    a CLI command) may roll back."""
    allowed = {
        "can_crm/http.py",
        "can_crm/web.py",
        "can_crm/unit_of_work.py",
        "can_crm/api/v1/errors.py",
        "can_crm/open311/routes.py",  # Open311's own error format, like the API's envelope
    }
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "can_crm").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in allowed and not {"jobs", "services", "cli"} & set(path.parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "rollback(" in line
    ]
    assert offenders == []
