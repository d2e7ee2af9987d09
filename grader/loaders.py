"""Builtin loader: paths (.py, .ipynb, directories) -> a `Submission`.

The grader only reads files here; nothing of the submission runs in this process.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from grader import hookimpl

MAX_SOURCE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One file of a submission: a module (`code`) or a notebook (`cells`)."""

    path: str
    kind: str                                   # "module" or "notebook"
    module_name: str
    code: str = ""
    cells: tuple[tuple[int, str], ...] = ()
    defines: frozenset[str] = frozenset()

    def to_job(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind,
                                "module_name": self.module_name}
        if self.kind == "module":
            data["code"] = self.code
        else:
            data["cells"] = [list(c) for c in self.cells]
        return data


@dataclass(frozen=True)
class Submission:
    """Everything one student handed in."""

    id: str
    sources: tuple[Source, ...]
    search_path: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    def source_for(self, exercise_name: str, public_names: Iterable[str]) -> Source | None:
        """The file named after the exercise, else the first that defines its names."""
        for source in self.sources:
            if source.module_name == exercise_name:
                return source
        wanted = set(public_names)
        for source in self.sources:
            if source.defines & wanted:
                return source
        return None


def top_level_names(code: str) -> frozenset[str]:
    """Names a piece of code defines at top level (best effort; empty on a syntax error)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for node in tree.body:
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
    return frozenset(names)


def strip_magics(code: str) -> str | None:
    """A notebook cell as Python: None for a `%%` cell magic, magic lines as `pass`."""
    if code.lstrip().startswith("%%"):
        return None
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines)


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_SOURCE_BYTES // 1024} KiB")
    return path.read_text(encoding="utf-8", errors="replace")


def read_notebook_cells(path: Path) -> tuple[tuple[int, str], ...]:
    """Code cells of a notebook, numbered from 1 among code cells, magics stripped."""
    import nbformat

    notebook = nbformat.reads(_read_text(path), as_version=4)
    cells = []
    number = 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        code = strip_magics(cell.get("source", ""))
        if code is not None:
            cells.append((number, code))
    return tuple(cells)


def load_file(path: Path) -> tuple[Source | None, str | None]:
    """Read one .py or .ipynb file; return (source, problem)."""
    try:
        if path.suffix == ".ipynb":
            cells = read_notebook_cells(path)
            defines: frozenset[str] = frozenset().union(*(top_level_names(c) for _, c in cells))
            return Source(str(path), "notebook", path.stem, cells=cells, defines=defines), None
        code = _read_text(path)
        return Source(str(path), "module", path.stem, code=code,
                      defines=top_level_names(code)), None
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the student's problem, reported
        return None, f"could not read {path.name}: {type(exc).__name__}: {exc}"


def load_paths(paths: Iterable[Path], id: str) -> Submission:
    sources: list[Source] = []
    problems: list[str] = []
    search: list[str] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.suffix in (".py", ".ipynb") and not p.name.startswith((".", "_")))
            # A .py file wins over a notebook of the same name (a notebook saved as a script).
            stems = {p.stem for p in files if p.suffix == ".py"}
            files = [p for p in files if p.suffix == ".py" or p.stem not in stems]
            search.append(str(path.resolve()))
        else:
            files = [path]
            search.append(str(path.resolve().parent))
        for file in files:
            source, problem = load_file(file)
            if source is not None:
                sources.append(source)
            if problem:
                problems.append(problem)
    return Submission(id=id, sources=tuple(sources), search_path=tuple(dict.fromkeys(search)),
                      problems=tuple(problems))


@hookimpl(trylast=True)
def grader_load_submission(paths: list[Path], id: str) -> Submission:
    """Builtin loader: .py files, notebooks, and directories of them."""
    return load_paths(paths, id)
