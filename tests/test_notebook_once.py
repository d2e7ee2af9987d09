"""A notebook's top-level code runs once per submission, under a time budget of its own;
a timeout says where the code was (function and line, or cell and line)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from conftest import BACKEND, EXERCISES, exercise_result, run_cli, solution_source
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.notebook import stub_files
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

COURSE = [p.stem for p in stub_files(EXERCISES)]
E01 = "e01_numpy_grads"
PER_EXERCISE = 2.0      # seconds: shorter than the demo below
DEMO_SECONDS = 4        # a training demo at top level, longer than any exercise may take
MARKER = "top-level code ran"


def write_notebook(path, cells):
    path.write_text(nbformat.writes(v4.new_notebook(cells=cells)))
    return path


@pytest.fixture(scope="module")
def short_grader():
    """Exercises get 2 s each; a notebook's top-level code gets plenty (30 s)."""
    options = Options(jobs=2, limits=Limits(timeout=PER_EXERCISE), timeout_given=True,
                      notebook_timeout=30.0)
    with Grader(collect_exercises(plugin_manager()), options) as grader:
        yield grader


def test_a_long_demo_in_a_whole_course_notebook_runs_once_and_costs_nothing(
        short_grader, tmp_path):
    cells = [v4.new_code_cell(f"import numpy as np\nprint({MARKER!r})")]
    cells += [v4.new_code_cell(solution_source(name)) for name in COURSE]
    cells.append(v4.new_code_cell(f"import time\ntime.sleep({DEMO_SECONDS})  # the demo\n"
                                  "print('demo done')"))
    notebook = write_notebook(tmp_path / "course.ipynb", cells)
    report = short_grader.grade(load_paths([notebook], "course"))
    assert [e.name for e in report.exercises] == COURSE
    assert report.full_marks, [(e.name, e.summary) for e in report.exercises
                               if not e.full_marks]
    assert not report.notes, report.notes
    # Ran once, and what it printed is shown once (not again under every exercise).
    printed = "".join(e.output for e in report.exercises)
    assert printed.count(MARKER) == 1 and printed.count("demo done") == 1, printed


def test_top_level_code_over_its_budget_is_stopped_naming_cell_and_line(tmp_path):
    notebook = write_notebook(tmp_path / "spin.ipynb", [
        v4.new_code_cell(solution_source(E01)),
        v4.new_markdown_cell("An experiment that never ends:"),
        v4.new_code_cell("def spin():\n    n = 0\n    while True:\n        n += 1\n\n\nspin()\n"),
    ])
    done = run_cli(str(notebook), "--format", "json", "--only", E01,
                   "--notebook-timeout", "2", "--timeout", "30")
    assert done.returncode == 1, done.stderr
    (e01,) = json.loads(done.stdout)["exercises"]
    assert {c["status"] for c in e01["checks"]} == {"timeout"}
    said = json.dumps(e01, ensure_ascii=False)
    assert "code cell 2 of spin.ipynb" in said and "--notebook-timeout" in said, said
    assert "spin.ipynb [cell 2]" in said and "`spin`" in said, said
    assert "line 3 " in said or "line 4 " in said, said   # inside the loop


def test_an_endless_loop_in_a_probed_function_is_named_with_its_line(short_grader, tmp_path):
    code = solution_source(E01).replace(
        "def numpy_two_layer_grads(x, y, w1, w2):\n",
        "def numpy_two_layer_grads(x, y, w1, w2):\n    steps = 0\n    while True:\n"
        "        steps += 1\n", 1)
    assert "steps += 1" in code
    lines = code.splitlines()
    loop = {i + 1 for i, line in enumerate(lines) if line.strip() in ("while True:",
                                                                    "steps += 1")}
    (tmp_path / f"{E01}.py").write_text(code)
    result = exercise_result(short_grader.grade(load_paths([tmp_path], "spin")), E01)
    timed_out = [c for c in result.checks if c.status == "timeout"]
    assert timed_out, [c.status for c in result.checks]
    said = timed_out[0].feedback
    assert "`numpy_two_layer_grads`" in said and f"{E01}.py" in said, said
    assert any(f"line {n} " in said for n in loop), said


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf", "soon"])
def test_the_notebook_timeout_must_be_a_positive_number_of_seconds(value, tmp_path):
    done = run_cli(str(tmp_path), "--notebook-timeout", value)
    assert done.returncode == 2, done.stderr
    assert "--notebook-timeout" in done.stderr


# -- whatever a notebook's process does costs only that submission ----------------------

STRAY = f"torchkit-notebook-stray-{uuid.uuid4().hex}"
SPAWNS = textwrap.dedent(f"""
    import os, subprocess
    subprocess.Popen([{STRAY!r}, "1000"], executable="sleep")            # in its group
    subprocess.Popen([{STRAY!r}, "1000"], executable="sleep",            # a session of its own
                     start_new_session=True)
""")


def _with_first_line(code: str, function: str, line: str) -> str:
    head = f"def {function}("
    at = code.index(head)
    body = code.index(":\n", at) + 2
    return code[:body] + f"    {line}\n" + code[body:]


# (and waits until it is gone: it dies with it)
KILLS_ITS_PARENT = ("import os, signal, time; parent = os.getppid(); "
                    "os.kill(parent, signal.SIGKILL)\n"
                    "    while os.getppid() == parent: time.sleep(0.01)")

HOSTILE = {
    # after its top-level code: the notebook's process stops, or ends, under the grader
    "stops_itself": "import os, signal, threading\nthreading.Timer(0.2, os.kill, "
                    "(os.getpid(), signal.SIGSTOP)).start()\n",
    "ends_itself": "import os, threading\nthreading.Timer(0.2, os._exit, (3,)).start()\n",
    # an exercise's worker kills the notebook's process it was forked from
    "kills_its_notebook": None,
    # processes started at top level, in and out of its process group
    "spawns": SPAWNS,
}


def _strays() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if STRAY.encode() in cmdline and state != b"Z":
            found.append(int(entry))
    return found


def test_a_hostile_notebook_process_costs_only_its_own_submission(short_grader, tmp_path):
    good = solution_source(E01)
    submissions = []
    for name, cell in HOSTILE.items():
        code = good if cell is not None else _with_first_line(
            good, "numpy_two_layer_grads", KILLS_ITS_PARENT)
        cells = [v4.new_code_cell(code)] + ([v4.new_code_cell(cell)] if cell else [])
        notebook = write_notebook(tmp_path / f"{name}.ipynb", cells)
        submissions.append(load_paths([notebook], name))
    classmate = tmp_path / "classmate"
    classmate.mkdir()
    (classmate / f"{E01}.py").write_text(good)
    submissions.append(load_paths([classmate], "classmate"))
    reports = {r.id: r for r in short_grader.grade_many(submissions, only=[E01])}
    assert set(reports) == {s.id for s in submissions}
    assert reports["classmate"].full_marks
    assert exercise_result(reports["spawns"], E01).full_marks
    killer = exercise_result(reports["kills_its_notebook"], E01)
    assert not killer.full_marks
    said = " ".join(c.feedback for c in killer.checks)
    # Refused where workers cannot signal outside their own Landlock domain; else the
    # notebook's process ends, and with it its exercises (this submission's only).
    assert "PermissionError" in said or "the process that ran your notebook ended" in said, said
    deadline = time.monotonic() + 3.0
    while _strays() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _strays()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left


@pytest.mark.fork_only("with Landlock off (as here) nothing refuses the signal, and a "
                       "spawned worker's parent is the grader itself, not a zygote")
def test_a_notebook_that_kills_the_graders_zygote_costs_only_itself(tmp_path):
    """Without Landlock (which refuses the signal) the zygote dies: the notebooks that were
    running then run again, alone, and the one that killed it is named."""
    good = solution_source(E01)
    write_notebook(tmp_path / "killer.ipynb", [
        v4.new_code_cell(good),
        v4.new_code_cell("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")])
    write_notebook(tmp_path / "alice.ipynb", [v4.new_code_cell(good)])
    (tmp_path / "bob.py").write_text(good)
    done = run_cli("--batch", str(tmp_path), "--format", "json", "--only", E01,
                   "--jobs", "2", "--timeout", "20", env={"GRADER_SANDBOX_OFF": "filesystem"})
    assert done.returncode == 0, done.stderr
    scores = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}
    assert scores["alice"]["score"] == scores["alice"]["max_score"] > 0
    assert scores["bob"]["score"] == scores["bob"]["max_score"]
    assert scores["killer"]["score"] == 0


TAKES_THE_REFERENCE_MODEL = {
    "as_is": "TwoLayerNet = _reference",
    "subclassed": "class TwoLayerNet(_reference):\n    pass",
    "wrapped": "def TwoLayerNet(*args):\n    return _models[0](*args)\n_models = [_reference]",
}


@pytest.mark.parametrize("how", sorted(TAKES_THE_REFERENCE_MODEL))
def test_a_notebook_cell_that_takes_the_graders_model_earns_nothing_for_it(
        short_grader, tmp_path, how):
    """The notebook's worker keeps the probes of all its exercises while its top-level code
    runs, and e07's build the grader's reference models: taking one voids that exercise."""
    take = ("import sys\n_reference = sys.modules['grader.checks.training.models']"
            ".model_class('TwoLayerNet')\n" + TAKES_THE_REFERENCE_MODEL[how])
    notebook = write_notebook(tmp_path / "course.ipynb", [
        v4.new_code_cell(solution_source("e07_training")), v4.new_code_cell(take)])
    report = short_grader.grade_many([load_paths([notebook], how)],
                                     only=["e05_two_layer_net", "e07_training"])
    report = next(iter(report))
    e05 = exercise_result(report, "e05_two_layer_net")
    said = " ".join(c.feedback for c in e05.checks)
    # Under spawn the notebook's own worker, and e05's, hold no e07 probe: the grader's
    # model is not in their memory to take, the cell fails, and TwoLayerNet is missing.
    expected = "reference solutions" if BACKEND == "fork" else "is not defined"
    assert e05.score == 0 and expected in said, said
    assert exercise_result(report, "e07_training").full_marks
