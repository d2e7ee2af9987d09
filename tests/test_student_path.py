"""The student's path: the grader finds the work where it is and says only what is true."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT, SOLUTIONS, run_cli


def test_a_folder_with_the_work_one_level_down_is_found_and_named(tmp_path):
    top = tmp_path / "unzipped" / "my-work"            # a zip with a top folder
    top.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "e04_my_relu.py", top)
    (tmp_path / "unzipped" / "__MACOSX").mkdir()       # what macOS adds to a zip: ignored
    shutil.copy(SOLUTIONS / "e05_two_layer_net.py", tmp_path / "unzipped" / "__MACOSX")
    done = run_cli(str(tmp_path / "unzipped"), "--format", "json", "--only", "e04_my_relu")
    assert done.returncode == 0, done.stderr
    assert f"graded {top}" in done.stderr
    report = json.loads(done.stdout)
    assert report["exercises"][0]["score"] == report["exercises"][0]["max_score"] > 0


def test_two_candidate_folders_are_a_usage_error_that_names_them():
    done = run_cli(".", cwd=ROOT)                      # the kit: exercises/ and solutions/
    assert done.returncode == 2
    assert "several folders" in done.stderr and "exercises" in done.stderr \
        and "solutions" in done.stderr


@pytest.mark.parametrize("make", ["empty folder", "text file", "csv file", "unrelated .py"])
def test_a_path_with_nothing_gradable_is_exit_2_with_one_clear_line(tmp_path, make):
    path = tmp_path / "work"
    if make == "empty folder":
        path.mkdir()
    elif make == "text file":
        path = tmp_path / "notes.txt"
        path.write_text("my notes")
    elif make == "csv file":
        path = tmp_path / "data.csv"
        path.write_text("a,b\n1,2\n")
    else:
        path.mkdir()
        (path / "foo.py").write_text("x = 1\n")
    done = run_cli(str(path), "--format", "json")
    assert done.returncode == 2
    assert done.stdout == ""
    first = done.stderr.splitlines()[0]
    assert ("no exercise files" in first and "e00_tensor_basics.py" in first) \
        or "not a .py file or a notebook" in first


def test_only_never_claims_the_course_is_complete(tmp_path):
    shutil.copy(SOLUTIONS / "e01_numpy_grads.py", tmp_path)
    done = run_cli(str(tmp_path), "--only", "e01_numpy_grads")
    assert done.returncode == 0, done.stderr                  # the exercise asked for: done
    assert "All exercises complete" not in done.stdout
    assert "Course: " in done.stdout and "next up: e00_tensor_basics" in done.stdout
    whole = run_cli(str(SOLUTIONS), "--only", "e01_numpy_grads", "--format", "json")
    assert json.loads(whole.stdout)["course"]["next"] is None  # the reference: all complete


def test_only_takes_the_exercise_as_a_student_types_it(tmp_path):
    """`--only e04`, `--only e04_my_relu.py` and the full name grade the same exercise;
    a prefix that names none or several is a usage error listing the names."""
    shutil.copy(SOLUTIONS / "e04_my_relu.py", tmp_path)
    for given in ("e04", "e04_my_relu.py", "e04_my_relu"):
        done = run_cli(str(tmp_path), "--only", given, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert [e["name"] for e in json.loads(done.stdout)["exercises"]] == ["e04_my_relu"]
    for wrong in ("e0", "e4", "relu"):
        done = run_cli(str(tmp_path), "--only", wrong)
        assert done.returncode == 2 and "unknown exercise" in done.stderr, wrong
