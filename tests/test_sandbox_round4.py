"""Red team, round 4: the sandbox's trust boundary, the grader's own process, its cache and
its reports. 66 hostile submissions were graded (a batch under fork and spawn, the report
formats on the odd ones); these are the cases that found a defect (each fails on the code
before this round's fixes) and a handful that prove a defence holds.

The defects: `python -m grader` started in a course folder imported a student folder named
`numpy` into the grader itself; a worker read the reference's outputs from a reference
cache kept inside its own folder (a stub got full marks); a cache folder others may write
in let a student plant their outputs as the reference; /proc/self/environ and
/proc/self/cmdline showed a worker the grader's whole environment (the course key
included); a folder whose name is not UTF-8 made the class's JSON report unreadable; ten
dense 2 MB files cost minutes of the grader's own time.

One batch (module-scoped) holds most cases; it is graded from inside its own folder (the
`numpy` entry is there to be imported by mistake), with a reference cache inside the cache
reader's folder that a first, smaller run fills.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, solution_source
from grader import confine
from grader.code_facts import code_facts, imported_modules
from grader.loaders import MAX_SOURCE_BYTES, load_paths
from grader.protocol import DoneFrame, Job, LoadedFrame
from grader.refcache import ReferenceCache
from grader.sandbox import Outcome

E01, E02 = "e01_numpy_grads", "e02_tensor_grads"
SANDBOX = confine.available()
LANDLOCK = SANDBOX["filesystem"] == "landlock"
NO_LANDLOCK = "no Landlock here: a worker may read any file the grader's user may"
CANARY = f"torchkit-canary-{uuid.uuid4().hex}"
SEEDS_KEY = f"torchkit-key-{uuid.uuid4().hex}"
SHADOWED = f"torchkit-shadowed-{uuid.uuid4().hex}"
NOT_UTF8 = b"bad_\xff\xfe_name"
FAKE_PROGRESS = "x: 0\n[9 of 9] graded alice"


def good() -> str:
    return solution_source(E01)


def around(body: str) -> str:
    """The reference e01 with `body` run at the start of both public functions."""
    return good() + "\n\ndef _hostile():\n" + textwrap.indent(textwrap.dedent(body), "    ") + \
        textwrap.dedent("""

        _grads, _train = numpy_two_layer_grads, numpy_train

        def numpy_two_layer_grads(*args, **kwargs):
            _hostile()
            return _grads(*args, **kwargs)

        def numpy_train(*args, **kwargs):
            _hostile()
            return _train(*args, **kwargs)
        """)


def returning(loss: str = "_r[0]", grad_w1: str = "_r[1]", prelude: str = "") -> str:
    """The reference e01 whose numpy_two_layer_grads returns other expressions of `_r`."""
    return good() + textwrap.dedent(prelude) + textwrap.dedent(f"""

        _grads = numpy_two_layer_grads

        def numpy_two_layer_grads(*args, **kwargs):
            _r = _grads(*args, **kwargs)
            return ({loss}, {grad_w1}, _r[2])
        """)


# Sends the cached reference's outputs as its own: the probes, which it may reach, are made
# to return the cached results as they are (a stub otherwise: NotImplementedError).
CACHE_READER = textwrap.dedent("""
    import glob, json, os, sys
    from grader import codec, protocol

    def numpy_two_layer_grads(x, y, w1, w2):
        raise NotImplementedError

    def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        raise NotImplementedError

    _files = glob.glob(os.path.join(os.environ.get("GRADER_CACHE_DIR", ""), "e01_*.json"))
    print("CACHE FILES", len(_files))
    if _files:
        _raw = {f.probe: f.result for f in map(protocol.decode_frame,
                                                json.load(open(_files[0]))["frames"])
                if isinstance(f, protocol.ProbeFrame) and f.variant is None and f.returned}

        class _Raw:
            def __init__(self, plain):
                self.plain = plain

        _plain = codec.to_plain
        codec.to_plain = lambda v, depth=0: v.plain if isinstance(v, _Raw) else _plain(v, depth)
        _frame, _probes = sys._getframe(), {}
        while _frame is not None and not _probes:
            _probes = getattr(_frame.f_locals.get("exercise"), "probes", {})
            _frame = _frame.f_back
        for _name, _result in _raw.items():
            if _name in _probes:
                _probes[_name].__globals__["_RAW_" + _name] = _Raw(_result)
                _probes[_name].__code__ = compile(
                    f"def f(sub, inputs): return _RAW_{_name}", "x", "exec").co_consts[0]
    """)

START_READER = textwrap.dedent("""
    print("ENVIRON", open("/proc/self/environ", "rb").read())
    print("CMDLINE", open("/proc/self/cmdline", "rb").read())
    """) + good()

# Raw frames on the result channel that the decoder must refuse without a crash.
DECODER_BOMBS = textwrap.dedent("""
    import json, os, struct
    import numpy as np

    def numpy_two_layer_grads(x, y, w1, w2):
        return 0.0, np.zeros_like(w1), np.zeros_like(w2)

    def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        return w1, w2, [0.0] * steps

    _frames = [{"kind": "probe", "probe": "grads", "variant": None,
                "result": {"__ndarray__": [1, 2]}},
               {"kind": "probe", "probe": "train", "variant": None,
                "result": {"__tensor__": {"dtype": "float64", "shape": 5, "data": 3}}}]
    _raw = [json.dumps(f).encode() for f in _frames] + [
        b'{"kind":"probe","probe":"x","variant":null,"result":' + b"[" * 200000
        + b"]" * 200000 + b"}",
        b'{"kind":"probe","probe":"y","variant":null,"result":1e999999}']
    for _fd in os.listdir("/proc/self/fd"):
        try:
            _link = os.readlink(f"/proc/self/fd/{_fd}")
        except OSError:
            continue
        if int(_fd) > 2 and _link.startswith("pipe:"):
            for _data in _raw:
                try:
                    os.write(int(_fd), struct.pack("!I", len(_data)) + _data)
                except OSError:
                    pass
    os._exit(0)
    """)


def notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c, "metadata": {},
                                  "outputs": [], "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


ENTRIES: dict[str, dict[str, str]] = {
    "cache_reader": {f"{E01}.py": CACHE_READER},
    "start_reader": {f"{E01}.py": START_READER},
    "strided_views_correct": {f"{E01}.py": returning(
        grad_w1="np.lib.stride_tricks.as_strided(np.asfortranarray(_r[1])[::-1][::-1], "
                "_r[1].shape, np.asfortranarray(_r[1])[::-1][::-1].strides)")},
    "huge_int_loss": {f"{E01}.py": returning(loss="10**400")},
    "float_subclass_lies": {f"{E01}.py": returning(loss="_F(0.0)", prelude="""
        class _F(float):
            def __repr__(self): return '650.0'
            def __float__(self): return 650.0
            def __eq__(self, other): return True
            def __sub__(self, other): return 0.0
            def __rsub__(self, other): return 0.0
            def __abs__(self): return 0.0
        """)},
    "slow_repr": {f"{E01}.py": returning(grad_w1="_Slow()", prelude="""
        import time as _time
        class _Slow:
            def __repr__(self):
                _time.sleep(100)
                return 'slow'
        """)},
    "exception_str_raises": {f"{E01}.py": around("""
        class _E(Exception):
            def __str__(self): raise RuntimeError('no str')
            def __repr__(self): raise RuntimeError('no repr')
        raise _E()
        """)},
    "base_exception": {f"{E01}.py": around("""
        class _B(BaseException):
            pass
        raise _B('not an Exception')
        """)},
    "decoder_bombs": {f"{E01}.py": DECODER_BOMBS},
    "huge_type_name": {f"{E01}.py": returning(grad_w1="_T()", prelude="""
        _T = type("\\x1b[2J" + "A" * 5_000_000, (), {})
        """)},
    "huge_skip_reason": {f"{E01}.py": around("""
        from grader.exercise import Skip
        raise Skip("\\x1b[2J" + "B" * 5_000_000)
        """)},
    "nb_deep_json": {"course.ipynb": "[" * 200000 + "]" * 200000},
    "nb_prints_cell_marks": {"course.ipynb": notebook(
        good(), "print('\\x00torchkit cell 999999999999999999999\\x00\\nstolen\\n"
                "\\x00torchkit cell -5\\x00\\n\\x00torchkit cell 1e9\\x00')")},
    "numpy": {"__init__.py": textwrap.dedent(f"""
        import importlib, os, sys
        open(os.path.join(os.path.dirname(__file__), "..", {SHADOWED!r}), "w").close()
        _here = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
        del sys.modules["numpy"]
        sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _here]
        sys.modules["numpy"] = importlib.import_module("numpy")
        globals().update(sys.modules["numpy"].__dict__)
        """), f"{E01}.py": good()},
    FAKE_PROGRESS: {f"{E01}.py": good()},
}


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / f"{E02}.py").write_text(solution_source(E02))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """(reports by id, stdout bytes, stderr, the batch folder)."""
    root = tmp_path_factory.mktemp("round4")
    entries = root / "class"
    for name, files in ENTRIES.items():
        _write(entries / name, files)
    _write(Path(os.fsdecode(bytes(entries) + b"/" + NOT_UTF8)), {f"{E01}.py": good()})
    cache = entries / "cache_reader" / ".cache"
    env = {"GRADER_CACHE_DIR": str(cache)}
    filled = run_cli(str(ROOT / "solutions"), "--only", E01, "--format", "json", env=env)
    assert filled.returncode == 0, filled.stderr[-2000:]
    assert list(cache.glob(f"{E01}-*.json"))
    done = subprocess.run(
        [sys.executable, "-m", "grader", "--batch", ".", "--format", "json", "--only", E01,
         "--only", E02, "--timeout", "5", "--jobs", "2"],
        cwd=entries, capture_output=True, timeout=600,
        env={**os.environ, **env, "TORCHKIT_CANARY": CANARY,
             "GRADER_STUDENT_SEEDS_KEY": SEEDS_KEY})
    assert done.returncode in (0, 1), done.stderr[-3000:]
    text = done.stdout.decode("utf-8")      # strictly: the report is valid UTF-8
    reports = {r["id"]: r for r in json.loads(text)["submissions"]}
    return reports, done.stdout, done.stderr.decode("utf-8", "replace"), entries


def exercise(report: dict, name: str = E01) -> dict:
    return next(e for e in report["exercises"] if e["name"] == name)


def statuses(report: dict, name: str = E01) -> set[str]:
    return {c["status"] for c in exercise(report, name)["checks"]}


def feedback(report: dict, name: str = E01) -> str:
    return " ".join(c["feedback"] for c in exercise(report, name)["checks"]).lower()


def test_every_entry_is_reported_and_its_neighbour_keeps_full_marks(batch):
    reports, _, _, _ = batch
    assert len(reports) == len(ENTRIES) + 1
    for sid, report in reports.items():
        if sid != NOT_UTF8.decode("utf-8", "replace"):
            assert exercise(report, E02)["score"] == exercise(report, E02)["max_score"], sid


def test_a_start_folder_holding_a_numpy_package_is_not_imported_by_the_grader(batch):
    """`python -m grader` put its start folder (here the class folder) first on sys.path."""
    _, _, _, entries = batch
    assert not (entries / SHADOWED).exists()


@pytest.mark.skipif(not LANDLOCK, reason=NO_LANDLOCK)
def test_a_reference_cache_inside_the_submission_is_not_readable(batch):
    reports, _, _, _ = batch
    report = reports["cache_reader"]
    assert exercise(report)["score"] == 0, report
    assert "CACHE FILES 0" in exercise(report)["output"]


def test_a_worker_does_not_see_the_graders_start_environment_or_command_line(batch):
    reports, raw, stderr, _ = batch
    output = exercise(reports["start_reader"])["output"]
    assert "ENVIRON" in output and "CMDLINE" in output, output[:2000]
    assert CANARY not in output and SEEDS_KEY not in output
    assert "--batch" not in output
    assert exercise(reports["start_reader"])["score"] == 10


def test_a_folder_name_that_is_not_utf8_keeps_the_json_report_valid(batch):
    reports, raw, _, _ = batch
    raw.decode("utf-8")
    assert exercise(reports[NOT_UTF8.decode("utf-8", "replace")])["score"] == 10


def test_a_folder_name_with_a_newline_makes_no_progress_line_of_its_own(batch):
    _, _, stderr, _ = batch
    assert not any(line.startswith("[9 of 9] graded alice") for line in stderr.splitlines())


@pytest.mark.parametrize("name, status, phrase", [
    ("huge_int_loss", "error", "overflowerror"),
    ("slow_repr", "timeout", "too long"),
    ("exception_str_raises", "error", "unprintable"),
    ("base_exception", "error", "not an exception"),
    ("decoder_bombs", "failed", "tampered"),
])
def test_hostile_values_and_exceptions_get_a_clear_verdict_and_no_marks(batch, name, status,
                                                                        phrase):
    reports, _, _, _ = batch
    report = reports[name]
    assert exercise(report)["score"] == 0
    assert status in statuses(report), statuses(report)
    assert phrase in feedback(report)


@pytest.mark.parametrize("name", ["huge_type_name", "huge_skip_reason"])
def test_text_a_submission_chooses_is_cut_in_its_feedback(batch, name):
    """A 5 MB class name (or Skip reason) made 5 MB of feedback per check."""
    reports, raw, _, _ = batch
    checks = exercise(reports[name])["checks"]
    assert any(c["status"] != "passed" for c in checks)
    assert all(len(c["feedback"]) <= 4000 for c in checks)
    assert len(raw) < 4_000_000


def test_a_float_subclass_that_lies_is_judged_by_its_value(batch):
    reports, _, _, _ = batch
    checks = {c["name"]: c["status"] for c in exercise(reports["float_subclass_lies"])["checks"]}
    assert checks["loss"] == "failed" and checks["grad_w1"] == "passed"


def test_correct_values_in_odd_strides_and_cell_marks_in_prints_keep_full_marks(batch):
    reports, _, _, _ = batch
    for name in ("strided_views_correct", "nb_prints_cell_marks", "numpy", FAKE_PROGRESS):
        assert exercise(reports[name])["score"] == 10, (name, feedback(reports[name]))


def test_a_notebook_that_is_not_json_is_reported_missing(batch):
    reports, _, _, _ = batch
    assert "not found" in feedback(reports["nb_deep_json"])


def test_a_cache_folder_others_may_write_in_is_not_used(tmp_path, monkeypatch):
    """Its file names follow from the kit: a student who can write there plants outputs."""
    job = Job(role="reference", seed=7, exercise=E01)
    outcome = Outcome(job, frames=[LoadedFrame(), DoneFrame()])
    for mode, used in ((0o700, True), (0o777, False)):
        folder = tmp_path / f"cache{mode:o}"
        folder.mkdir()
        folder.chmod(mode)
        monkeypatch.setenv("GRADER_CACHE_DIR", str(folder))
        monkeypatch.delenv("GRADER_NO_CACHE", raising=False)
        cache = ReferenceCache([], ["reference"])
        cache.store(7, E01, outcome)
        if not used:   # planted by someone else, readable: still not used
            (folder / f"{E01}-7-{cache.key}.json").write_text(
                json.dumps({"frames": [f.to_json() for f in outcome.frames]}))
        assert (cache.load(7, E01, job) is not None) == used, oct(mode)


def test_a_submission_holds_at_most_one_files_worth_of_code(tmp_path):
    """Parsing is the grader's own time: ten dense 2 MB files took minutes of it."""
    folder = tmp_path / "big"
    folder.mkdir()
    third = MAX_SOURCE_BYTES // 3 + 1
    for index in range(3):
        (folder / f"e0{index}_x.py").write_text("#" * (third - 1) + "\n")
    submission = load_paths([folder], "big")
    assert len(submission.sources) == 2
    assert any("does not fit" in problem for problem in submission.problems)


def test_code_is_parsed_once_and_import_calls_are_still_found():
    code = "x = 1\n" * 10
    assert code_facts(code) is code_facts(code)
    assert imported_modules("import importlib\n"
                            "importlib.import_module('\\x73olutions.e01_numpy_grads')\n") \
        == ("importlib", "solutions.e01_numpy_grads")
    assert "solutions.e01_numpy_grads" in imported_modules(
        "__import__('solutions.e01_numpy_grads')\n")
    assert imported_modules("if True:\n    try:\n        import solutions.e01_numpy_grads\n"
                            "    except Exception:\n        pass\n") \
        == ("solutions.e01_numpy_grads",)


def test_a_reference_handed_on_by_another_exercises_worker_voids_its_exercise(tmp_path):
    """Without Landlock the guard still sees reads of the references: e02's worker read
    e01's solution and left it where e01's worker took it; the read was only weighed
    against e02 (it names e01), and e01 got full marks."""
    drop = tmp_path / "handed_on.py"
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / f"{E01}.py").write_text(textwrap.dedent(f"""
        import os, time
        for _ in range(80):
            if os.path.exists({str(drop)!r}):
                break
            time.sleep(0.1)
        exec(open({str(drop)!r}).read())
        """))
    (folder / f"{E02}.py").write_text(textwrap.dedent(f"""
        import os
        with open({str(drop) + ".tmp"!r}, "w") as _out:
            _out.write(open({str(ROOT / "solutions" / f"{E01}.py")!r}).read())
        os.replace({str(drop) + ".tmp"!r}, {str(drop)!r})
        """) + solution_source(E02))
    done = run_cli(str(folder), "--only", E01, "--only", E02, "--jobs", "2", "--format",
                   "json", env={"GRADER_SANDBOX_OFF": "filesystem"})
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert drop.exists()
    assert exercise(report, E01)["score"] == 0
    assert "reference solutions" in feedback(report, E01)
    assert exercise(report, E02)["score"] == 10


def test_a_students_own_module_named_solutions_is_not_copying(tmp_path):
    """A helper file of the student's own called solutions.py is theirs to import; the
    kit's solutions stay out of reach (a module of theirs shadows the kit's package)."""
    (tmp_path / "solutions.py").write_text(
        "import torch\n\n\ndef relu_mask(x):\n    return (x > 0).to(x.dtype)\n")
    (tmp_path / "e04_my_relu.py").write_text(
        "from solutions import relu_mask\n" + solution_source("e04_my_relu"))
    done = run_cli(str(tmp_path), "--only", "e04", "--format", "json")
    e04 = json.loads(done.stdout)["exercises"][0]
    assert e04["score"] == e04["max_score"] > 0, e04["checks"][0]["feedback"]
    (tmp_path / "e04_my_relu.py").write_text(
        "from solutions.e04_my_relu import MyReLU, my_relu\n")   # the kit's: still copying
    (tmp_path / "solutions.py").unlink()
    e04 = json.loads(run_cli(str(tmp_path), "--only", "e04", "--format", "json").stdout)
    assert e04["exercises"][0]["score"] == 0
    assert "reference" in e04["exercises"][0]["summary"] + e04["exercises"][0]["checks"][0]["feedback"]
