"""Builtin loader: paths (.py, .ipynb, directories) -> a `Submission`.

The grader only reads files here; nothing of the submission runs in this process.
"""

from __future__ import annotations

import json
import re
import stat
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Container, Iterable

from grader import hookimpl
from grader.code_facts import top_level_names  # also for the callers of loaders

MAX_SOURCE_BYTES = 2 * 1024 * 1024
#: A notebook may be large because of its outputs (plots); only its code counts against
#: MAX_SOURCE_BYTES.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One file of a submission: a module (`code`) or a notebook (`cells`)."""

    path: str
    kind: str                                   # "module" or "notebook"
    module_name: str
    code: str = ""
    cells: tuple[tuple[int, str], ...] = ()
    defines: frozenset[str] = frozenset()
    #: Where the file really is, when it is a link out of the submission's folder (the
    #: grader decides what that means: a reference file, or a file not to be read).
    link: str = ""

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

    def source_for(self, exercise_name: str, public_names: Iterable[str],
                   stubs: Container[str] = ()) -> Source | None:
        """The file named after the exercise, else the one that defines most of its names.

        A renamed or copied file ("Copy of course.ipynb", "e01_numpy_grads (1).py") is
        found by what it defines; among several, the one defining more of the exercise's
        names wins, then the first in path order. A file named after the exercise that is
        still the untouched stub (its text is in `stubs`) gives way to another file that
        defines the names (the stubs handed in beside a finished notebook).
        """
        named = next((s for s in self.sources if s.module_name == exercise_name), None)
        if named is not None and named.code not in stubs:
            return named
        wanted = set(public_names)
        best: Source | None = None
        best_count = 0
        for source in self.sources:
            count = len(source.defines & wanted)
            if source is not named and count > best_count:
                best, best_count = source, count
        return best or named


_HELP = re.compile(r"^\s*(?:\?\??[\w.]+|[\w.]+\?\??)\s*$")        # `np.dot?`, `??torch.mm`
_MAGIC_ASSIGN = re.compile(r"^\s*[\w.]+\s*=\s*[%!]")                  # `files = !ls`


def _is_magic(line: str) -> bool:
    stripped = line.lstrip()
    return (stripped.startswith(("%", "!")) and not stripped.startswith("!=")) \
        or bool(_HELP.match(line)) or bool(_MAGIC_ASSIGN.match(line))


def _scan(line: str, state: dict) -> None:
    """Advance the lexical state over one line: open triple-quoted string, bracket depth,
    backslash continuation. Good enough to tell where a logical line starts."""
    i, n = 0, len(line)
    state["continued"] = False
    while i < n:
        quote = state["triple"]
        if quote:
            if line[i] == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                state["triple"] = ""
                i += 3
                continue
            i += 1
            continue
        char = line[i]
        if char == "#":
            return
        if char in "\"'":
            if line.startswith(char * 3, i):
                state["triple"] = char * 3
                i += 3
                continue
            i += 1
            while i < n and line[i] != char:
                i += 2 if line[i] == "\\" else 1
            i += 1
            continue
        if char in "([{":
            state["depth"] += 1
        elif char in ")]}":
            state["depth"] = max(0, state["depth"] - 1)
        elif char == "\\" and i == n - 1:
            state["continued"] = True
        i += 1


def strip_magics(code: str) -> str | None:
    """A notebook cell as Python: None for a `%%` cell magic, IPython-only lines as `pass`.

    Only lines where a statement starts are looked at (not lines inside a multi-line
    string or a bracket), so a docstring line that starts with `%` is kept. Line magics
    and shell lines (`%…`, `!…`, `x = !…`) and help lines (`obj?`) become `pass`
    (their backslash continuations blank lines), so line numbers stay the same.
    """
    if code.lstrip().startswith("%%"):
        return None
    lines = []
    state = {"triple": "", "depth": 0, "continued": False}
    in_magic = False
    for line in code.splitlines():
        if in_magic:
            in_magic = line.rstrip().endswith("\\")
            lines.append("")
            continue
        at_start = not state["triple"] and not state["depth"] and not state["continued"]
        if at_start and _is_magic(line):
            stripped = line.lstrip()
            lines.append(line[: len(line) - len(stripped)] + "pass")
            in_magic = line.rstrip().endswith("\\")
            continue
        _scan(line, state)
        lines.append(line)
    return "\n".join(lines)


def _read_text(path: Path, limit: int = MAX_SOURCE_BYTES) -> str:
    # Regular files only, and never more than the limit: a FIFO would block the grader,
    # a link to /dev/zero would never end.
    if not stat.S_ISREG(path.stat().st_mode):
        raise ValueError(f"{path.name} is not a regular file")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit // 1024} KiB")
    # utf-8-sig: files saved by some Windows editors start with a byte-order mark.
    return data.decode("utf-8-sig", errors="replace")


def _joined(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return ""


def _notebook_cells(text: str) -> list[dict[str, Any]]:
    """The raw cells of a notebook (nbformat 4 read as plain JSON, older ones converted).

    Only the cells matter to the grader, so a notebook without metadata, with odd
    outputs or without cell ids (hand-written, exported by another tool, saved by
    Colab) is read as it is rather than rejected by validation.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a Jupyter notebook (no JSON object at top level)")
    if isinstance(data.get("cells"), list):
        return [c for c in data["cells"] if isinstance(c, dict)]
    if "worksheets" in data:   # nbformat 3 and older: let nbformat convert it
        import nbformat

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
        return [dict(c) for c in notebook.cells]
    raise ValueError("not a Jupyter notebook (no cells)")


def read_notebook_cells(path: Path) -> tuple[tuple[int, str], ...]:
    """Code cells of a notebook, numbered from 1 among code cells, magics stripped."""
    cells = []
    number = 0
    size = 0
    for cell in _notebook_cells(_read_text(path, MAX_NOTEBOOK_BYTES)):
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = _joined(cell.get("source", ""))
        size += len(source)
        if size > MAX_SOURCE_BYTES:
            raise ValueError(f"{path.name} holds more than {MAX_SOURCE_BYTES // 1024} KiB of code")
        code = strip_magics(source)
        if code is not None:
            cells.append((number, code))
    return tuple(cells)


def load_file(path: Path, room: int = MAX_SOURCE_BYTES) -> tuple[Source | None, str | None]:
    """Read one .py or .ipynb file (at most `room` characters of code); return (source,
    problem)."""
    try:
        if path.suffix == ".ipynb":
            cells = read_notebook_cells(path)
            _fits(path, sum(len(code) for _, code in cells), room)
            defines: frozenset[str] = frozenset().union(*(top_level_names(c) for _, c in cells))
            return Source(str(path), "notebook", path.stem, cells=cells, defines=defines), None
        code = _read_text(path)
        _fits(path, len(code), room)
        return Source(str(path), "module", path.stem, code=code,
                      defines=top_level_names(code)), None
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the student's problem, reported
        return None, f"could not read {path.name}: {type(exc).__name__}: {exc}"


def _fits(path: Path, size: int, room: int) -> None:
    if size > room:
        raise ValueError(f"{path.name} does not fit: a submission holds at most "
                         f"{MAX_SOURCE_BYTES // 1024} KiB of code in all its files")


def _is_ipython_export(path: Path) -> bool:
    """Whether a .py file is a notebook exported by Jupyter (`get_ipython().run_line_magic`)."""
    try:
        return "get_ipython()" in _read_text(path)
    except (OSError, ValueError):
        return False


def load_paths(paths: Iterable[Path], id: str) -> Submission:
    sources: list[Source] = []
    problems: list[str] = []
    search: list[str] = []
    # Parsing is the grader's own time (seconds a dense megabyte), not a worker's: ten
    # files of 2 MB cost minutes. All of a submission's code fits in what one file may hold.
    room = MAX_SOURCE_BYTES
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.suffix in (".py", ".ipynb") and not p.name.startswith((".", "_")))
            # A .py file wins over a notebook of the same name (a notebook saved as a
            # script), unless it is Jupyter's export, which only runs inside IPython.
            notebooks = {p.stem for p in files if p.suffix == ".ipynb"}
            exports = {p.stem for p in files if p.suffix == ".py" and p.stem in notebooks
                       and _is_ipython_export(p)}
            stems = {p.stem for p in files if p.suffix == ".py"} - exports
            files = [p for p in files if (p.suffix == ".py" and p.stem not in exports)
                     or (p.suffix == ".ipynb" and p.stem not in stems)]
            search.append(str(path.resolve()))
        else:
            files = [path]
            search.append(str(path.resolve().parent))
        # A path that is itself a link (a batch entry pointing elsewhere): its files are
        # all outside the folder it stands in.
        root = path.resolve() if path.is_dir() and not path.is_symlink() \
            else path.absolute().parent.resolve()
        for file in files:
            source, problem = load_file(file, room)
            real = file.resolve()
            if source is not None and root not in real.parents:
                source = replace(source, link=str(real))
            if source is not None:
                sources.append(source)
                room -= len(source.code) + sum(len(code) for _, code in source.cells)
            if problem:
                problems.append(problem)
    return Submission(id=id, sources=tuple(sources), search_path=tuple(dict.fromkeys(search)),
                      problems=tuple(problems))


@hookimpl(trylast=True)
def grader_load_submission(paths: list[Path], id: str) -> Submission:
    """Builtin loader: .py files, notebooks, and directories of them."""
    return load_paths(paths, id)
