"""docs/CONTRACT.md, sentence by sentence, checked from the outside.

Everything here uses the kit the way an instructor's script or an outside tool
does: the files in `exercises/` and `solutions/` (read and imported), and the
command line through `run_cli` (or, for the rules per exercise, the `grade`
fixture, which grades a directory of files like `python -m grader DIR`).
A sentence the kit does not keep yet is an `xfail(strict=True)` naming the
defect, so that the test starts to fail (XPASS) the day it is fixed.
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import json
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import EXERCISES, ROOT, SOLUTIONS, exercise_result, run_cli
from grader import course

# -- the contract's tables ------------------------------------------------------------

#: The course in the contract's order (the CSV gradebook's columns), from the manifest
#: (grader/course.py), which also writes the contract's table (test_course.py checks it).
COURSE = [entry.name for entry in course.COURSE]
PUBLIC = {entry.name: entry.names for entry in course.COURSE}
P, K = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
_ = inspect.Parameter.empty
#: (exercise, dotted name) -> [(parameter, kind, default)] as the contract writes them.
SIGNATURES = {
    (entry.name, name): [(parameter, P if kind == "positional" else K, _ if default is ... else default)
                         for parameter, kind, default in signature]
    for entry in course.COURSE for name, signature in entry.signatures.items()
}
STATUSES = {"passed", "failed", "error", "timeout", "skipped"}
TIMEOUT = ("--timeout", "5")   # per exercise, so that a defect cannot hang the suite
KITS = {"exercises": EXERCISES, "solutions": SOLUTIONS}


def solution(name: str) -> str:
    return (SOLUTIONS / f"{name}.py").read_text()


def replaced(text: str, old: str, new: str, count: int = 1) -> str:
    """`text` with `old` replaced; fails loudly when the reference no longer holds `old`."""
    assert text.count(old) == count, f"the reference changed: {old!r}"
    return text.replace(old, new)


def notebook(*cells: str) -> str:
    """A notebook of code cells ("# md: ..." makes a markdown cell)."""
    v4 = nbformat.v4
    return nbformat.writes(v4.new_notebook(cells=[
        v4.new_markdown_cell(c[len("# md:"):]) if c.startswith("# md:") else v4.new_code_cell(c)
        for c in cells]))


def cli_json(*args: str) -> tuple[dict, object]:
    done = run_cli(*args, "--format", "json", *TIMEOUT)
    try:
        return json.loads(done.stdout), done   # the whole of stdout is the report
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not one JSON report (rc {done.returncode}):\n"
                    f"{done.stdout[:2000]}\nstderr:\n{done.stderr[-2000:]}")


def by_name(report: dict) -> dict[str, dict]:
    return {e["name"]: e for e in report["exercises"]}


def assert_report_shape(report: dict) -> None:
    """The JSON report as the contract draws it, every exercise of the course in it."""
    assert isinstance(report["score"], (int, float)) and isinstance(report["max_score"],
                                                                     (int, float))
    assert sorted(by_name(report)) == sorted(COURSE)
    assert len(report["exercises"]) == len(COURSE)
    for exercise in report["exercises"]:
        assert isinstance(exercise["name"], str)
        assert isinstance(exercise["score"], (int, float))
        assert isinstance(exercise["max_score"], (int, float))
        assert exercise["checks"], exercise["name"]
        for check in exercise["checks"]:
            assert {"name", "status", "score", "max_score", "feedback"} <= set(check)
            assert isinstance(check["name"], str) and isinstance(check["feedback"], str)
            assert check["status"] in STATUSES, check
            assert 0 <= check["score"] <= check["max_score"]
        counted = [c for c in exercise["checks"] if c["status"] != "skipped"]
        # A skipped check counts neither for nor against.
        assert exercise["score"] == pytest.approx(sum(c["score"] for c in counted))
        assert exercise["max_score"] == pytest.approx(sum(c["max_score"] for c in counted))
        assert all(c["score"] == 0 for c in exercise["checks"] if c["status"] == "skipped")
    assert report["score"] == pytest.approx(sum(e["score"] for e in report["exercises"]))
    assert report["max_score"] == pytest.approx(sum(e["max_score"] for e in report["exercises"]))


def full(exercise: dict) -> bool:
    return exercise["score"] == exercise["max_score"] > 0


def assert_missing(exercise: dict) -> None:
    """Score 0, and feedback that says the exercise is not in the submission."""
    assert exercise["score"] == 0
    text = " ".join([exercise.get("summary", "")] + [c["feedback"] for c in exercise["checks"]])
    assert "not found" in text.lower() or "missing" in text.lower(), text


# == Files and public names ===========================================================

def _top_level(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("kit", sorted(KITS))
def test_exercise_files_are_the_contracts_and_the_same_in_both_folders(kit):
    files = sorted(p.stem for p in KITS[kit].glob("*.py") if not p.name.startswith("_"))
    assert files == COURSE


@pytest.mark.parametrize("kit", sorted(KITS))
def test_each_public_name_is_defined_in_exactly_one_exercise(kit):
    defined = {name: _top_level(KITS[kit] / f"{name}.py") for name in COURSE}
    for exercise, names in PUBLIC.items():
        for name in names:
            where = [e for e, found in defined.items() if name in found]
            assert where == [exercise], (name, where)
    # ...and no other public name is shared between exercises (a course in one notebook).
    public = [n for found in defined.values() for n in found if not n.startswith("_")
              and n not in ("np", "torch", "nn", "random")]
    assert len(public) == len(set(public)), sorted(n for n in public if public.count(n) > 1)


def test_the_grader_knows_the_contracts_course():
    from grader.plugins import collect_exercises, plugin_manager

    known = {e.name: tuple(e.names) for e in collect_exercises(plugin_manager())}
    assert {name: set(names) for name, names in known.items() if name in PUBLIC} == \
        {name: set(names) for name, names in PUBLIC.items()}


#: Run in a child process: importing `solutions` here would put the reference in the
#: memory of the session's grader (its workers fork from this process).
_FACTS = r"""
import importlib, inspect, json, sys
import torch
from torch import nn

signatures, kinds = {}, {}
for kit in ("exercises", "solutions"):
    for exercise, dotted in json.loads(sys.argv[1]):
        obj = importlib.import_module(f"{kit}.{exercise}")
        for part in dotted.split("."):
            obj = getattr(obj, part)
        function = obj.__init__ if inspect.isclass(obj) else obj
        parameters = list(inspect.signature(function).parameters.values())
        if inspect.isclass(obj):
            parameters = parameters[1:]                       # self
        signatures[f"{kit}:{exercise}:{dotted}"] = [
            [p.name, str(p.kind), None if p.default is p.empty else repr(p.default),
             None if p.default is p.empty else type(p.default).__name__] for p in parameters]
    relu = importlib.import_module(f"{kit}.e04_my_relu")
    two = importlib.import_module(f"{kit}.e05_two_layer_net").TwoLayerNet
    dyn = importlib.import_module(f"{kit}.e06_dynamic_net").DynamicNet
    line = importlib.import_module(f"{kit}.e09_linear_regression").LinearRegressionModel
    kinds[kit] = {
        "function": issubclass(relu.MyReLU, torch.autograd.Function),
        "alias": relu.my_relu == relu.MyReLU.apply,
        "forward": relu.MyReLU.apply(torch.tensor([-2.0, 0.0, 3.0])).tolist(),
        "modules": [issubclass(two, nn.Module), issubclass(dyn, nn.Module),
                    issubclass(line, nn.Module)],
        "dynamic_children": sorted(n for n, _ in dyn(4, 6, 3).named_children()),
    }
    if kit == "solutions":
        kinds[kit]["two_children"] = sorted(n for n, _ in two(5, 7, 3).named_children())
        kinds[kit]["line_parameters"] = sorted((n, list(p.shape))
                                               for n, p in line().named_parameters())
print(json.dumps({"signatures": signatures, "kinds": kinds}))
"""


@pytest.fixture(scope="module")
def kit_facts():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FACTS, json.dumps(sorted(SIGNATURES))],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("kit", sorted(KITS))
@pytest.mark.parametrize("exercise,name", sorted(SIGNATURES))
def test_signatures_and_defaults_are_the_contracts(kit_facts, kit, exercise, name):
    got = kit_facts["signatures"][f"{kit}:{exercise}:{name}"]
    expected = [[n, str(kind), None if d is _ else repr(d), None if d is _ else type(d).__name__]
                for n, kind, d in SIGNATURES[(exercise, name)]]
    assert got == expected   # names, kinds (keyword-only), defaults and their types


@pytest.mark.parametrize("kit", sorted(KITS))
def test_module_kinds_are_the_contracts(kit_facts, kit):
    facts = kit_facts["kinds"][kit]
    assert facts["function"] and facts["alias"]       # MyReLU a Function, my_relu = .apply
    assert facts["forward"] == [0.0, 0.0, 3.0]         # forward is given (stub too): ReLU
    assert facts["modules"] == [True, True, True]
    assert set(facts["dynamic_children"]) >= {"input_linear", "middle_linear", "output_linear"}
    if kit == "solutions":
        assert facts["dynamic_children"] == ["input_linear", "middle_linear", "output_linear"]
        assert facts["two_children"] == ["linear1", "linear2"]
        assert facts["line_parameters"] == [["bias", [1]], ["weights", [1]]]


# == The command line: one submission ===================================================

@pytest.fixture(scope="module")
def solutions_json():
    return cli_json(str(SOLUTIONS))


def test_reference_gets_full_marks_exit_0_and_the_contracts_json(solutions_json):
    report, done = solutions_json
    assert done.returncode == 0, done.stderr[-2000:]
    assert_report_shape(report)
    assert report["score"] == report["max_score"] > 0
    assert all(full(e) for e in report["exercises"])


def test_the_stubs_score_0_with_exit_1():
    report, done = cli_json(str(EXERCISES))
    assert done.returncode == 1
    assert_report_shape(report)
    assert report["score"] == 0 and report["max_score"] > 0


def test_one_exercise_file_lists_every_exercise_the_rest_missing(tmp_path):
    (tmp_path / "e04_my_relu.py").write_text(solution("e04_my_relu"))
    report, done = cli_json(str(tmp_path / "e04_my_relu.py"))
    assert done.returncode == 1
    assert_report_shape(report)
    exercises = by_name(report)
    assert full(exercises["e04_my_relu"])
    for name in COURSE:
        if name != "e04_my_relu":
            assert_missing(exercises[name])
            assert exercises[name]["max_score"] > 0   # missing still counts in the total


def test_several_paths_make_one_submission(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "e01_numpy_grads.py").write_text(solution("e01_numpy_grads"))
    (tmp_path / "b" / "e06_dynamic_net.py").write_text(solution("e06_dynamic_net"))
    (tmp_path / "mine.ipynb").write_text(notebook(solution("e08_checkpoint")))
    report, done = cli_json(str(tmp_path / "a" / "e01_numpy_grads.py"),
                            str(tmp_path / "b" / "e06_dynamic_net.py"), str(tmp_path / "mine.ipynb"))
    assert done.returncode == 1
    assert_report_shape(report)
    exercises = by_name(report)
    for name in COURSE:
        if name in ("e01_numpy_grads", "e06_dynamic_net", "e08_checkpoint"):
            assert full(exercises[name]), exercises[name]
        else:
            assert_missing(exercises[name])


def test_one_notebook_holding_the_whole_course_gets_full_marks(tmp_path, solutions_json):
    path = tmp_path / "Copy of course.ipynb"
    path.write_text(notebook("# md:# My homework", *(solution(n) for n in COURSE)))
    report, done = cli_json(str(path))
    assert done.returncode == 0, report
    assert_report_shape(report)
    assert report["score"] == solutions_json[0]["score"]


def test_one_notebook_holding_some_exercises(tmp_path):
    path = tmp_path / "week1.ipynb"
    path.write_text(notebook(solution("e02_tensor_grads"), solution("e05_two_layer_net")))
    report, done = cli_json(str(path))
    assert done.returncode == 1
    exercises = by_name(report)
    assert full(exercises["e02_tensor_grads"]) and full(exercises["e05_two_layer_net"])
    assert_missing(exercises["e01_numpy_grads"])


def test_a_directory_of_py_files_and_notebooks_together(tmp_path, solutions_json):
    for name in COURSE[:4]:
        (tmp_path / f"{name}.py").write_text(solution(name))
    for name in COURSE[4:]:
        (tmp_path / f"{name}.ipynb").write_text(notebook(solution(name)))
    report, done = cli_json(str(tmp_path))
    assert done.returncode == 0, report
    assert report["score"] == solutions_json[0]["score"]


def test_json_stdout_holds_the_report_only_whatever_the_student_prints(tmp_path):
    chatter = textwrap.dedent("""\
        import os, sys
        print("printed at import")
        sys.stdout.write("on sys.stdout\\n")
        os.write(1, b"on file descriptor 1\\n")
        os.system("echo from a shell")
        """)
    (tmp_path / "e01_numpy_grads.py").write_text(chatter + solution("e01_numpy_grads").replace(
        "    losses = []\n", "    losses = []\n    print('printed in a function')\n"))
    (tmp_path / "cells.ipynb").write_text(notebook(chatter, solution("e04_my_relu")))
    report, done = cli_json(str(tmp_path))     # parses the whole of stdout as one report
    assert done.stdout.lstrip().startswith("{") and done.stdout.rstrip().endswith("}")
    assert "printed at import" not in done.stdout.split("{", 1)[0]
    assert full(by_name(report)["e01_numpy_grads"]) and full(by_name(report)["e04_my_relu"])


# -- exit 2 on wrong use ---------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["solutions", "--format", "yaml"],                    # an unknown --format
    ["solutions", "does-not-exist.py"],                   # a missing path among several
    ["does-not-exist"],
    [],                                                   # no PATH at all
    ["solutions", "--seed", "not-a-number"],
    ["solutions", "--only", "e99_nothing"],
    ["solutions", "--jobs", "0"],
    ["--batch", "does-not-exist"],
    ["--batch", "solutions/e01_numpy_grads.py"],          # --batch needs a directory
    ["--batch", "solutions", "exercises"],                # --batch takes no PATH
    ["--batch", "solutions", "--format", "yaml"],
    ["solutions", "--no-such-option"],
    ["--batch", "solutions", "--watch"],
    ["solutions", "--watch", "--format", "json"],
], ids=lambda a: " ".join(a) or "nothing")
def test_wrong_use_exits_2_with_nothing_on_stdout(args):
    done = run_cli(*args)
    assert done.returncode == 2, (done.stdout[-1000:], done.stderr[-1000:])
    assert done.stdout == ""
    assert "error" in done.stderr


@pytest.mark.parametrize("value", ["-1", "0"])
def test_a_timeout_that_is_not_positive_is_wrong_use(value):
    done = run_cli("solutions", "--only", "e04_my_relu", "--format", "json", "--timeout", value)
    assert done.returncode == 2, (done.returncode, done.stdout[:300])


@pytest.mark.parametrize("option", ["--memory", "--output-kb"])
def test_a_negative_limit_is_wrong_use(option):
    done = run_cli("solutions", "--only", "e04_my_relu", "--format", "json", option, "-5")
    assert done.returncode == 2, (done.returncode, done.stdout[:300])


# -- --seed ----------------------------------------------------------------------------

def _half_right(directory: Path) -> Path:
    """A submission whose feedback shows data: the mean instead of the sum in e01."""
    directory.mkdir()
    (directory / "e01_numpy_grads.py").write_text(
        replaced(solution("e01_numpy_grads"), "np.square(y_pred - y).sum()",
                 "np.square(y_pred - y).mean()"))
    for name in ("e04_my_relu", "e06_dynamic_net", "e07_training"):
        (directory / f"{name}.py").write_text(solution(name))
    return directory


def test_the_same_seed_always_gives_the_same_report_and_another_seed_other_data(tmp_path):
    sub = str(_half_right(tmp_path / "sub"))
    first = run_cli(sub, "--seed", "987654", "--format", "json", "--jobs", "1", *TIMEOUT)
    again = run_cli(sub, "--seed", "987654", "--format", "json", "--jobs", "2", *TIMEOUT)
    default = run_cli(sub, "--format", "json", *TIMEOUT)
    assert first.returncode == again.returncode == default.returncode == 1
    assert first.stdout == again.stdout
    seeded, plain = json.loads(first.stdout), json.loads(default.stdout)
    assert seeded["score"] == plain["score"]          # the same answers are right or wrong
    assert full(by_name(seeded)["e06_dynamic_net"]) and full(by_name(seeded)["e07_training"])
    feedback = [[c["feedback"] for c in by_name(r)["e01_numpy_grads"]["checks"]]
                for r in (seeded, plain)]
    assert feedback[0] != feedback[1]                 # ...on other data (other numbers shown)


@pytest.mark.parametrize("seed", ["-1", str(2**64)])
def test_any_integer_seed_is_graded_or_refused_as_wrong_use(seed):
    done = run_cli("solutions", "--only", "e04_my_relu", "--format", "json", "--seed", seed)
    assert done.returncode in (0, 2), (done.returncode, done.stdout[:500], done.stderr[-500:])
    if done.returncode == 0:
        assert full(by_name(json.loads(done.stdout))["e04_my_relu"])
    else:
        assert done.stdout == ""


# == Grading a whole class ===============================================================

def _class(root: Path) -> Path:
    root.mkdir()
    alice = root / "alice"                                    # a folder of exercise files
    alice.mkdir()
    for name in COURSE:
        shutil.copy(SOLUTIONS / f"{name}.py", alice / f"{name}.py")
    (root / "bob.py").write_text(solution("e01_numpy_grads") + "\n" + solution("e04_my_relu"))
    (root / "carol.ipynb").write_text(notebook(*(solution(n) for n in COURSE)))
    (root / "dave").mkdir()                                   # handed in nothing
    # hostile: ends its own grading at import, and kills its sandbox process
    (root / "eve.py").write_text("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                 + solution("e01_numpy_grads"))
    (root / "notes.txt").write_text("not a submission")
    (root / ".git").mkdir()
    return root


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory):
    return _class(tmp_path_factory.mktemp("batch") / "class")


@pytest.fixture(scope="module")
def batch_json(class_dir):
    return run_cli("--batch", str(class_dir), "--format", "json", "--jobs", "2", *TIMEOUT)


@pytest.fixture(scope="module")
def batch_csv(class_dir):
    return run_cli("--batch", str(class_dir), "--format", "csv", "--jobs", "2", *TIMEOUT)


def test_batch_json_names_each_entry_and_grades_it_on_its_own(batch_json, solutions_json):
    assert batch_json.returncode == 0, batch_json.stderr[-2000:]   # whatever the scores
    data = json.loads(batch_json.stdout)                           # stdout: the report only
    # the contract's key, the class summary (issue 13), then confinement
    assert list(data) == ["submissions", "summary", "sandbox"]
    reports = {s["id"]: s for s in data["submissions"]}
    assert sorted(reports) == ["alice", "bob", "carol", "dave", "eve"]
    for report in reports.values():
        assert {"id", "score", "max_score", "exercises"} <= set(report)
        assert_report_shape(report)
    best = solutions_json[0]["score"]
    assert reports["alice"]["score"] == reports["carol"]["score"] == best
    bob = by_name(reports["bob"])
    assert full(bob["e01_numpy_grads"]) and full(bob["e04_my_relu"])
    assert_missing(bob["e02_tensor_grads"])
    assert reports["dave"]["score"] == 0
    assert all(e["score"] == 0 for e in reports["eve"]["exercises"])


def test_batch_progress_goes_to_stderr(batch_json):
    assert batch_json.stderr.strip()
    for student in ("alice", "bob", "carol", "dave", "eve"):
        assert student in batch_json.stderr


def test_batch_csv_is_the_contracts_gradebook(batch_csv, batch_json):
    assert batch_csv.returncode == 0, batch_csv.stderr[-2000:]
    lines = batch_csv.stdout.splitlines()
    # the contract's columns, in its order; then status and percent (issue 13)
    assert lines[0] == "id,score,max_score," + ",".join(COURSE) + ",status,percent"
    rows = list(csv.DictReader(io.StringIO(batch_csv.stdout)))
    assert [r["id"] for r in rows] == ["alice", "bob", "carol", "dave", "eve"]
    reports = {s["id"]: s for s in json.loads(batch_json.stdout)["submissions"]}
    for row in rows:
        report = reports[row["id"]]
        assert float(row["score"]) == pytest.approx(report["score"])
        assert float(row["max_score"]) == pytest.approx(report["max_score"])
        for exercise in report["exercises"]:
            assert float(row[exercise["name"]]) == pytest.approx(exercise["score"])


def test_an_empty_class_is_wrong_use_with_exit_2(tmp_path):
    """No submission in the folder: the wrong folder, said in one line (issue 13)."""
    (tmp_path / "class").mkdir()
    for format_name in ("csv", "json"):
        done = run_cli("--batch", str(tmp_path / "class"), "--format", format_name)
        assert done.returncode == 2 and done.stdout == ""
        assert "no submissions" in done.stderr


def test_a_broken_entry_is_still_graded_and_the_batch_exits_0(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "frank.ipynb").write_text("this is not a notebook {")
    (root / "gina.py").write_text(solution("e04_my_relu"))
    done = run_cli("--batch", str(root), "--format", "json", "--only", "e04_my_relu")
    assert done.returncode == 0, done.stderr[-2000:]
    reports = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}
    assert reports["frank"]["score"] == 0 and reports["gina"]["score"] > 0


def test_every_py_notebook_and_folder_entry_is_a_student(tmp_path):
    root = tmp_path / "class"
    (root / "_bob").mkdir(parents=True)
    (root / "_alice.py").write_text(solution("e04_my_relu"))
    (root / "_bob" / "e04_my_relu.py").write_text(solution("e04_my_relu"))
    (root / "carol.ipynb").write_text(notebook(solution("e04_my_relu")))
    done = run_cli("--batch", str(root), "--format", "csv", "--only", "e04_my_relu")
    assert done.returncode == 0
    ids = [row["id"] for row in csv.DictReader(io.StringIO(done.stdout))]
    assert sorted(ids) == ["_alice", "_bob", "carol"]


def test_a_hostile_submission_cannot_change_a_classmates_files(tmp_path):
    root = tmp_path / "class"
    (root / "mallory").mkdir(parents=True)
    (root / "zoe").mkdir()
    (root / "zoe" / "helpers.py").write_text("import numpy as np\n\n\ndef relu(h):\n"
                                             "    return np.maximum(h, 0)\n")
    (root / "zoe" / "e01_numpy_grads.py").write_text(
        "from helpers import relu\n" + replaced(solution("e01_numpy_grads"),
                                                "np.maximum(h, 0)", "relu(h)"))
    (root / "mallory" / "e01_numpy_grads.py").write_text(solution("e01_numpy_grads") + textwrap.dedent("""
        import glob, os, sys
        for path in glob.glob(os.path.join(os.path.dirname(sys.path[0]), "*", "*.py")):
            if "mallory" not in path:
                with open(path, "w") as handle:
                    handle.write("def relu(h):\\n    raise SystemExit('tampered')\\n")
        """))
    done = run_cli("--batch", str(root), "--format", "json", "--only", "e01_numpy_grads",
                   "--jobs", "1", *TIMEOUT)
    assert done.returncode == 0
    reports = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}
    assert full(by_name(reports["zoe"])["e01_numpy_grads"])


# == Notebooks and modules ================================================================

def test_notebook_cells_run_in_order_errors_reported_magics_skipped(tmp_path):
    e01 = replaced(solution("e01_numpy_grads"), "grad_y_pred = 2.0 *", "grad_y_pred = TWO *")
    path = tmp_path / "hw.ipynb"
    path.write_text(notebook(
        "# md:# Homework (markdown cells are not counted)",
        "%matplotlib inline\n!pip install nothing-at-all\nfiles = !ls\nTWO = 2.0\n%time x = 1",  # 1
        e01,                                                                    # 2: uses TWO
        "# md:more text",
        "raise ValueError('boom in the third code cell')",                      # 3: raises
        solution("e04_my_relu"),                                                # 4: still runs
        "def broken(:\n    pass",                                              # 5: syntax error
        "import sys\nsys.exit(3)",                                              # 6: exits
        solution("e06_dynamic_net"),                                            # 7: still runs
        "%%capture\nraise SystemExit('a cell magic cell ran')\n"                # 5: skipped
        "def numpy_two_layer_grads(*args):\n    raise RuntimeError('ran')",
        "%%time\nMyReLU = None",                                                # 6: skipped
    ))
    report, done = cli_json(str(path))
    exercises = by_name(report)
    assert full(exercises["e01_numpy_grads"]), exercises["e01_numpy_grads"]
    assert full(exercises["e04_my_relu"]), exercises["e04_my_relu"]
    assert full(exercises["e06_dynamic_net"]), exercises["e06_dynamic_net"]
    text = json.dumps(report)
    assert "boom in the third code cell" in text
    notes = " ".join(report.get("notes", []))
    for number in (3, 5, 6):        # code cells counted from 1, markdown cells not counted
        assert f"cell {number}" in notes, notes
    assert "cell 1" not in notes and "cell 8" not in notes


def test_a_failing_cell_is_reported_with_its_number_in_the_exercise_it_breaks(tmp_path):
    path = tmp_path / "hw.ipynb"
    path.write_text(notebook(solution("e04_my_relu"),
                             "undefined_name_here\n" + solution("e05_two_layer_net")))
    report, _ = cli_json(str(path))
    assert full(by_name(report)["e04_my_relu"])
    broken = by_name(report)["e05_two_layer_net"]
    assert broken["score"] == 0
    assert "cell 2" in broken.get("summary", ""), broken
    assert "NameError" in broken.get("summary", "")


def test_a_py_file_is_imported_as_a_module_main_block_does_not_run(tmp_path):
    (tmp_path / "e04_my_relu.py").write_text(solution("e04_my_relu") + textwrap.dedent("""
        if __name__ == "__main__":
            MyReLU = my_relu = None
            raise SystemExit("the demo ran")
        """))
    report, done = cli_json(str(tmp_path / "e04_my_relu.py"))
    assert full(by_name(report)["e04_my_relu"]), by_name(report)["e04_my_relu"]


# == Copying the reference ==================================================================

@pytest.mark.parametrize("line", [
    "from solutions.e04_my_relu import MyReLU, my_relu",
    "import importlib\n_m = importlib.import_module('sol' + 'utions.e04_my_relu')\n"
    "MyReLU, my_relu = _m.MyReLU, _m.my_relu",
    "import grader, pathlib\n"
    "exec((pathlib.Path(grader.__file__).parent.parent / 'solutions' / 'e04_my_relu.py')"
    ".read_text())",
], ids=["import", "dynamic import", "read the file"])
def test_importing_or_reading_solutions_earns_nothing_for_that_exercise(grade, line):
    report = grade({"e04_my_relu.py": line + "\n",
                    "e05_two_layer_net.py": solution("e05_two_layer_net")})
    assert exercise_result(report, "e04_my_relu").score == 0
    assert exercise_result(report, "e05_two_layer_net").full_marks


@pytest.mark.parametrize("kind", ["notebook", "module"])
def test_importing_solutions_costs_only_that_exercise_in_a_course_file(tmp_path, kind):
    copied = "from solutions.e04_my_relu import MyReLU, my_relu"
    if kind == "notebook":
        path = tmp_path / "course.ipynb"
        path.write_text(notebook(solution("e01_numpy_grads"), copied))
    else:
        path = tmp_path / "course.py"
        path.write_text(solution("e01_numpy_grads") + "\n" + copied + "\n")
    report, _ = cli_json(str(path), "--only", "e01_numpy_grads", "--only", "e04_my_relu")
    assert by_name(report)["e04_my_relu"]["score"] == 0
    assert full(by_name(report)["e01_numpy_grads"])


@pytest.mark.parametrize("line", [
    "import grader, pathlib, subprocess\n"
    "exec(subprocess.run(['cat', str(pathlib.Path(grader.__file__).parent.parent / 'solutions'"
    " / 'e06_dynamic_net.py')], capture_output=True, text=True).stdout)",
    "import grader, pathlib, os\n"
    "_d = os.open(str(pathlib.Path(grader.__file__).parent.parent), os.O_RDONLY)\n"
    "exec(os.read(os.open('solutions/e06_dynamic_net.py', os.O_RDONLY, dir_fd=_d), 1 << 20)"
    ".decode())",
], ids=["subprocess", "dir_fd"])
def test_reading_solutions_by_other_means_earns_nothing(grade, line):
    report = grade({"e06_dynamic_net.py": line + "\n"})
    assert exercise_result(report, "e06_dynamic_net").score == 0


def test_taking_the_graders_reference_model_from_sys_modules_earns_nothing(grade):
    report = grade({"e05_two_layer_net.py": "import sys\nTwoLayerNet = "
                    "sys.modules['grader.checks.training.models'].TwoLayerNet\n"})
    assert exercise_result(report, "e05_two_layer_net").score == 0


# == Rules per exercise =======================================================================

def test_each_exercise_is_graded_on_its_own(grade):
    """A broken TwoLayerNet costs only e05: e07 and e08 use the grader's own models."""
    files = {f"{n}.py": solution(n) for n in COURSE}
    files["e05_two_layer_net.py"] = replaced(
        solution("e05_two_layer_net"), "return self.linear2(torch.relu(self.linear1(x)))",
        "raise RuntimeError('broken')")
    report = grade(files)
    assert not exercise_result(report, "e05_two_layer_net").full_marks
    for name in COURSE:
        if name != "e05_two_layer_net":
            assert exercise_result(report, name).full_marks, name


E01 = solution("e01_numpy_grads")
E02 = solution("e02_tensor_grads")
E03 = solution("e03_autograd")
E04 = solution("e04_my_relu")
E05 = solution("e05_two_layer_net")
E06 = solution("e06_dynamic_net")
E07 = solution("e07_training")
E08 = solution("e08_checkpoint")

#: Correct answers that differ in what the contract allows: each must get full marks.
CORRECT = {
    "e01 float32 returns, numpy scalar loss, <= 0, einsum": ("e01_numpy_grads", replaced(replaced(replaced(
        E01, "loss = float(np.square(y_pred - y).sum())", "loss = np.float32(np.square(y_pred - y).sum())"),
        "return loss, grad_w1, grad_w2", "return loss, grad_w1.astype(np.float32), "
        "np.einsum('nh,nd->hd', h_relu, grad_y_pred).astype(np.float32)"),
        "grad_h[h < 0] = 0", "grad_h[h <= 0] = 0")),
    "e01 train with new arrays, numpy losses": ("e01_numpy_grads", replaced(replaced(replaced(
        E01, "losses.append(loss)", "losses.append(np.float64(loss))"),
        "w1 -= learning_rate * grad_w1", "w1 = w1 - learning_rate * grad_w1"),
        "w2 -= learning_rate * grad_w2", "w2 = w2 - learning_rate * grad_w2")),
    "e02 float64 returns, numpy loss, where, einsum": ("e02_tensor_grads", replaced(replaced(replaced(
        E02, "h_relu = h.clamp(min=0)", "h_relu = torch.where(h > 0, h, torch.zeros_like(h))"),
        "return loss, grad_w1, grad_w2", "return np.float64(loss), grad_w1.double(), "
        "torch.einsum('nh,nd->hd', h_relu, grad_y_pred).double()"),
        "import torch", "import numpy as np\nimport torch")),
    "e02 float32 arithmetic inside, numpy float32 loss": ("e02_tensor_grads", replaced(replaced(
        E02, "h = x.mm(w1)", "x, y, w1, w2 = x.float(), y.float(), w1.float(), w2.float()\n"
        "    h = x.mm(w1)"),
        "import torch", "import torch\nimport numpy as np")),
    "e02 poly as float64 and numpy loss": ("e02_tensor_grads", replaced(replaced(
        E02, "    return loss, grads\n", "    return np.float32(loss), grads.double()\n"),
        "import torch", "import torch\nimport numpy as np")),
    "e03 pure clones, float64 grads, grads zeroed before backward": ("e03_autograd", replaced(replaced(
        E03, "return loss.item(), w1.grad, w2.grad", "return loss.item(), w1.grad.double(), w2.grad.double()"),
        "        losses.append(loss.item())\n        loss.backward()",
        "        losses.append(loss.item())\n        if w1.grad is not None:\n"
        "            w1.grad = None\n            w2.grad = None\n        loss.backward()")),
    "e04 forward rewritten, output saved, <= 0": ("e04_my_relu", textwrap.dedent("""\
        import torch


        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                output = torch.where(input > 0, input, torch.zeros_like(input))
                ctx.save_for_backward(output)
                return output

            @staticmethod
            def backward(ctx, grad_output):
                (output,) = ctx.saved_tensors
                return grad_output * (output > 0).to(grad_output.dtype)


        my_relu = MyReLU.apply
        """)),
    "e05 layers built in reverse order, nn.ReLU submodule": ("e05_two_layer_net", textwrap.dedent("""\
        from torch import nn


        class TwoLayerNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.linear2 = nn.Linear(H, D_out)
                self.relu = nn.ReLU()
                self.linear1 = nn.Linear(D_in, H)

            def forward(self, x):
                return self.linear2(self.relu(self.linear1(x)))
        """)),
    "e06 numpy randomness, nn.ReLU submodule": ("e06_dynamic_net", replaced(replaced(
        E06, "for _ in range(random.randint(0, 3)):", "for _ in range(int(np.random.randint(0, 4))):"),
        "        self.output_linear = nn.Linear(H, D_out)",
        "        self.output_linear = nn.Linear(H, D_out)\n        self.act = nn.ReLU()")
        .replace("import random", "import random\nimport numpy as np")),
    "e06 torch randomness, reversed construction": ("e06_dynamic_net", textwrap.dedent("""\
        import torch
        from torch import nn


        class DynamicNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.output_linear = nn.Linear(H, D_out)
                self.middle_linear = nn.Linear(H, H)
                self.input_linear = nn.Linear(D_in, H)

            def forward(self, x):
                h = self.input_linear(x).clamp(min=0)
                for _ in range(int(torch.randint(0, 4, ()).item())):
                    h = self.middle_linear(h).clamp(min=0)
                return self.output_linear(h)
        """)),
    "e06 secrets randomness": ("e06_dynamic_net", replaced(
        E06, "random.randint(0, 3)", "secrets.randbelow(4)").replace(
        "import random", "import secrets")),
    "e07 zero_grad last, evaluate restores the mode": ("e07_training", replaced(replaced(
        E07, "        optimizer.zero_grad()\n        loss.backward()\n        optimizer.step()\n",
        "        loss.backward()\n        optimizer.step()\n        optimizer.zero_grad()\n"),
        "    model.eval()\n    with torch.inference_mode():\n"
        "        return torch.nn.functional.mse_loss(model(x), y, reduction=\"sum\").item()",
        "    was_training = model.training\n    model.eval()\n    with torch.inference_mode():\n"
        "        loss = torch.nn.functional.mse_loss(model(x), y, reduction=\"sum\").item()\n"
        "    model.train(was_training)\n    return loss")),
    "e03 numpy scalar losses": ("e03_autograd", replaced(replaced(replaced(
        E03, "return loss.item(), w1.grad, w2.grad", "return np.float32(loss.item()), w1.grad, w2.grad"),
        "losses.append(loss.item())", "losses.append(np.float32(loss.item()))"),
        "import torch", "import numpy as np\nimport torch")),
    "e07 evaluate returns a numpy scalar": ("e07_training", replaced(replaced(
        E07, "        return torch.nn.functional.mse_loss(model(x), y, reduction=\"sum\").item()",
        "        return np.float32(torch.nn.functional.mse_loss(model(x), y, reduction=\"sum\").item())"),
        "import torch", "import numpy as np\nimport torch")),
    "e08 another format, str and PathLike through open()": ("e08_checkpoint", textwrap.dedent("""\
        import os

        import torch


        def save_checkpoint(path, model, optimizer, epoch):
            with open(os.fspath(path), "wb") as handle:
                torch.save([epoch, model.state_dict(), optimizer.state_dict()], handle)


        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            epoch, model_state, optimizer_state = torch.load(
                path, map_location=map_location, weights_only=True)
            model.load_state_dict(model_state)
            if optimizer is not None:
                optimizer.load_state_dict(optimizer_state)
            return int(epoch)
        """)),
}


@pytest.mark.parametrize("variant", sorted(CORRECT))
def test_correct_answers_written_otherwise_get_full_marks(grade, variant):
    exercise, source = CORRECT[variant]
    report = grade({f"{exercise}.py": source})
    result = exercise_result(report, exercise)
    failing = {c.name: (c.status, c.feedback[:300]) for c in result.checks
               if c.status not in ("passed", "skipped")}
    assert result.full_marks and not failing, failing


#: Answers that break one of the contract's rules: the named check must not pass.
BROKEN = {
    "e01 grads not pure (changes x)": ("e01_numpy_grads", replaced(
        E01, "    return loss, grad_w1, grad_w2", "    x *= 2.0\n    return loss, grad_w1, grad_w2"),
        "leaves_inputs_alone"),
    "e02 grads not pure (changes w1)": ("e02_tensor_grads", replaced(
        E02, "    return loss, grad_w1, grad_w2", "    w1.mul_(2.0)\n    return loss, grad_w1, grad_w2"),
        "leaves_inputs_alone"),
    "e03 grads make the caller's tensors require grad": ("e03_autograd", replaced(
        E03, "    w1 = w1.detach().clone().requires_grad_(True)\n"
        "    w2 = w2.detach().clone().requires_grad_(True)\n    y_pred",
        "    w1.requires_grad_(True)\n    w2.requires_grad_(True)\n    y_pred"),
        "leaves_inputs_alone"),
    "e07 losses kept as tensors": ("e07_training", replaced(
        E07, "losses.append(loss.item())", "losses.append(loss.detach())"), "losses_are_floats"),
    "e08 the whole model pickled": ("e08_checkpoint", replaced(
        E08, '{"model": model.state_dict(),', '{"model": model,'), "weights_only_file"),
    "e08 a path that must be a str": ("e08_checkpoint", replaced(
        E08, "        path,\n    )", "        path + '',\n    )"), "path_like"),
    "e08 epoch returned as a float": ("e08_checkpoint", replaced(
        E08, 'return int(checkpoint["epoch"])', 'return float(checkpoint["epoch"])'),
        "returns_epoch"),
}


@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_breaking_a_rule_loses_its_check(grade, variant):
    exercise, source, check = BROKEN[variant]
    report = grade({f"{exercise}.py": source})
    status = {c.name: c.status for c in exercise_result(report, exercise).checks}
    assert status[check] != "passed", status
