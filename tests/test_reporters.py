"""The junit, gradescope and markdown reporters, against golden files.

The reports are built here by hand (not by grading), so the golden files only
change when a reporter does. After an intended change, regenerate them with

    GRADER_UPDATE_GOLDEN=1 python -m pytest tests/test_reporters.py

and review the diff.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_cli
from grader.model import CheckResult, ExerciseResult, Report
from grader.plugins import collect_reporters, plugin_manager
from grader.reporters import ReportSettings
from grader.reporters.gradescope import render_gradescope
from grader.reporters.junit import render_junit
from grader.reporters.markdown import render_markdown

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GRADER_UPDATE_GOLDEN") == "1"

NOT_FOUND = ("Not found in your submission: expected e04_my_relu.py (or .ipynb), or a "
             "notebook that defines MyReLU, my_relu.")

ALICE = Report(
    id="alice", seed=1234,
    notes=("Notebook course.ipynb, code cell 5 raised SyntaxError: invalid syntax",),
    exercises=(
        ExerciseResult(
            "e01_numpy_grads", "Two-layer net by hand with NumPy",
            checks=(
                CheckResult("loss", "passed", 1.0, 1.0),
                CheckResult("grad_w1", "failed", 1.0, 2.0,
                            "grad_w1 differs at [0, 1]: got 0.5, expected 1.0 (x | y)\n"
                            "Likely misconception: the mean instead of the sum.",
                            misconception="mean_not_sum"),
                CheckResult("train_losses", "timeout", 0.0, 1.0,
                            "Stopped after 10 s: an endless loop?"),
                CheckResult("leaves_inputs_alone", "error", 0.0, 1.0,
                            'raised ValueError: <bad> & "quoted" ]]> \x1b[31mred\x1b[0m \x00\x07'),
                CheckResult("train_on_cuda", "skipped", 0.0, 0.5,
                            "Skipped: no CUDA device here (a skipped check counts neither for "
                            "nor against you)."),
            ),
            summary="Notebook course.ipynb, code cell 5 raised SyntaxError: invalid syntax",
            hint="Write the forward pass first (h = x @ w1, h_relu, y_pred), keep h.",
            output="step 0 loss 12.5\n```\nprinted backticks ``` and a | pipe\n"),
        ExerciseResult(
            "e02_tensor_grads", "Gradients by hand with torch tensors",
            checks=(CheckResult("loss", "passed", 1.0, 1.0),
                    CheckResult("grad_w1", "passed", 2.0, 2.0))),
        ExerciseResult(
            "e04_my_relu", "ReLU as a custom autograd Function",
            checks=(CheckResult("forward_values", "failed", 0.0, 1.0, NOT_FOUND),
                    CheckResult("backward_values", "failed", 0.0, 2.0, NOT_FOUND)),
            summary=NOT_FOUND,
            hint="In forward, keep what backward needs with ctx.save_for_backward(input)."),
        ExerciseResult(
            "x01_square", "모든 원소 제곱하기",
            checks=(CheckResult("square_values", "failed", 0.0, 1.0,
                                "아직 구현되지 않았습니다: `square`"),)),
    ))

BOB = Report(
    id="bob", seed=1234,
    exercises=tuple(ExerciseResult(e.name, e.title,
                                   tuple(CheckResult(c.name, "passed", c.max_score, c.max_score)
                                         for c in e.checks))
                    for e in ALICE.exercises))

NAMES = tuple(e.name for e in ALICE.exercises)
SINGLE = ReportSettings(batch=False, exercise_names=NAMES)
BATCH = ReportSettings(batch=True, exercise_names=NAMES)
ALICE_ALONE = Report(ALICE.exercises, id=None, seed=ALICE.seed, notes=ALICE.notes)

CASES = {
    "report.junit.xml": (render_junit, [ALICE_ALONE], SINGLE),
    "batch.junit.xml": (render_junit, [ALICE, BOB], BATCH),
    "report.gradescope.json": (render_gradescope, [ALICE_ALONE], SINGLE),
    "report.md": (render_markdown, [ALICE], SINGLE),
    "batch.md": (render_markdown, [ALICE, BOB], BATCH),
}


def render(name: str) -> str:
    reporter, reports, settings = CASES[name]
    return reporter(reports, settings) + "\n"     # the CLI prints it with a newline


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_file(name):
    text = render(name)
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing {golden}: run with GRADER_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), \
        f"{name} changed; if intended, regenerate with GRADER_UPDATE_GOLDEN=1 and review"


def test_rendering_is_stable():
    assert all(render(name) == render(name) for name in CASES)


def test_new_formats_are_registered():
    reporters = collect_reporters(plugin_manager())
    assert {"junit", "gradescope", "markdown", "terminal", "json", "csv"} <= set(reporters)


def test_junit_is_well_formed_and_counts_every_check():
    root = ET.fromstring(render("batch.junit.xml").encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == \
        [f"{r.id}.{e.name}" for r in (ALICE, BOB) for e in r.exercises]
    cases = root.findall("testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == 2 * sum(len(e.checks) for e in ALICE.exercises)
    first = suites[0]
    kinds = {c.get("name"): [child.tag for child in c] for c in first.findall("testcase")}
    assert kinds == {"loss": [], "grad_w1": ["failure"], "train_losses": ["error"],
                     "leaves_inputs_alone": ["error"], "train_on_cuda": ["skipped"]}
    error = first.find("testcase[@name='leaves_inputs_alone']/error")
    assert error.text == 'raised ValueError: <bad> & "quoted" ]]> red '   # control chars gone
    assert (first.get("failures"), first.get("errors"), first.get("skipped")) == ("1", "2", "1")
    properties = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert properties["score"] == "2" and properties["max_score"] == "5"
    assert "code cell 5" in first.find("system-err").text
    assert suites[1].find("system-err") is None


def test_gradescope_follows_the_results_json_format():
    data = json.loads(render("report.gradescope.json"))
    assert set(data) == {"score", "output", "extra_data", "tests"}
    assert data["score"] == ALICE.score == sum(t["score"] for t in data["tests"])
    assert sum(t["max_score"] for t in data["tests"]) == ALICE.max_score
    for test in data["tests"]:
        # a skipped check neither passed nor failed: it has no status (issue 13)
        skipped = test["extra_data"]["status"] == "skipped"
        assert set(test) == {"name", "score", "max_score", "output", "visibility",
                             "extra_data"} | (set() if skipped else {"status"})
        assert test["visibility"] == "visible"
        assert skipped or test["status"] in ("passed", "failed")
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["e01_numpy_grads: loss"]["status"] == "passed"
    assert by_name["e01_numpy_grads: train_losses"]["status"] == "failed"
    assert by_name["e01_numpy_grads: train_on_cuda"]["max_score"] == 0
    assert "code cell 5" in data["output"]
    batch = json.loads(render_gradescope([ALICE, BOB], BATCH))
    assert [s["id"] for s in batch["submissions"]] == ["alice", "bob"]


def test_markdown_table_and_feedback():
    text = render("report.md")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(ALICE.exercises) + 1            # header, exercises, total
    assert f"**{ALICE.score:g}/{ALICE.max_score:g}**" in text
    assert "````text\nstep 0 loss 12.5\n```" in text             # a longer fence than inside
    assert "<details>" in text and text.count("<details>") == 3   # the incomplete exercises
    batch = render("batch.md")
    assert "| alice |" in batch and "| bob |" in batch


def test_cli_formats_end_to_end():
    done = run_cli("solutions", "--only", "e01_numpy_grads", "--format", "gradescope")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert all(t["name"].startswith("e01_numpy_grads: ") for t in data["tests"])


def test_gradescope_output_never_shows_the_grading_seed():
    """Students see Gradescope's output; staff keep their hidden seed to themselves."""
    from grader.model import Report
    from grader.reporters import ReportSettings
    from grader.reporters.gradescope import render_gradescope

    text = render_gradescope([Report(exercises=(), seed=987654)], ReportSettings())
    assert "987654" not in text
