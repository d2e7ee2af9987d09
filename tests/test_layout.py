"""The grader's layout: small modules, no import cycle, no torch in the grader's process.

Read from the source (ast), nothing is imported but `grader.plugins` (for the names of
the builtin plugins). An import counts wherever it is, at the top of a module or inside
a function, except under `if TYPE_CHECKING:` (never run). `from grader.x import y` is an
import of the module `grader.x.y` where there is one, else of `grader.x`; the parent
packages Python imports on the way are not counted (every module would then depend on
`grader/__init__.py` and on its package's `__init__`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

GRADER = ROOT / "grader"
MAX_LINES = 400
#: Where the grader's process starts: its entry points (the command line, the pytest
#: plugin, the watcher) and the plugins it registers (`grader.plugins.BUILTIN_PLUGINS`).
ENTRY_POINTS = ("grader.__main__", "grader.cli", "grader.grading", "grader.pytest_plugin",
                "grader.watch", "grader.plugins")


def _modules() -> dict[str, Path]:
    """Every module of the grader package by its dotted name (a folder without an
    `__init__.py`, such as the shipped stubs, holds files, not modules)."""
    found = {}
    for path in sorted(GRADER.rglob("*.py")):
        folders = path.relative_to(ROOT).parent.parts
        if not all((ROOT.joinpath(*folders[:depth]) / "__init__.py").exists()
                   for depth in range(1, len(folders) + 1)):
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(nodes, in_function: bool = False):
    """(import node, whether it is inside a function), TYPE_CHECKING blocks left out."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _import_nodes(node.orelse, in_function)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
        else:
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                     ast.Lambda))
            yield from _import_nodes(ast.iter_child_nodes(node), inner)


def _imported(node: ast.AST, module: str) -> list[str]:
    """The names a node imports (absolute, dotted)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = module.split(".") if MODULES[module].name == "__init__.py" \
            else module.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if
                                                                  node.module else []))
    else:
        base = node.module or ""
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names]


def _scan(module: str) -> tuple[set[str], list[str]]:
    """The grader modules `module` imports, and its top-level imports of torch."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    grader_imports, torch_at_top = set(), []
    for node, in_function in _import_nodes(tree.body):
        for name in _imported(node, module):
            if name == "torch" or name.startswith("torch."):
                if not in_function:
                    torch_at_top.append(f"line {node.lineno}: {name}")
                continue
            while name and name not in MODULES and name.startswith("grader"):
                name = name.rpartition(".")[0]      # `import grader.x.y` where y is a name
            if name in MODULES and name != module:
                grader_imports.add(name)
    return grader_imports, torch_at_top


SCANS = {module: _scan(module) for module in MODULES}
GRAPH = {module: imports for module, (imports, _torch) in SCANS.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and any module
    that imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _grader_process_modules() -> set[str]:
    """Every module the grader's own process may import: what its entry points and
    builtin plugins import, followed through every import (top level or not). The
    worker-only code (the checks' probes and mutants, and what only they import) is
    imported by name in the sandbox's nursery, never from here."""
    from grader.plugins import BUILTIN_PLUGINS

    todo = [name for name in (*ENTRY_POINTS, *BUILTIN_PLUGINS) if name in MODULES]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(GRAPH[module])
    return seen


@pytest.mark.parametrize("path", sorted(GRADER.rglob("*.py")),
                         ids=lambda path: str(path.relative_to(GRADER)))
def test_every_module_of_the_grader_is_under_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines < MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_layout_test_sees_the_grader():
    assert {"grader.grading", "grader.protocol", "grader.worker", "grader.sandbox",
            "grader.sandbox.nursery"} <= set(MODULES)
    assert "grader.protocol" in GRAPH["grader.worker"]


def test_the_graders_modules_import_each_other_without_a_cycle():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_graders_process_does_not_import_torch_at_top_level():
    modules = _grader_process_modules()
    assert {"grader.grading", "grader.worker", "grader.sandbox.nursery"} <= modules
    offenders = {module: SCANS[module][1] for module in sorted(modules) if SCANS[module][1]}
    assert not offenders, f"torch imported at the top of the grader's modules: {offenders}"
