"""An exercise's worker code, named (grader) and imported by those names (spawned worker).

The fork backend's workers start with every exercise's code in memory and strip what a
student's probes do not reach (`grader.strip`). A spawned worker starts empty, so it
imports only what its job needs: the probes of its exercise, and the mutants for a
reference job only. The kit's check packages (`grader.checks.*`) are imported bare:
their `__init__` (which imports the judges) never runs, only the modules the probes
import. `grader.strip` then still empties whatever of those the probes do not reach.

The spec is plain JSON: module names, and functions by module and qualified name.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from importlib import import_module
from typing import Any, Callable

from grader.exercise import Check, Exercise, Misconception

CHECKS_PACKAGE = "grader.checks"


def _where(function: Callable) -> list[str]:
    return [function.__module__, function.__qualname__]


def spec_of(exercise: Exercise) -> dict[str, Any]:
    """What a worker needs to rebuild `exercise`'s worker side (grader side: no import)."""
    return {
        "name": exercise.name, "names": list(exercise.names),
        "probe_module": exercise.probe_module, "mutant_module": exercise.mutant_module,
        "inline_probes": {name: _where(probe) for name, probe in exercise.probes.items()},
        "checks": [[check.name, check.probe] for check in exercise.checks],
        "misconceptions": [{"key": m.key, "checks": list(m.checks),
                            "mutant": m.mutant if m.mutant is None or isinstance(m.mutant, str)
                            else _where(m.mutant)}
                           for m in exercise.misconceptions],
    }


def _resolve(where: list[str]) -> Callable:
    module, qualname = where
    found: Any = import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _judged_by_the_grader(context: Any) -> Any:
    raise RuntimeError("checks are judged in the grader, not in a worker")


def load_exercise(spec: dict[str, Any], role: str) -> Exercise:
    """The worker side of the exercise `spec` names: its probes (in their module's order),
    and for a reference job its mutants (the misconceptions' buggy variants)."""
    reference = role == "reference"
    exercise = Exercise(name=spec["name"], names=tuple(spec["names"]), make_inputs=None,
                        probe_module=spec["probe_module"],
                        mutant_module=spec["mutant_module"] if reference else None)
    exercise.checks = [Check(name, 0.0, probe, _judged_by_the_grader)
                       for name, probe in spec["checks"]]
    with _bare_check_packages():
        for name, where in spec["inline_probes"].items():
            exercise.probes[name] = _resolve(where)
        if reference:
            exercise.misconceptions = [
                Misconception(m["key"], tuple(m["checks"]),
                              _resolve(m["mutant"]) if isinstance(m["mutant"], list)
                              else m["mutant"])
                for m in spec["misconceptions"]]
        exercise.load_worker_code()
    return exercise


class _BareLoader(importlib.abc.Loader):
    """A package whose `__init__` is not run: only a folder to import modules from."""

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        pass


class _BareCheckPackages(importlib.abc.MetaPathFinder):
    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != CHECKS_PACKAGE and not fullname.startswith(CHECKS_PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return None   # a module: imported as it is
        spec.loader = _BareLoader()
        return spec


class _bare_check_packages:
    """While it lasts, the kit's check packages import bare (their modules do not)."""

    def __enter__(self) -> None:
        sys.meta_path.insert(0, _BareCheckPackages)

    def __exit__(self, *exc: object) -> None:
        sys.meta_path.remove(_BareCheckPackages)
