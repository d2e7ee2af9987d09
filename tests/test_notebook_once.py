"""A notebook's top-level code runs once per submission, under a time budget of its own;
a timeout says where the code was (function and line, or cell and line)."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat import v4

from conftest import EXERCISES, exercise_result, run_cli, solution_source
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
