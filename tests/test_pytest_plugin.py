"""The pytest plugin (entry point `pytest11`: torchkit): `pytest --grader PATH`."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import EXERCISES, SOLUTIONS
from grader.plugins import collect_exercises, plugin_manager

pytest_plugins = ["pytester"]

COURSE = {e.name: e for e in collect_exercises(plugin_manager())}
E01, E04 = "e01_numpy_grads", "e04_my_relu"


def checks(name):
    return [c.name for c in COURSE[name].checks]


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_each_check_is_a_test_with_the_feedback_as_its_message(pytester):
    submission = pytester.mkdir("work")
    shutil.copy(SOLUTIONS / f"{E01}.py", submission)     # complete
    shutil.copy(EXERCISES / f"{E04}.py", submission)     # still the stub
    result = run(pytester, "--grader", str(submission), "-k", f"{E01} or {E04}", "-rf",
                 "--junitxml", "out.xml")
    result.assert_outcomes(passed=len(checks(E01)), failed=len(checks(E04)))
    text = result.stdout.str()
    assert f"grader::{E04}::{checks(E04)[0]}" in text
    assert "Not implemented yet" in text and "NotImplementedError" in text
    assert "Traceback" not in text                       # feedback, not the plugin's stack
    cases = ET.parse(pytester.path / "out.xml").getroot().iter("testcase")
    assert sorted(c.get("name") for c in cases) == sorted(checks(E01) + checks(E04))


def test_collect_only_lists_every_check_without_grading(pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = run(pytester, "--grader", str(EXERCISES), "--collect-only", "-q")
    total = sum(len(e.checks) for e in COURSE.values())
    assert f"{total} tests collected" in result.stdout.str()   # not test_plain.py
    assert f"grader::{E01}::{checks(E01)[0]}" in result.stdout.str()
    assert result.ret == 0
    both = run(pytester, "--grader", str(EXERCISES), "test_plain.py", "--collect-only", "-q")
    assert f"{total + 1} tests collected" in both.stdout.str()  # test paths named: both


def test_without_grader_the_plugin_does_nothing(pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1)
    assert "grader::" not in result.stdout.str()
    helped = run(pytester, "--help")                     # loaded through its entry point
    assert "--grader=PATH" in helped.stdout.str()


def test_missing_path_is_a_usage_error(pytester):
    result = run(pytester, "--grader", "no/such/dir")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no such file or directory" in result.stderr.str()


def test_feedback_in_korean_with_grader_lang_or_the_environment(pytester, monkeypatch):
    submission = pytester.mkdir("work")
    shutil.copy(EXERCISES / f"{E04}.py", submission)     # the stub: every check fails
    korean = run(pytester, "--grader", str(submission), "-k", E04, "--grader-lang", "ko")
    assert "아직 구현되지 않았습니다" in korean.stdout.str()
    monkeypatch.setenv("GRADER_LANG", "ko")
    from_env = run(pytester, "--grader", str(submission), "-k", E04)
    assert "아직 구현되지 않았습니다" in from_env.stdout.str()
    wrong = run(pytester, "--grader", str(submission), "--grader-lang", "fr")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    assert "--grader-lang" in wrong.stderr.str()
