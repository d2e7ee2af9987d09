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
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
TEST_TIMEOUT = 5.0  # per exercise; hostile tests rely on it to stay fast

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
