"""`python -m grader --batch DIR`: a whole class, graded as the contract says.

A class directory is built once per module with one entry of each kind (a
directory of exercise files, a single .py file holding the whole course, a
notebook), hidden entries that must be skipped, a broken entry, and hostile
entries (an infinite loop at import, an `os._exit` in a student's function).

Exercises other than e01 may still be placeholders while they are written, so
the assertions never hard-code scores: every reference copy must get exactly
what the kit's own `solutions` get, and hostile code lives in e01 only.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import SOLUTIONS, run_cli
from grader import course
from grader.plugins import collect_exercises, plugin_manager

NAMES = [e.name for e in collect_exercises(plugin_manager())]
#: The course as CONTRACT.md lists it, in order: the CSV gradebook's columns.
COURSE = [entry.name for entry in course.COURSE]   # the manifest: grader/course.py
HOSTILE_TIMEOUT = "3"   # seconds per exercise: the infinite loop costs this much, once
BATCH = ("--timeout", HOSTILE_TIMEOUT, "--jobs", "2")

#: Entries that are reference copies, by id: they must score like `solutions` alone.
COPIES = {"alice": "alice", "bob": "bob.py", "carol": "carol.ipynb"}
HOSTILE = {"mallory", "oscar"}
BROKEN = {"zed"}


def _solution_files() -> list[Path]:
    return sorted(p for p in SOLUTIONS.glob("e*.py"))


def _copy_solutions(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for file in _solution_files():
        shutil.copy(file, directory / file.name)
    return directory


def _whole_course_module() -> str:
    """Every solution file, one after the other, as one module (the course in one file)."""
    return "\n\n".join(f.read_text() for f in _solution_files())


def _whole_course_notebook() -> str:
    """Every solution file as one code cell, with a markdown cell and a magic in between."""
    cells = [nbformat.v4.new_markdown_cell("# My homework"),
             nbformat.v4.new_code_cell("%matplotlib inline\n!pip list")]
    cells += [nbformat.v4.new_code_cell(f.read_text()) for f in _solution_files()]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


E01 = (SOLUTIONS / "e01_numpy_grads.py").read_text()


def _build_class(root: Path) -> Path:
    root.mkdir()
    _copy_solutions(root / "alice")                          # a directory of exercise files
    (root / "bob.py").write_text(_whole_course_module())       # one .py file: found by names
    (root / "carol.ipynb").write_text(_whole_course_notebook())  # one notebook
    # Hostile: an infinite loop at import of e01 (the other exercises are reference copies).
    mallory = _copy_solutions(root / "mallory")
    (mallory / "e01_numpy_grads.py").write_text("while True:\n    pass\n")
    # Hostile: the training function ends the process with a "clean" exit status.
    oscar = _copy_solutions(root / "oscar")
    (oscar / "e01_numpy_grads.py").write_text(
        E01 + "\n\nimport os\n\n\ndef numpy_train(*args, **kwargs):\n    os._exit(0)\n")
    # Broken: a notebook that is not JSON at all.
    (root / "zed.ipynb").write_text("this is not a notebook {")
    # A student whose file name starts with "_" is a student too (the contract: each entry).
    (root / "_ann.py").write_text(E01)
    # Not submissions: hidden entries, Python's cache, other file types.
    _copy_solutions(root / ".git")
    _copy_solutions(root / "__pycache__")
    (root / ".ipynb_checkpoints").mkdir()
    (root / ".hidden.py").write_text(E01)
    (root / "README.txt").write_text("grades due Friday")
    (root / "roster.csv").write_text("alice,bob\n")
    return root


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory) -> Path:
    return _build_class(tmp_path_factory.mktemp("batch") / "class")


@pytest.fixture(scope="module")
def batch_json(class_dir):
    done = run_cli("--batch", str(class_dir), "--format", "json", *BATCH, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def batch_csv(class_dir):
    done = run_cli("--batch", str(class_dir), "--format", "csv", *BATCH, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def submissions(batch_json) -> dict[str, dict]:
    data = json.loads(batch_json.stdout)   # stdout is the report and nothing else
    # the contract's one key, and what confinement held for the whole batch (said once)
    # the contract's key, the class summary (issue 13), and what confinement held for the
    # whole batch (said once)
    assert set(data) == {"submissions", "summary", "sandbox"}
    assert {"filesystem", "network", "pids"} <= set(data["sandbox"])
    assert not any("sandbox" in s for s in data["submissions"])
    ids = [s["id"] for s in data["submissions"]]
    assert len(ids) == len(set(ids)), ids
    return {s["id"]: s for s in data["submissions"]}


@pytest.fixture(scope="module")
def solutions_alone():
    done = run_cli("solutions", "--format", "json", "--timeout", HOSTILE_TIMEOUT)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def outcome_of(report: dict) -> dict[str, tuple]:
    """What must not depend on the rest of the class: per exercise, score and check statuses."""
    return {e["name"]: (e["score"], e["max_score"],
                        tuple((c["name"], c["status"], c["score"]) for c in e["checks"]))
            for e in report["exercises"]}


def exercise(report: dict, name: str) -> dict:
    return next(e for e in report["exercises"] if e["name"] == name)


# ---------------------------------------------------------------- the JSON report

def test_ids_are_entry_names_without_suffix_and_hidden_entries_are_skipped(submissions):
    assert set(submissions) == set(COPIES) | HOSTILE | BROKEN | {"_ann"}


def test_every_submission_lists_every_exercise_in_course_order(submissions):
    for id, report in submissions.items():
        assert [e["name"] for e in report["exercises"]] == NAMES, id
        assert report["score"] == pytest.approx(sum(e["score"] for e in report["exercises"]))
        assert report["max_score"] == pytest.approx(
            sum(e["max_score"] for e in report["exercises"]))
        assert report["max_score"] > 0, id


def test_each_submission_report_has_the_single_submission_shape(submissions, solutions_alone):
    for id, report in submissions.items():
        assert {"score", "max_score", "exercises"} <= set(report), id
        for result in report["exercises"]:
            assert {"name", "score", "max_score", "checks"} <= set(result)
            for check in result["checks"]:
                assert check["status"] in ("passed", "failed", "error", "timeout", "skipped")
    assert submissions["alice"]["max_score"] == solutions_alone["max_score"]


@pytest.mark.parametrize("id", sorted(COPIES))
def test_reference_copies_score_like_the_solutions(submissions, solutions_alone, id):
    """A directory, a one-file course and a notebook of the reference get what `solutions` get."""
    assert outcome_of(submissions[id]) == outcome_of(solutions_alone)


@pytest.mark.parametrize("id", sorted(COPIES))
def test_batch_grades_each_entry_as_if_alone(class_dir, submissions, id):
    """Neither the hostile entries nor the others change a submission's score."""
    done = run_cli(str(class_dir / COPIES[id]), "--format", "json", "--timeout", HOSTILE_TIMEOUT)
    assert done.returncode in (0, 1), done.stderr
    alone = json.loads(done.stdout)
    assert outcome_of(submissions[id]) == outcome_of(alone)
    assert submissions[id]["score"] == alone["score"]


def test_infinite_loop_at_import_times_out_that_exercise_only(submissions, solutions_alone):
    report = submissions["mallory"]
    e01 = exercise(report, "e01_numpy_grads")
    assert e01["score"] == 0
    assert {c["status"] for c in e01["checks"]} == {"timeout"}
    assert f"{float(HOSTILE_TIMEOUT):g}" in " ".join(c["feedback"] for c in e01["checks"])
    others = {k: v for k, v in outcome_of(report).items() if k != "e01_numpy_grads"}
    expected = {k: v for k, v in outcome_of(solutions_alone).items() if k != "e01_numpy_grads"}
    assert others == expected


def test_os_exit_in_a_function_costs_only_its_checks(submissions, solutions_alone):
    report = submissions["oscar"]
    e01 = exercise(report, "e01_numpy_grads")
    assert e01["score"] < e01["max_score"]
    failing = [c for c in e01["checks"] if c["status"] != "passed"]
    assert failing and all(c["status"] == "error" and c["feedback"] for c in failing)
    # numpy_two_layer_grads is the reference's: the checks on it still pass.
    assert any(c["status"] == "passed" for c in e01["checks"])
    others = {k: v for k, v in outcome_of(report).items() if k != "e01_numpy_grads"}
    expected = {k: v for k, v in outcome_of(solutions_alone).items() if k != "e01_numpy_grads"}
    assert others == expected


def test_unreadable_entry_is_graded_zero_with_a_note(submissions):
    report = submissions["zed"]
    assert report["score"] == 0
    assert [e["name"] for e in report["exercises"]] == NAMES
    assert any("zed.ipynb" in note for note in report.get("notes", []))


def test_progress_goes_to_stderr_one_line_per_submission(batch_json, submissions):
    for id in submissions:
        assert id in batch_json.stderr
        # stdout is the report only ("graded" is also a status in its summary: issue 13)
        assert f"graded {id}:" not in batch_json.stdout


# ---------------------------------------------------------------- the CSV gradebook

def test_csv_header_is_id_score_max_score_then_the_exercises(batch_csv):
    header = batch_csv.stdout.splitlines()[0]
    # the contract's columns in its order; status and percent come after them (issue 13)
    assert header == ",".join(["id", "score", "max_score", *NAMES, "status", "percent"])
    assert NAMES == [n for n in COURSE if n in NAMES], "exercises out of course order"


def test_csv_header_is_the_whole_course(batch_csv):
    assert NAMES == COURSE, "every exercise of the course is registered, in course order"
    assert batch_csv.stdout.splitlines()[0] == (
        "id,score,max_score,e00_tensor_basics,e01_numpy_grads,e02_tensor_grads,e03_autograd,"
        "e04_my_relu,e05_two_layer_net,e06_dynamic_net,e07_training,e08_checkpoint,"
        "e09_linear_regression,status,percent")


def test_csv_rows_match_the_json_report(batch_csv, submissions):
    rows = list(csv.DictReader(io.StringIO(batch_csv.stdout)))
    assert sorted(r["id"] for r in rows) == sorted(submissions)
    for row in rows:
        report = submissions[row["id"]]
        assert float(row["score"]) == pytest.approx(report["score"])
        assert float(row["max_score"]) == pytest.approx(report["max_score"])
        for name in NAMES:
            assert float(row[name]) == pytest.approx(exercise(report, name)["score"])


def test_csv_stdout_is_only_the_gradebook(batch_csv, submissions):
    lines = batch_csv.stdout.strip().splitlines()
    assert len(lines) == 1 + len(submissions)


# ---------------------------------------------------------------- edge cases and wrong use

def test_empty_class_is_wrong_use_with_exit_2(tmp_path):
    """A batch with no submission is a mistake (the wrong folder), said in one line (issue
    13: before, it printed an empty gradebook and exit 0)."""
    for format_name in ("json", "csv"):
        done = run_cli("--batch", str(tmp_path), "--format", format_name)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert "no submissions" in done.stderr


@pytest.mark.parametrize("args", [
    pytest.param(lambda d: ["--batch", str(d / "missing")], id="missing-dir"),
    pytest.param(lambda d: ["--batch", str(d / "file.py")], id="dir-is-a-file"),
    pytest.param(lambda d: ["--batch", str(d), "solutions"], id="extra-path"),
    pytest.param(lambda d: ["--batch", str(d), str(d / "file.py")], id="extra-file"),
    pytest.param(lambda d: ["--batch"], id="no-dir"),
    pytest.param(lambda d: ["--batch", str(d), "--jobs", "0"], id="jobs-0"),
    pytest.param(lambda d: ["--batch", str(d), "--format", "xml"], id="unknown-format"),
])
def test_wrong_use_exits_2_with_nothing_on_stdout(tmp_path, args):
    (tmp_path / "file.py").write_text(E01)
    done = run_cli(*args(tmp_path))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "error" in done.stderr


def test_directory_with_a_dot_keeps_its_whole_name(tmp_path):
    for name in ("j.smith", "j.doe"):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "e01_numpy_grads.py").write_text(E01)
    done = run_cli("--batch", str(tmp_path), "--format", "json", *BATCH)
    assert done.returncode == 0, done.stderr
    assert sorted(s["id"] for s in json.loads(done.stdout)["submissions"]) == ["j.doe", "j.smith"]


def test_entries_that_would_share_an_id_keep_their_full_names(tmp_path):
    from grader.batch import batch_entries, student_ids

    (tmp_path / "bob").mkdir()
    (tmp_path / "bob.py").write_text(E01)
    (tmp_path / "carol.ipynb").write_text("{}")
    assert student_ids(batch_entries(tmp_path)) == ["bob", "bob.py", "carol"]


def test_submission_killing_the_zygote_does_not_sink_the_class(tmp_path):
    """Its parent is the process that forks every worker; jobs in flight die with it."""
    _copy_solutions(tmp_path / "alice")
    trudy = _copy_solutions(tmp_path / "trudy")
    (trudy / "e01_numpy_grads.py").write_text(
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    _copy_solutions(tmp_path / "zoe")
    done = run_cli("--batch", str(tmp_path), "--format", "json", *BATCH)
    assert done.returncode == 0, done.stderr
    reports = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}
    assert sorted(reports) == ["alice", "trudy", "zoe"]
    alone = json.loads(run_cli(str(tmp_path / "alice"), "--format", "json",
                               "--timeout", HOSTILE_TIMEOUT).stdout)
    assert outcome_of(reports["alice"]) == outcome_of(alone)
    assert outcome_of(reports["zoe"]) == outcome_of(alone)
    e01 = exercise(reports["trudy"], "e01_numpy_grads")
    assert e01["score"] == 0 and {c["status"] for c in e01["checks"]} == {"error"}
    others = {k: v for k, v in outcome_of(reports["trudy"]).items() if k != "e01_numpy_grads"}
    assert others == {k: v for k, v in outcome_of(alone).items() if k != "e01_numpy_grads"}
