"""The house rules of the code's layout, checked on the source (issue 18): no import cycle
between modules of ``leadsla`` and ``flows``, no module over about 400 lines, no function over
about 100."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("leadsla/**/*.py"), *ROOT.glob("flows/**/*.py")])
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 100


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


MODULES = {_module(p): p for p in FILES}


def _target(name: str) -> str | None:
    """The module of ours that importing ``name`` runs (a package's ``__init__``, or the
    nearest enclosing module for ``from pkg import name``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(mod: str, path: Path) -> set[str]:
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [f"{base}.{a.name}" for a in node.names]
        out |= {t for n in names if (t := _target(n)) and t != mod}
    return out


def test_no_import_cycle() -> None:
    graph = {m: _imports(m, p) for m, p in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in FILES:
        text = path.read_text()
        rel = path.relative_to(ROOT)
        if (n := len(text.splitlines())) > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {n} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "split these by idea: " + "; ".join(too_long)
