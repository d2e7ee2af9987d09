"""Shared fixtures: one warm grader per test session, and helpers to grade files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.model import ExerciseResult, Report
from grader.options import default_backend
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
TEST_TIMEOUT = 5.0  # per exercise; hostile tests rely on it to stay fast

#: The sandbox's backend under test: GRADER_BACKEND, else the system's own (fork on Linux).
BACKEND = default_backend()

# A missing text, a missing translation or a placeholder that does not fit raises
# (in this process and in every grader the tests start) instead of falling back.
os.environ["GRADER_STRICT_TEXTS"] = "1"


@pytest.fixture(scope="session")
def grader():
    """A grader shared by the whole session (the reference is computed once)."""
    options = Options(jobs=2, limits=Limits(timeout=TEST_TIMEOUT), timeout_given=True,
                      notebook_timeout=TEST_TIMEOUT)
    with Grader(collect_exercises(plugin_manager()), options) as shared:
        yield shared


def solution_source(exercise: str) -> str:
    return (SOLUTIONS / f"{exercise}.py").read_text()


def changed(exercise: str, *pairs: str) -> str:
    """The reference of `exercise` with each (old, new) pair replaced (old must be there)."""
    text = solution_source(exercise)
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in text, old
        text = text.replace(old, new)
    return text


def failing(result) -> dict:
    """An exercise result's checks that neither passed nor were skipped, by name."""
    return {c.name: c for c in result.checks if c.status not in ("passed", "skipped")}


def assert_full_marks(result):
    assert result.full_marks and result.max_score > 0, \
        [(c.name, c.status, c.feedback) for c in failing(result).values()]


def write_submission(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text))
    return directory


@pytest.fixture
def grade(grader, tmp_path):
    """grade({"e04_my_relu.py": source, ...}) -> Report (files dedented, graded together)."""
    counter = iter(range(10**6))

    def run(files: dict[str, str]) -> Report:
        directory = write_submission(tmp_path / f"sub{next(counter)}", files)
        return grader.grade(load_paths([directory], directory.name))
    return run


def exercise_result(report: Report, name: str) -> ExerciseResult:
    return next(e for e in report.exercises if e.name == name)


def check_status(report: Report, exercise: str) -> dict[str, str]:
    return {c.name: c.status for c in exercise_result(report, exercise).checks}


def run_cli(*args: str, cwd: Path = ROOT, timeout: float = 120, env: dict | None = None):
    """Run `python -m grader ARGS` as a user would; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def pytest_collection_modifyitems(config, items):
    """Under the spawn backend, skip (saying why) what needs the fork backend's own
    machinery (`fork_only`), and a submission that signals its worker's parent where
    nothing refuses it (`signals_its_parent`: under spawn the parent is the grader)."""
    if BACKEND != "spawn":
        return
    scoped = None
    for item in items:
        marker = item.get_closest_marker("fork_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"spawn backend: {marker.args[0]}"))
        if item.get_closest_marker("signals_its_parent") is not None:
            if scoped is None:
                from grader.confine import available
                scoped = available()["pids"] == "isolated"
            if not scoped:
                item.add_marker(pytest.mark.skip(reason=SIGNALS_ITS_PARENT))


SIGNALS_ITS_PARENT = ("spawn backend: the submission signals its worker's parent, which is "
                      "the grader itself; without Landlock's signal scope (ABI 6) nothing "
                      "refuses it (the fork backend loses a zygote, and says so)")
