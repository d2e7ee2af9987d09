"""`--student-seeds`: a data set per student, from a key and the student's id (issue 13).

One small class is graded through the command line, cold (a fresh reference cache)
and again warm: reference copies, a buggy copy, two students whose e00 raises an error
quoting a hash of the inputs it got, and one whose e00 prints the worker's seed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import SOLUTIONS, TEST_TIMEOUT, run_cli
from grader.grading import seed_windows
from grader.model import Report
from grader.plugins import collect_reporters, plugin_manager
from grader.reporters import ReportSettings
from grader.seeds import KEY_ENV, MIN_KEY_BYTES, BadKey, read_key, student_seed, without_seed

KEY = b"0123456789abcdef-course-key"
OTHER_KEY = b"fedcba9876543210-other-key"
COPIES = ("ann", "ben", "김민준")
HASHED = ("hx", "hy")
#: e00's flatten_images, raising with a hash of the images it was given.
HASHING_E00 = '''
import hashlib
from e00_solution_rest import *   # noqa: F401,F403 - the rest of e00, as solved


def flatten_images(x):
    digest = hashlib.sha256(x.detach().contiguous().numpy().tobytes()).hexdigest()[:16]
    raise ValueError(f"inputs-hash-{digest}")
'''
LEAKING_E00 = "import torch\nprint('my seed is', torch.initial_seed())\n"
BATCH = ("--timeout", str(TEST_TIMEOUT), "--jobs", "2")


# -- the seeds ----------------------------------------------------------------------
def test_a_seed_is_the_same_for_the_same_key_and_id_and_differs_otherwise():
    seeds = {student_seed(KEY, i) for i in ("ann", "ben", "김민준", "ann ", "Ann")}
    assert len(seeds) == 5
    assert student_seed(KEY, "ann") == student_seed(KEY, "ann")
    assert student_seed(OTHER_KEY, "ann") != student_seed(KEY, "ann")
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_a_seed_is_hmac_sha256_of_the_id():
    import hashlib
    import hmac

    digest = hmac.new(KEY, b"torchkit-seed\0ann", hashlib.sha256).digest()
    assert student_seed(KEY, "ann") == int.from_bytes(digest[:4], "big")


def test_a_name_gets_the_same_seed_in_either_unicode_form():
    import unicodedata

    name = "김민준"
    assert student_seed(KEY, unicodedata.normalize("NFD", name)) == student_seed(KEY, name)


def test_the_key_comes_from_a_file_the_environment_or_the_command_line(tmp_path):
    (tmp_path / "key").write_bytes(KEY + b"\n")
    assert read_key(f"@{tmp_path / 'key'}") == KEY           # one trailing newline dropped
    assert read_key(None, {KEY_ENV: KEY.decode()}) == KEY
    assert read_key(KEY.decode()) == KEY
    with pytest.raises(BadKey, match=KEY_ENV):
        read_key(None, {})
    with pytest.raises(BadKey, match="cannot read"):
        read_key(f"@{tmp_path / 'missing'}")
    with pytest.raises(BadKey, match=f"at least {MIN_KEY_BYTES}"):
        read_key("short")


def test_seed_windows_cut_a_batch_into_runs_of_a_few_seeds():
    assert list(seed_windows([7] * 9, 4)) == [(0, 9)]
    assert list(seed_windows([1, 2, 3, 4, 5, 6], 4)) == [(0, 4), (4, 6)]
    assert list(seed_windows([1, 1, 2, 2, 3], 2)) == [(0, 4), (4, 5)]
    assert list(seed_windows([], 4)) == [(0, 0)]


def test_a_hidden_seed_is_scrubbed_from_every_text():
    from grader.model import CheckResult, ExerciseResult

    seed = 3141592653
    report = Report((ExerciseResult("e00", "t", (CheckResult("c", "failed", 0, 1,
                                                               f"got {seed}, 1{seed}"),),
                                    output=f"seed {seed}\n"),), id="x", seed=seed,
                    notes=(f"({seed})",))
    hidden = without_seed(report, seed)
    assert hidden.seed is None and hidden.notes == ("(…)",)
    assert hidden.exercises[0].output == "seed …\n"
    assert hidden.exercises[0].checks[0].feedback == f"got …, 1{seed}"   # not a part of one


# -- a class, graded -----------------------------------------------------------------
def _class(root: Path, ids: tuple[str, ...]) -> Path:
    root.mkdir(parents=True)
    for student in ids:
        if student in COPIES:
            shutil.copytree(SOLUTIONS, root / student,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif student == "buggy":
            shutil.copytree(SOLUTIONS, root / student,
                            ignore=shutil.ignore_patterns("__pycache__"))
            relu = root / student / "e04_my_relu.py"
            relu.write_text(relu.read_text().replace("grad_input[input < 0] = 0", "pass"))
        elif student in HASHED:
            (root / student).mkdir()
            shutil.copy(SOLUTIONS / "e00_tensor_basics.py",
                        root / student / "e00_solution_rest.py")
            (root / student / "e00_tensor_basics.py").write_text(HASHING_E00)
        elif student == "leaky":
            (root / student).mkdir()
            (root / student / "e00_tensor_basics.py").write_text(
                LEAKING_E00 + (SOLUTIONS / "e00_tensor_basics.py").read_text())
    return root


CLASS = (*COPIES, "buggy", *HASHED, "leaky")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "seeds.key"
    path.write_bytes(KEY + b"\n")
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory, key_file):
    """The class graded twice with the key from a file: cold, then from the cache."""
    root = tmp_path_factory.mktemp("seeded")
    class_dir = _class(root / "class", CLASS)
    env = {"GRADER_CACHE_DIR": str(root / "cache")}
    common = ("--batch", str(class_dir), "--student-seeds", f"@{key_file}", "--format",
              "json", *BATCH)
    cold = run_cli(*common, env=env, timeout=900)
    assert cold.returncode == 0, cold.stderr[-3000:]
    warm = run_cli(*common, env=env, timeout=900)
    assert warm.returncode == 0, warm.stderr[-3000:]
    return {"cold": cold.stdout, "warm": warm.stdout, "root": root,
            "cache": root / "cache", "class": class_dir, "key": key_file}


def _reports(stdout: str) -> dict[str, dict]:
    return {r["id"]: r for r in json.loads(stdout)["submissions"]}


def _hashes(report: dict) -> set[str]:
    e00 = next(e for e in report["exercises"] if e["name"] == "e00_tensor_basics")
    return set(re.findall(r"inputs-hash-[0-9a-f]{16}",
                          " ".join(c.get("feedback", "") for c in e00["checks"])))


def test_the_class_graded_twice_gives_the_same_reports(graded):
    assert graded["warm"] == graded["cold"]


def test_correct_copies_get_full_marks_on_their_own_seeds_and_the_bug_is_found(graded):
    reports = _reports(graded["cold"])
    for student in COPIES:
        assert reports[student]["score"] == reports[student]["max_score"] > 100, student
    relu = next(e for e in reports["buggy"]["exercises"] if e["name"] == "e04_my_relu")
    assert relu["score"] < relu["max_score"]
    others = [e for e in reports["buggy"]["exercises"] if e["name"] != "e04_my_relu"]
    assert all(e["score"] == e["max_score"] for e in others)


def test_every_student_gets_their_own_seed_and_references_on_it(graded):
    cached = {p.name.split("-")[1] for p in graded["cache"].glob("e04_my_relu-*.json")}
    expected = {str(student_seed(KEY, s)) for s in CLASS}
    assert cached == expected


def test_students_get_different_inputs(graded):
    reports = _reports(graded["cold"])
    hx, hy = _hashes(reports["hx"]), _hashes(reports["hy"])
    assert hx and hy and not hx & hy


def test_no_report_shows_a_seed(graded):
    reports = [Report.from_json(r) for r in json.loads(graded["cold"])["submissions"]]
    seeds = [str(student_seed(KEY, r.id)) for r in reports]
    assert all(r.seed is None for r in reports)
    assert "seed" not in json.loads(graded["cold"])["submissions"][0]
    leaky = next(r for r in reports if r.id == "leaky")
    assert "my seed is …" in leaky.exercises[0].output       # printed, and scrubbed
    names = tuple(e.name for e in reports[0].exercises)
    roster = tuple({"Student": r.id, "SIS User ID": r.id} for r in reports)
    reporters = collect_reporters(plugin_manager())
    assert {"json", "csv", "gradescope", "markdown", "html", "terminal"} <= set(reporters)
    for name, reporter in reporters.items():
        for batch in (True, False):
            settings = ReportSettings(batch=batch, exercise_names=names, roster=roster)
            text = reporter(reports if batch else reports[-1:], settings)
            leaked = [seed for seed in seeds if seed in text]
            assert not leaked, f"{name} (batch={batch}) shows {leaked}"
            assert not re.search(r"\bseed\b \d|\"seed\"|시드 \d", text), name


def test_a_regrade_gives_the_same_id_the_same_grade(graded, tmp_path):
    """Alone, on references made anew, with the key from the environment."""
    class_dir = _class(tmp_path / "again", ("hx", "buggy"))
    env = {"GRADER_NO_CACHE": "1", KEY_ENV: KEY.decode()}
    again = run_cli("--batch", str(class_dir), "--student-seeds", "--format", "json", *BATCH,
                    env=env, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    before, after = _reports(graded["cold"]), _reports(again.stdout)
    assert after["hx"] == before["hx"] and after["buggy"] == before["buggy"]


def test_another_key_gives_other_data(graded, tmp_path):
    class_dir = _class(tmp_path / "other", ("hx",))
    other = run_cli("--batch", str(class_dir), "--student-seeds", OTHER_KEY.decode(),
                    "--format", "json", *BATCH, env={"GRADER_CACHE_DIR": str(graded["cache"])},
                    timeout=900)
    assert other.returncode == 0, other.stderr[-3000:]
    assert not _hashes(_reports(other.stdout)["hx"]) & _hashes(_reports(graded["cold"])["hx"])


def test_the_cluster_grades_each_student_on_their_own_seed(graded, tmp_path):
    """--cluster: the client derives the seeds (the key stays here); same reports."""
    pytest.importorskip("distributed", reason="the cluster extra is not installed")
    class_dir = _class(tmp_path / "remote", ("hx", "buggy"))
    remote = run_cli("--batch", str(class_dir), "--student-seeds", f"@{graded['key']}",
                     "--cluster", "local:1", "--format", "json", *BATCH,
                     env={"GRADER_CACHE_DIR": str(graded["cache"])}, timeout=900)
    assert remote.returncode == 0, remote.stderr[-3000:]
    before, after = _reports(graded["cold"]), _reports(remote.stdout)
    assert after["hx"] == before["hx"] and after["buggy"] == before["buggy"]


@pytest.mark.parametrize("argv, message", [
    (("solutions", "--student-seeds", KEY.decode()), "with --batch"),
    (("--batch", "solutions", "--student-seeds", KEY.decode(), "--seed", "3"), "not both"),
    (("--batch", "solutions", "--student-seeds", "short"), "at least"),
])
def test_wrong_uses_are_exit_2(argv, message):
    done = run_cli(*argv, env={KEY_ENV: ""})
    assert done.returncode == 2 and message in done.stderr
