"""The spawn backend (issue 15): the same verdicts as the fork backend, on any system.

The heart of it grades one small mixed batch (a correct e01, a buggy one, and the
hostile cases of tests/test_hostile.py that make sense on every system) under both
backends, in one test, and compares the JSON reports: they must be identical but for
the sandbox object. The rest: full marks for the kit's solutions from the command line,
a notebook, the choice of backend, what a spawned worker holds in memory.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT, SOLUTIONS, TEST_TIMEOUT, run_cli
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.options import choose_backend
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits
from test_hostile import CASES, ODD, PIDS_ISOLATED, VICTIM, WRONG, Case, _submission

LINUX = sys.platform.startswith("linux")
OPTIONS = Options(jobs=2, limits=Limits(timeout=TEST_TIMEOUT), timeout_given=True,
                  notebook_timeout=TEST_TIMEOUT, only=(VICTIM,))

#: Hostile cases left out of the comparison, and why: what differs between the backends.
DIFFERS: dict[str, str] = {}
if not PIDS_ISOLATED:
    DIFFERS["kills_its_zygote"] = (
        "a spawned worker's parent is the grader itself: without Landlock's signal scope "
        "(ABI 6) nothing refuses the signal, and the grader dies (the fork backend loses "
        "only a zygote, and says so)")


#: Odd cases whose error message depends on how deep the stack already was when the
#: submission ran (a RecursionError's "in comparison" or not): a forked worker's stack
#: holds the frames of whatever made the Grader (pytest's, here). Their scores and
#: statuses are compared, not their texts.
DEPTH_DEPENDENT = ("returns_self_containing_list", "deeply_nested", "deep_not")


def _batch(root: Path) -> list:
    """The mixed batch: a correct e01, a buggy one, and the hostile cases (links to the
    solutions included) that need no defence only Linux has."""
    cases = {"correct": Case(lambda: (SOLUTIONS / f"{VICTIM}.py").read_text(), "passed"),
             "buggy": Case(lambda: WRONG, "failed")}
    cases.update((name, replace(case, others=False)) for name, case in CASES.items()
                 if name not in DIFFERS and (case.link != "hardlink" or _can_hardlink(root)))
    cases.update((name, Case(source, "", others=False)) for name, source in ODD.items())
    return [load_paths([_submission(root / name, case)], name) for name, case in cases.items()]


def _can_hardlink(root: Path) -> bool:
    """Whether a hard link to the solutions can be made here (not across file systems)."""
    probe = root / "link-probe"
    root.mkdir(parents=True, exist_ok=True)
    try:
        os.link(SOLUTIONS / f"{VICTIM}.py", probe)
        probe.unlink()
        return True
    except OSError:
        return False


def _reports(backend: str, submissions: list) -> dict[str, dict]:
    """Each submission's JSON report, graded under `backend`, without the sandbox object.

    With faulthandler off, as a student's grader has it: pytest turns it on, and a
    crash's traceback lists the worker's own frames, which are the backend's."""
    exercises = collect_exercises(plugin_manager())
    was_on = faulthandler.is_enabled()
    faulthandler.disable()
    try:
        with Grader(exercises, replace(OPTIONS, backend=backend)) as grader:
            reports = list(grader.grade_many(submissions))
    finally:
        if was_on:
            faulthandler.enable()
    found = {}
    for report in reports:
        data = json.loads(json.dumps(report.to_json()))   # as the JSON report has it
        assert data.pop("sandbox")["backend"] == backend
        found[report.id] = data
    return found


@pytest.mark.skipif(not LINUX, reason="the fork backend needs Linux")
def test_the_same_batch_gets_the_same_reports_under_both_backends(tmp_path):
    submissions = _batch(tmp_path / "batch")
    fork, spawn = _reports("fork", submissions), _reports("spawn", submissions)
    assert sorted(fork) == sorted(spawn)
    for name in DEPTH_DEPENDENT:
        fork[name], spawn[name] = _scores(fork[name]), _scores(spawn[name])
    different = {name: (fork[name], spawn[name]) for name in fork if fork[name] != spawn[name]}
    assert not different, json.dumps(different, indent=1)[:6000]
    assert fork["correct"]["score"] == fork["correct"]["max_score"] > 0
    assert 0 < fork["buggy"]["max_score"] and fork["buggy"]["score"] < fork["buggy"]["max_score"]


def _scores(report: dict) -> list:
    return [report["score"], [(c["name"], c["status"], c["score"])
                              for e in report["exercises"] for c in e["checks"]]]


def test_the_solutions_get_full_marks_under_spawn():
    done = run_cli("solutions", "--backend", "spawn", "--format", "json", timeout=600)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    report = json.loads(done.stdout)
    assert report["score"] == report["max_score"] > 0
    assert report["sandbox"]["backend"] == "spawn"


def test_a_notebook_gets_the_same_report_under_both_backends(tmp_path):
    notebook = tmp_path / "course.ipynb"
    done = run_cli("notebook", "--from", "solutions", "--out", str(notebook))
    assert done.returncode == 0, done.stderr
    text = json.loads(notebook.read_text())
    for cell in text["cells"]:   # e01 prints, and computes a wrong loss
        source = "".join(cell["source"])
        if "def numpy_two_layer_grads" in source:
            cell["source"] = "print('top-level output')\n" + WRONG
    notebook.write_text(json.dumps(text))
    args = (str(notebook), "--only", VICTIM, "--only", "e00_tensor_basics", "--format", "json",
            "--timeout", str(TEST_TIMEOUT))
    reports = {}
    for backend in ("fork", "spawn") if LINUX else ("spawn",):
        done = run_cli(*args, "--backend", backend, timeout=600)
        assert done.returncode == 1, done.stderr[-2000:]
        reports[backend] = json.loads(done.stdout)
        assert reports[backend].pop("sandbox")["backend"] == backend
    spawn = reports["spawn"]
    e00, e01 = (next(e for e in spawn["exercises"] if e["name"] == name)
                for name in ("e00_tensor_basics", VICTIM))
    assert e00["score"] == e00["max_score"] > 0 and e01["score"] < e01["max_score"]
    assert "top-level output" in e01.get("output", ""), e01
    if LINUX:
        assert reports["fork"] == spawn


def test_a_spawned_student_worker_holds_no_judge_and_no_mutant(tmp_path):
    probe = textwrap.dedent("""
        import sys
        print("CHECK MODULES:", sorted(m for m in sys.modules if m.startswith("grader.checks")))
        """) + (SOLUTIONS / f"{VICTIM}.py").read_text()
    (tmp_path / f"{VICTIM}.py").write_text(probe)
    done = run_cli(str(tmp_path), "--only", VICTIM, "--backend", "spawn", "--format", "json",
                   timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    output = json.loads(done.stdout)["exercises"][0]["output"]
    line = next(line for line in output.splitlines() if line.startswith("CHECK MODULES:"))
    modules = eval(line.partition(":")[2])   # a list of names, printed by the test's code
    assert f"grader.checks.{VICTIM}.probes" in modules, modules
    assert not [m for m in modules if m.rpartition(".")[2] in ("judges", "mutants",
                                                               "detectors")], modules


def test_the_backend_is_chosen_by_flag_then_environment_then_system(monkeypatch):
    monkeypatch.delenv("GRADER_BACKEND", raising=False)
    assert choose_backend() == ("fork" if LINUX else "spawn")
    monkeypatch.setenv("GRADER_BACKEND", "spawn")
    assert choose_backend() == "spawn"
    assert choose_backend("fork" if LINUX else "spawn") == ("fork" if LINUX else "spawn")
    monkeypatch.setenv("GRADER_BACKEND", "vfork")
    with pytest.raises(ValueError, match="GRADER_BACKEND=vfork"):
        choose_backend()
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ValueError, match="needs Linux"):
        choose_backend("fork")


def test_a_wrong_backend_is_a_usage_error():
    done = run_cli("solutions", env={"GRADER_BACKEND": "threads"})
    assert done.returncode == 2 and "GRADER_BACKEND=threads" in done.stderr, done.stderr
    assert done.stdout == ""


assert ROOT.is_dir()


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for Python")
def test_workers_that_never_start_end_every_job_saying_why(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no torch on this machine' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))   # what the pool starts
    exercises = collect_exercises(plugin_manager())
    submission = load_paths([SOLUTIONS / f"{VICTIM}.py"], "solution")
    with Grader(exercises, replace(OPTIONS, backend="spawn")) as grader:
        report = grader.grade(submission)
    victim = next(e for e in report.exercises if e.name == VICTIM)
    assert victim.score == 0 and {c.status for c in victim.checks} == {"error"}
    assert "no torch on this machine" in capsys.readouterr().err
