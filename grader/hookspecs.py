"""Every hook of the grader, in one place. Plugins implement them with `grader.hookimpl`.

Builtin plugins are registered first and the entry-point group "grader" after,
so a third-party plugin is called first (pluggy calls the last registered
first) and can take over any `firstresult` hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import pluggy

if TYPE_CHECKING:
    from grader.exercise import Exercise
    from grader.loaders import Submission
    from grader.reporters import Reporter

hookspec = pluggy.HookspecMarker("grader")


@hookspec
def grader_exercises() -> Sequence[Exercise]:
    """Return the exercises this plugin adds to the course (an exercise pack)."""


@hookspec(firstresult=True)
def grader_load_submission(paths: list[Path], id: str) -> Submission | None:
    """Read the given paths into a `Submission`; return None to let another loader try."""


@hookspec
def grader_reporters() -> Mapping[str, Reporter]:
    """Return reporters by `--format` name; a later plugin's reporter replaces a builtin one."""
