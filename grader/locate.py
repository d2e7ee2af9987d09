"""Where a student's work is: the folder to grade, and what a single file holds.

`python -m grader .` from a checkout of the kit, or a zip whose files sit in a top
folder, should still find the work: when the folder given holds no exercise file of
its own, the one folder one or two levels down that does is graded (and the report
says which). Nothing gradable at all, or several candidates, is a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from grader.exercise import Exercise
from grader.loaders import MAX_SOURCE_BYTES, read_notebook_cells, top_level_names

SUFFIXES = (".py", ".ipynb")
#: Folders never searched for work: archives' and tools' own, and installed packages.
SKIPPED = {"__MACOSX", "__pycache__", "site-packages", "dist-packages", "node_modules",
           "venv", "env"}


class NotFound(ValueError):
    """Nothing to grade where the student pointed, said in one line."""


def defined_names(path: Path) -> frozenset[str]:
    """The top-level names a .py file or a notebook defines (nothing when unreadable)."""
    try:
        if path.suffix == ".ipynb":
            cells = read_notebook_cells(path)
            return frozenset().union(*(top_level_names(code) for _, code in cells))
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return frozenset()
        return top_level_names(path.read_text(encoding="utf-8", errors="replace"))
    except Exception:  # noqa: BLE001 - an unreadable file holds no exercise here
        return frozenset()


def exercises_in_file(path: Path, exercises: Sequence[Exercise]) -> list[Exercise]:
    """The exercises a single file holds: the one it is named after, and every one whose
    public names it defines (a whole-course notebook holds them all)."""
    names = defined_names(path)
    return [e for e in exercises if path.stem == e.name or names & set(e.names)]


def _holds_work(folder: Path, exercises: Sequence[Exercise]) -> bool:
    try:
        files = [p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.is_dir()
                 and not p.name.startswith((".", "_"))]
    except OSError:
        return False
    stems = {e.name for e in exercises}
    if any(p.stem in stems for p in files):  # whatever it is: the loader says what is wrong
        return True
    # Only regular files are read for what they define (a FIFO would block).
    return any(exercises_in_file(p, exercises) for p in files if p.is_file())


def _searched(folder: Path) -> list[Path]:
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p for p in children if not p.name.startswith(".") and p.name not in SKIPPED
            and not (p / "pyvenv.cfg").exists()]


def locate(path: Path, exercises: Sequence[Exercise]) -> tuple[Path, str]:
    """The folder (or file) to grade for `path`, and a note when it is not `path` itself.

    Raises NotFound when nothing gradable is there, or when several folders are."""
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise NotFound(f"{path}: not a .py file or a notebook (.ipynb)")
        return path, ""
    if _holds_work(path, exercises):
        return path, ""
    level = [path]
    for _depth in (1, 2):
        level = [child for folder in level for child in _searched(folder)]
        found = [folder for folder in level if _holds_work(folder, exercises)]
        if len(found) == 1:
            return found[0], f"graded {found[0]} (the folder given holds no exercise file)"
        if found:
            raise NotFound(f"several folders in {path} hold exercise files: "
                           + ", ".join(str(f) for f in found) + "; give the one to grade")
    raise NotFound(f"no exercise files in {path}: looked for {_expected(exercises)}, "
                   "or notebooks defining them")


def _expected(exercises: Iterable[Exercise]) -> str:
    names = [f"{e.name}.py" for e in exercises]
    return " … ".join(names[:1] + names[-1:]) if len(names) > 2 else ", ".join(names)
