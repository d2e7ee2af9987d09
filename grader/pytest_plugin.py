"""A pytest plugin: `pytest --grader exercises/` runs the grader's checks as tests.

Each check of each exercise is one test item (`grader::e01_numpy_grads::loss`),
so an IDE's test panel, `-k`, `-x`, `-v` and JUnit output (`--junitxml`) all
work. The submission is graded once, on the first item that runs (only the
exercises whose items were selected); each item then passes, fails with the
grader's feedback as its message, or is skipped (a GPU check without a GPU).

Without `--grader` this plugin does nothing. With it, and no test paths on the
command line, pytest's own collection (testpaths, the current directory) is
left out, so that only the grader's checks run; name test paths explicitly to
run them as well. Installed through the `pytest11` entry point as "torchkit":
`-p no:torchkit` turns it off.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT_NAME = "grader"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("torchkit", "torchkit grader")
    group.addoption("--grader", action="append", default=[], metavar="PATH",
                    help="grade PATH (exercise files, a directory or a notebook) and report "
                         "each check as a test; repeat for a submission of several paths")
    group.addoption("--grader-seed", type=int, default=None, metavar="N",
                    help="seed of the grading data (default: the grader's)")
    group.addoption("--grader-timeout", type=float, default=None, metavar="SECONDS",
                    help="seconds per exercise (default: each exercise's own)")
    group.addoption("--grader-lang", default=None, metavar="LANG",
                    help="language of the feedback: en or ko (default: $GRADER_LANG, else en)")


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("grader", default=None))


def _explicit_args(config: pytest.Config) -> bool:
    """Whether test paths were named on the command line (not taken from testpaths/cwd)."""
    kinds = getattr(pytest.Config, "ArgsSource", None)
    if kinds is None:                                     # pytest < 7.2
        return bool(config.invocation_params.args and config.args)
    return getattr(config, "args_source", None) == kinds.ARGS


def pytest_configure(config: pytest.Config) -> None:
    if not _active(config):
        return
    from grader.i18n import languages

    lang = config.getoption("grader_lang")
    if lang is not None and lang not in languages():
        raise pytest.UsageError(f"--grader-lang: one of {', '.join(languages())}, not {lang!r}")
    missing = [p for p in config.getoption("grader") if not Path(p).exists()]
    if missing:
        raise pytest.UsageError(f"--grader: no such file or directory: {', '.join(missing)}")
    config.addinivalue_line("markers", "grader: a check of the torchkit grader (--grader)")
    config.stash[_STATE] = _State(config)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With --grader and no explicit test paths, collect nothing but the grader's checks."""
    if _active(config) and not _explicit_args(config):
        return True
    return None


@pytest.hookimpl(tryfirst=True)   # before -k / -m deselect, so they apply to our items too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    state = config.stash[_STATE]
    root = GraderRoot.from_parent(session, name=ROOT_NAME, nodeid=ROOT_NAME)
    ours: list[pytest.Item] = []
    for exercise in state.exercises:
        collector = ExerciseCollector.from_parent(root, name=exercise.name, exercise=exercise)
        ours.extend(collector.collect())
    # Tell the reporters (the "collected N items" count, --collect-only) about them.
    session.ihook.pytest_collectreport(
        report=pytest.CollectReport(ROOT_NAME, "passed", None, ours))
    items[:0] = ours


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


class _State:
    """The plugin's state for one session: the exercises, and the report once graded."""

    def __init__(self, config: pytest.Config):
        from grader.plugins import collect_exercises, plugin_manager

        self.config = config
        self.paths = [Path(p) for p in config.getoption("grader")]
        self.pm = plugin_manager()
        self.exercises = collect_exercises(self.pm)
        self.results: dict[str, Any] | None = None
        self.notes: tuple[str, ...] = ()

    def result(self, session: pytest.Session, exercise: str) -> Any:
        if self.results is None:
            self._grade(session)
        assert self.results is not None
        return self.results.get(exercise)

    def _grade(self, session: pytest.Session) -> None:
        from grader.grading import DEFAULT_SEED, Grader, Options
        from grader.sandbox import Limits

        selected = {item.exercise.name for item in session.items if isinstance(item, CheckItem)}
        seed = self.config.getoption("grader_seed")
        timeout = self.config.getoption("grader_timeout")
        lang = self.config.getoption("grader_lang") or os.environ.get("GRADER_LANG") or "en"
        options = Options(seed=DEFAULT_SEED if seed is None else seed, lang=lang,
                          only=tuple(sorted(selected)),
                          limits=Limits(timeout=timeout or Limits.timeout),
                          timeout_given=timeout is not None)
        submission = self.pm.hook.grader_load_submission(paths=self.paths, id="submission")
        with Grader(self.exercises, options) as grader:
            report = grader.grade(submission)
        self.results = {e.name: e for e in report.exercises}
        self.notes = report.notes

    def close(self) -> None:
        self.results = None


_STATE = pytest.StashKey[_State]()


class GraderFailure(Exception):
    """A check that did not pass; its message is the grader's feedback."""


class GraderRoot(pytest.Collector):
    def collect(self) -> list[pytest.Item]:   # pragma: no cover - populated directly
        return []


class ExerciseCollector(pytest.Collector):
    def __init__(self, *, exercise: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.exercise = exercise

    def collect(self) -> list[pytest.Item]:
        return [CheckItem.from_parent(self, name=check.name, exercise=self.exercise,
                                      check_name=check.name)
                for check in self.exercise.checks]


class CheckItem(pytest.Item):
    """One check of one exercise."""

    def __init__(self, *, exercise: Any, check_name: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.exercise = exercise
        self.check_name = check_name
        self.add_marker(pytest.mark.grader)

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        result = state.result(self.session, self.exercise.name)
        if result is None:
            raise GraderFailure(f"{self.exercise.name} was not graded")
        check = next((c for c in result.checks if c.name == self.check_name), None)
        if check is None:
            raise GraderFailure(f"{self.exercise.name}: no result for check {self.check_name}")
        if result.output:
            self.add_report_section("call", "output of your code", result.output)
        if check.status == "passed":
            return
        if check.status == "skipped":
            pytest.skip(check.feedback or "skipped")
        lines = [check.feedback or check.status,
                 f"({check.status}: {check.score:g}/{check.max_score:g} points)"]
        if result.summary and result.summary.strip() != check.feedback.strip():
            lines.append(result.summary)
        if result.hint:   # "Hint 1/3: ..." names its level itself
            from grader.hints import names_its_level
            lines.append(result.hint if names_its_level(result.hint) else f"hint: {result.hint}")
        lines.extend(f"! {note}" for note in state.notes)
        raise GraderFailure("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, GraderFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return (self._source_path(), None, f"{self.exercise.name}::{self.check_name}")

    def _source_path(self) -> Path:
        state = self.config.stash[_STATE]
        for path in state.paths:
            candidate = path / f"{self.exercise.name}.py" if path.is_dir() else path
            if candidate.exists():
                return candidate
        return state.paths[0]
