"""The stubs' TODOs in the report's language.

A stub function raises `NotImplementedError("TODO: ...")`, and the feedback quotes
that message ("Not implemented yet: `f` still raises NotImplementedError. TODO: ...").
A student who works in the Korean notebook and reads an English report (or the other
way round) should read the TODO in the report's language: when the message is one of
the kit's stub TODOs, in any language, the same function's TODO is taken from the stub
of the report's language (`grader/stubs/<lang>/<name>.py`); any other message is the
student's own and is quoted as it is.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from grader import stubs


def _normal(message: str) -> str:
    return " ".join(str(message).split())


def _raised_todo(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The message of the first `raise NotImplementedError("...")` in a function's body."""
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and getattr(node.exc.func, "id", None) == "NotImplementedError" \
                and node.exc.args and isinstance(node.exc.args[0], ast.Constant) \
                and isinstance(node.exc.args[0].value, str):
            return node.exc.args[0].value
    return None


def todos_of(path: Path) -> dict[str, str]:
    """{qualified function name: its TODO message} of one stub file."""
    found: dict[str, str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                message = _raised_todo(node)
                if message is not None:
                    found[prefix + node.name] = _normal(message)
    visit(ast.parse(path.read_text(encoding="utf-8")).body, "")
    return found


@functools.lru_cache(maxsize=None)
def _table(lang: str) -> dict[tuple[str, str], str]:
    """{(exercise, qualified function): TODO} of every stub the kit ships in `lang`."""
    folder = stubs.STUBS_DIR / lang
    if not folder.is_dir():
        return {}
    return {(path.stem, function): message
            for path in sorted(folder.glob("*.py"))
            for function, message in todos_of(path).items()}


@functools.lru_cache(maxsize=None)
def _origins() -> dict[str, tuple[str, str]]:
    """{a stub TODO in any language: (exercise, qualified function)}."""
    origins: dict[str, tuple[str, str]] = {}
    for lang in stubs.languages():
        for where, message in _table(lang).items():
            origins.setdefault(message, where)
    return origins


def todo_in(lang: str, message: str) -> str | None:
    """The stub TODO `message` as the stub of `lang` writes it (the English stub's for a
    language the stubs are not written in); None when `message` is not a stub's TODO."""
    where = _origins().get(_normal(message))
    if where is None:
        return None
    return _table(lang).get(where) or _table(stubs.DEFAULT_LANG).get(where)
