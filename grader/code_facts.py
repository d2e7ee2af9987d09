"""What the grader reads in a submission's code without running it: the names it defines,
whether it is empty, the modules it imports; each piece of code parsed once.

A 2 MB file of one-line statements costs the grader seconds of its own time (and a
gigabyte) to parse, and the loader, the scheduler and the judges all ask about the same
files: the answers are kept by the code's digest.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["CodeFacts", "code_facts", "imported_modules", "top_level_names"]

_COMPOUND = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
if hasattr(ast, "TryStar"):
    _COMPOUND += (ast.TryStar,)
_DEFINITION = re.compile(r"^(?:async[ \t]+def|def|class)[ \t]+([A-Za-z_]\w*)"
                         r"|^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


@dataclass(frozen=True)
class CodeFacts:
    """What the grader reads in a piece of code (a module, a cell), from one parse."""

    names: frozenset[str]          # what it defines at top level (`top_level_names`)
    empty: bool                    # no code at all (only comments, a docstring)
    imports: tuple[str, ...]       # the modules its imports name (`imported_modules`)


#: CodeFacts by the code's digest (the oldest dropped first).
_FACTS: dict[bytes, CodeFacts] = {}
_FACTS_KEPT = 4096


def code_facts(code: str) -> CodeFacts:
    key = hashlib.blake2b(code.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    facts = _FACTS.get(key)
    if facts is None:
        if len(_FACTS) >= _FACTS_KEPT:
            del _FACTS[next(iter(_FACTS))]
        facts = _FACTS[key] = _read_facts(code)
    return facts


def top_level_names(code: str) -> frozenset[str]:
    """Names a piece of code defines at top level (best effort).

    Definitions nested in top-level `if`/`try`/`with`/`for`/`while` count too. Code
    with a syntax error is scanned line by line for `def`, `class` and assignments at
    column 0, so that a renamed file with a typo is still matched to its exercise
    (and the typo reported) instead of being reported as missing.
    """
    return code_facts(code).names


def imported_modules(code: str) -> tuple[str, ...]:
    """Every module an `import` or `from ... import` statement names (`from a import b`:
    `a` and `a.b`), and the literal first argument of a call of `__import__` or
    `import_module`, anywhere in the code; nothing for code that does not parse."""
    return code_facts(code).imports


def _read_facts(code: str) -> CodeFacts:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return CodeFacts(frozenset(a or b for a, b in _DEFINITION.findall(code)), False, ())
    empty = all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                for node in tree.body)
    return CodeFacts(_defined(tree), empty, _imports(tree, code))


def _defined(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, _COMPOUND):
            for block in ("body", "orelse", "finalbody"):
                pending.extend(getattr(node, block, None) or ())
            for handler in getattr(node, "handlers", None) or ():
                pending.extend(handler.body)
    return frozenset(names)


_IMPORT_CALLS = ("__import__", "import_module")


def _imports(tree: ast.Module, code: str) -> tuple[str, ...]:
    # Import statements are statements: only the statements need a look, unless a call of
    # __import__/import_module may be there (identifiers are NFKC-normalised, so code that
    # is not ASCII may spell one otherwise). A full walk of a 2 MB file is seconds.
    calls = not code.isascii() or any(name in code for name in _IMPORT_CALLS)
    nodes = ast.walk(tree) if calls else _statements(tree.body)
    found: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else \
                getattr(function, "id", "")
            if called in _IMPORT_CALLS:
                found.append(node.args[0].value)
    return tuple(found)


def _statements(body: list) -> Iterable[ast.AST]:
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, block, None)
            if isinstance(children, list):
                pending.extend(children)
