"""Copying the reference: what counts as reference code, and how a submission reaches it.

The grader's side of the guard (the worker has its own, `grader.worker_guard`): a
submitted file that is a reference file (a symbolic or hard link), an import of a
reference module visible in the source, a link out of the submission's folder, and the
paths no student worker may read at all (`hidden_paths`, enforced by Landlock).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from grader.exercise import Exercise
from grader.code_facts import imported_modules
from grader.loaders import Source, Submission
from grader.refcache import cache_dir

KIT_ROOT = Path(__file__).resolve().parent.parent
#: Modules that hold reference code: the kit's solutions, and the grader's own reference
#: models and misconception mutants (a correct implementation is among them).
REFERENCE_MODULES = ("solutions", "grader.checks")


def reference_modules(exercises: Sequence[Exercise]) -> tuple[str, ...]:
    """REFERENCE_MODULES and the modules of every exercise pack's check code (a pack's
    reference solution may live in its package: `pack.solution.x01`)."""
    found = list(REFERENCE_MODULES)
    for exercise in exercises:
        for probe in exercise.probes.values():
            module = getattr(probe, "__module__", "") or ""
            if module and not any(module == r or module.startswith(r + ".") for r in found):
                found.append(module)
    return tuple(found)


def _is_reference_module(name: str, roots: Sequence[str] = REFERENCE_MODULES) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def _named(what: str, course: Sequence[str]) -> list[str]:
    kind, _, target = what.partition(" ")
    parts = [Path(target).name.split(".")[0]] if kind in ("open", "write", "child") \
        else target.split(".")
    return [part for part in parts if part in course]


def concerns(what: str, exercise: str, course: Sequence[str]) -> bool:
    """Whether using a reference file or module (a violation's "what") voids `exercise`:
    the reference of one exercise voids that one only; anything else voids them all."""
    named = _named(what, course)
    return not named or exercise in named


def names(what: str, exercise: str, course: Sequence[str]) -> bool:
    """Whether a violation read `exercise`'s own reference: wherever the submission
    reached for it (another exercise's worker may hand it on), it voids that exercise.
    A file opened for writing only gave nothing to hand on ("write PATH"); a child
    process named in its arguments may have read or written it ("child PATH"): those
    void only the exercise of the worker that did it (or all, where they name none)."""
    return what.startswith(("open ", "import ")) and exercise in _named(what, course)


def imports_reference(source: Source,
                      roots: Sequence[str] = REFERENCE_MODULES) -> list[str]:
    """The reference modules a submission imports (statically visible).

    The worker's audit hook refuses `solutions` at run time; the grader's own
    modules are already loaded there, so importing them raises no audit event.
    """
    codes = [source.code] if source.kind == "module" else [code for _, code in source.cells]
    found: list[str] = []
    for code in codes:
        # `import solutions` alone reads nothing (an empty package); its modules count
        found += [n for n in imported_modules(code)
                  if _is_reference_module(n, roots) and n != "solutions"]
    return found


def is_reference_file(path: str, references: Submission, solutions_dir: Path) -> bool:
    """Whether a submitted file is a reference file itself (a symbolic or hard link)."""
    for reference in references.sources:
        try:
            if os.path.samefile(path, reference.path):
                return True
        except OSError:
            continue
    return inside(path, solutions_dir)


def links_checked(submission: Submission,
                  is_reference: Callable[[str], bool]) -> Submission:
    """A file that is a link out of the submission's folder is read only to tell
    whether it is a reference file (then it is copying, as any reference file is);
    any other such file is dropped, so that nothing outside the submission (a file
    only the grader's user may read) ever reaches a worker or a report."""
    kept, problems = [], list(submission.problems)
    for source in submission.sources:
        if source.link and not is_reference(source.link):
            problems.append(f"{Path(source.path).name} is a link to a file outside the "
                            "submission's folder: not read")
            continue
        kept.append(source)
    if len(kept) == len(submission.sources):
        return submission
    return replace(submission, sources=tuple(kept), problems=tuple(problems))


def check_files(exercises: Sequence[Exercise]) -> list[Path]:
    """The files of every exercise's check code (packs' included)."""
    files = []
    for exercise in exercises:
        for probe in exercise.probes.values():
            module = sys.modules.get(getattr(probe, "__module__", ""))
            if getattr(module, "__file__", None):
                files.append(Path(module.__file__))
        for name in exercise.worker_modules():  # found, not imported: they stay in workers
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                files.append(Path(spec.origin))
    return files


def hidden_paths(exercises: Sequence[Exercise], solutions_dir: Path) -> tuple[str, ...]:
    """What no student worker may read: the references and the folders of the check code
    (its judges and mutants hold the answers)."""
    paths = {str(solutions_dir)}
    # The kit's own history and tests hold the references and correct variants too.
    paths.update(str(KIT_ROOT / name) for name in (".git", "tests")
                 if (KIT_ROOT / name).exists())
    paths.update(str(exercise.solution) for exercise in exercises if exercise.solution)
    paths.update(str(path.resolve().parent) for path in check_files(exercises))
    # Shared check code (two_layer/, modules/, training/) sits beside the exercises'
    # packages, and a pack's helpers beside its exercise: hide each exercise's whole
    # top-level package (for the kit's own exercises, all of grader/checks).
    paths.update(str(_package_folder(exercise)) for exercise in exercises)
    # The reference cache holds the reference's outputs for every probe: where it lies in
    # a readable folder (GRADER_CACHE_DIR in the submission's own folder, say a CI
    # workspace, or under /opt), a worker would read the answers and send them.
    paths.add(str(cache_dir().resolve()))
    return tuple(sorted(p for p in paths if p))


def _package_folder(exercise: Exercise) -> Path | str:
    """The folder of the package that declares `exercise`: grader/checks for the kit's
    own, the pack's top-level package for a pack."""
    module = sys.modules.get(getattr(exercise.make_inputs, "__module__", "") or "")
    name = getattr(module, "__name__", "")
    top = "grader.checks" if name.startswith("grader.checks.") else name.partition(".")[0]
    package = sys.modules.get(top)
    origin = getattr(package, "__file__", None)
    if not origin:
        return ""
    # a package: its folder; a single-module plugin: that file only (never its folder,
    # which is site-packages)
    return Path(origin).resolve().parent if hasattr(package, "__path__") else \
        Path(origin).resolve()


def inside(path: str | Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False
