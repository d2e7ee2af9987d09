"""Hostile submissions: each costs its own exercise, with a clear verdict, and nothing else.

Every case below puts something hostile in `e01_numpy_grads` (the victim) and, unless
said otherwise, the kit's own solution of every other exercise beside it. The victim
gets the status asserted here on every check, with feedback a student understands;
every other exercise still gets full marks; the grader never raises.

All the cases are graded in one batch by the session grader (5 s per exercise, two
workers), so that the slow ones (timeouts) overlap and the file stays fast. Whatever
the other exercises' checks become, the assertions hold: "every exercise but the
victim has full marks".
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import (BACKEND, ROOT, SIGNALS_ITS_PARENT, SOLUTIONS, TEST_TIMEOUT,
                      exercise_result, run_cli, solution_source)
from grader import confine
from grader.loaders import load_paths
from grader.model import Report

VICTIM = "e01_numpy_grads"
#: Where workers are confined (Landlock scopes), a signal to the sandbox is refused: the
#: submission fails with its own error. Elsewhere the signal lands, and costs only it.
PIDS_ISOLATED = confine.available()["pids"] == "isolated"
KILL_REFUSED = ("permissionerror", "operation not permitted")
ZYGOTE_KILLED = ("killed the grader's sandbox", "no credit")
#: In the command line of every process a hostile submission starts, to find strays.
MARKER = f"torchkit-hostile-{uuid.uuid4().hex}"
SOLUTION_FILE = SOLUTIONS / f"{VICTIM}.py"


# ---------------------------------------------------------------- submissions

def good() -> str:
    """The reference e01 (read when needed, not at import)."""
    return solution_source(VICTIM)


def around(body: str) -> str:
    """The reference e01, with `body` run at the start of both public functions."""
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


WRONG = textwrap.dedent("""
    import numpy as np


    def numpy_two_layer_grads(x, y, w1, w2):
        return 0.0, np.zeros_like(w1), np.zeros_like(w2)


    def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        return w1, w2, [0.0] * steps
    """)

# Everything a student might patch so that any comparison says "equal".
PATCHES = textwrap.dedent("""
    import numpy, numpy.testing, torch, torch.testing
    numpy.allclose = lambda *a, **k: True
    numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
    numpy.array_equal = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    torch.allclose = lambda *a, **k: True
    torch.equal = lambda *a, **k: True
    torch.testing.assert_close = lambda *a, **k: None

    import grader.checks.two_layer.judges, grader.exercise, grader.judging
    from grader.exercise import Verdict
    for _module in (grader.judging, grader.checks.two_layer.judges):
        for _name in dir(_module):
            if _name.startswith(("judge", "compare")) and callable(getattr(_module, _name)):
                setattr(_module, _name, lambda *a, **k: Verdict(1.0))
    grader.exercise.Verdict.passed = property(lambda self: True)
    """)

SPAWN = textwrap.dedent(f"""
    import os, subprocess
    # in the worker's process group
    subprocess.Popen([{MARKER!r}, "1000"], executable="sleep")
    # in a session of its own, out of the worker's group
    subprocess.Popen([{MARKER!r}, "1000"], executable="sleep", start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # a daemon: double fork, new session, the middle process gone
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", [{MARKER!r}, "1000"])
        os._exit(0)
    """)

FORGE = textwrap.dedent("""
    import json, os, struct
    for _fd in os.listdir("/proc/self/fd"):
        try:
            _link = os.readlink(f"/proc/self/fd/{_fd}")
        except OSError:
            continue
        if int(_fd) > 2 and _link.startswith("pipe:"):
            for _frame in ({"kind": "loaded", "load_error": "boom", "cell_errors": [1],
                            "missing": 5},
                           {"kind": "probe", "probe": "grads", "variant": [1], "error": "x"},
                           {"kind": "probe", "probe": "train", "variant": None}):
                _data = json.dumps(_frame).encode()
                try:
                    os.write(int(_fd), struct.pack("!I", len(_data)) + _data)
                    os.write(int(_fd), struct.pack("!I", 5) + b"[[[[[")
                except OSError:
                    pass
    """)

# Look for the reference solution in the worker's own memory (the grader's objects:
# a loaded `Source` of the kit's solutions/ has the code and the path).
GC_SCAN = textwrap.dedent(f"""
    import gc
    for _o in gc.get_objects():
        try:
            _code, _path = getattr(_o, "code", None), str(getattr(_o, "path", ""))
        except Exception:
            continue
        if isinstance(_code, str) and _path.startswith({str(SOLUTIONS) + os.sep!r}):
            print("FOUND THE REFERENCE in", type(_o).__name__, _path)
            exec(_code)
            break
    """)

IMPORTLIB = textwrap.dedent(f"""
    import importlib.util
    _spec = importlib.util.spec_from_file_location("copied", {str(SOLUTION_FILE)!r})
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    numpy_two_layer_grads, numpy_train = _module.numpy_two_layer_grads, _module.numpy_train
    """)

QUIET_IMPORT = textwrap.dedent("""
    try:
        from solutions.e01_numpy_grads import numpy_two_layer_grads, numpy_train
    except Exception:
        pass
    """)


# A class whose every dunder raises, returned instead of numbers and arrays.
WEIRD = textwrap.dedent("""
    class Weird:
        def __repr__(self): raise RuntimeError("no repr")
        def __eq__(self, other): raise RuntimeError("no eq")
        def __float__(self): raise RuntimeError("no float")
        def __len__(self): raise RuntimeError("no len")
        def __iter__(self): raise RuntimeError("no iter")
        def __getattr__(self, name): raise RuntimeError("no " + name)
    """)


@dataclass(frozen=True)
class Case:
    source: Callable[[], str | bytes]  # the victim's file
    status: str                       # of every check of the victim
    phrases: tuple[str, ...] = ()     # in every check's feedback (case-insensitive)
    others: bool = True               # the other exercises' solutions beside it
    link: str = ""                    # "symlink"/"hardlink": the file is a link to SOLUTION_FILE


CASES: dict[str, Case] = {
    # limits
    "timeout_in_function": Case(lambda: around(SPAWN + "\nwhile True:\n    pass\n"),
                                "timeout", ("took too long",)),
    "timeout_at_import": Case(lambda: good() + "\nwhile True:\n    pass\n",
                              "timeout", ("took too long",)),
    "stops_itself": Case(lambda: around("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"),
                         "timeout", ("took too long",), others=False),
    "allocates_200_gb_in_function": Case(
        lambda: around("import numpy\nnumpy.ones(200 * 10**9 // 8)"),
        "error", ("more memory than allowed",)),
    "allocates_200_gb_at_import": Case(
        lambda: "import torch\n_big = torch.ones(50 * 10**9)\n" + good(),
        "error", ("memory",), others=False),
    "prints_20_mb": Case(lambda: good() + "\nprint('x' * 20_000_000)\n"
                         + "import sys\nsys.stderr.write('e' * 5_000_000)\n",
                         "passed"),
    "starts_processes": Case(lambda: good() + SPAWN, "passed"),
    # crashes
    "sys_exit_at_import": Case(lambda: "import sys\nsys.exit(3)\n" + good(),
                               "error", ("sys.exit()",)),
    "sys_exit_in_function": Case(lambda: around("raise SystemExit(4)"),
                                 "error", ("sys.exit()",), others=False),
    "os_exit_in_function": Case(lambda: around("import os\nos._exit(3)"),
                                "error", ("died", "exit code 3")),
    "os_exit_at_import": Case(lambda: "import os\nos._exit(0)\n" + good(),
                              "error", ("died",), others=False),
    "segfault_in_function": Case(lambda: around("import ctypes\nctypes.string_at(0)"),
                                 "error", ("died", "SIGSEGV")),
    "segfault_at_import": Case(lambda: "import ctypes\nctypes.string_at(0)\n" + good(),
                               "error", ("died", "SIGSEGV"), others=False),
    "syntax_error": Case(lambda: "import numpy as np\n\ndef numpy_two_layer_grads(x, y, w1, w2)\n"
                         "    return 1\n", "error", ("syntax error", "line 3")),
    "empty_file": Case(lambda: "", "error", ("is empty",)),
    "only_comments": Case(lambda: "# TODO: everything\n\n", "error", ("is empty",), others=False),
    "kills_its_zygote": Case(lambda: good() + "\nimport os, signal\n"
                             "os.kill(os.getppid(), signal.SIGKILL)\n",
                             "error", KILL_REFUSED if PIDS_ISOLATED else ZYGOTE_KILLED),
    # the reference solutions
    "imports_solutions": Case(lambda: "from solutions.e01_numpy_grads import *\n",
                              "failed", ("reference solutions", "no credit")),
    "imports_solutions_quietly": Case(lambda: QUIET_IMPORT + good(),
                                      "failed", ("reference solutions", "no credit"), others=False),
    "reads_solution_file": Case(lambda: f"exec(open({str(SOLUTION_FILE)!r}).read())\n",
                                "failed", ("reference solutions", "no credit"), others=False),
    "loads_solution_with_importlib": Case(lambda: IMPORTLIB, "failed",
                                          ("reference solutions", "no credit"), others=False),
    "symlink_to_solution": Case(lambda: "", "failed", ("reference solutions", "no credit"),
                                others=False, link="symlink"),
    "hardlink_to_solution": Case(lambda: "", "failed", ("reference solutions", "no credit"),
                                 others=False, link="hardlink"),
    "finds_solution_in_memory": Case(lambda: GC_SCAN, "failed", ("not defined",), others=False),
    # cheating the comparison, tampering with the result channel
    "wrong_answer": Case(lambda: WRONG, "", others=False),            # the baseline for...
    "wrong_answer_patching_everything": Case(lambda: PATCHES + WRONG, ""),
    "forges_result_frames": Case(lambda: good() + FORGE, "failed", ("tampered",)),
}

# The grader must not raise on these; the victim just scores 0 (whatever the status).
ODD: dict[str, Callable[[], str | bytes]] = {
    "binary_garbage": lambda: b"\x00\xff\xfe\x80 garbage \x00\xc3" * 100,
    "deeply_nested": lambda: "x = " + "(" * 100_000 + ")" * 100_000 + "\n",
    "deep_unary_minus": lambda: "x = " + "-" * 100_000 + "1\n",   # MemoryError in the parser
    "deep_not": lambda: "x = " + "not " * 100_000 + "1\n",        # RecursionError
    "keyboard_interrupt_at_import": lambda: "raise KeyboardInterrupt\n" + good(),
    "returns_weird_objects": lambda: WEIRD + textwrap.dedent("""
        def numpy_two_layer_grads(x, y, w1, w2):
            return Weird(), Weird(), Weird()

        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            return Weird()
        """),
    "returns_self_containing_list": lambda: textwrap.dedent("""
        def numpy_two_layer_grads(x, y, w1, w2):
            loop = []
            loop.append(loop)
            return loop

        numpy_train = numpy_two_layer_grads
        """),
    "returns_an_8_gb_array": lambda: textwrap.dedent("""
        import numpy as np

        def numpy_two_layer_grads(x, y, w1, w2):
            return np.broadcast_to(np.float64(0), (10**9,)), w1, w2

        numpy_train = numpy_two_layer_grads
        """),
    "closes_every_fd": lambda: "import os\nos.closerange(0, 4096)\n" + good(),
    "breaks_json": lambda: "import json\njson.dumps = lambda *a, **k: '[[[['\n" + good(),
}


# ---------------------------------------------------------------- grading them all

def _submission(directory: Path, case: Case) -> Path:
    directory.mkdir(parents=True)
    if case.others:
        for solution in sorted(SOLUTIONS.glob("e*.py")):
            if solution.stem != VICTIM:
                (directory / solution.name).write_text(solution.read_text())
    target = directory / f"{VICTIM}.py"
    if case.link == "symlink":
        target.symlink_to(SOLUTION_FILE)
    elif case.link == "hardlink":
        os.link(SOLUTION_FILE, target)
    else:
        source = case.source()
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            target.write_text(source)
    return directory


@pytest.fixture(scope="module")
def reports(grader, tmp_path_factory) -> dict[str, Report]:
    root = tmp_path_factory.mktemp("hostile")
    submissions = []
    for name, case in CASES.items():
        if name == "kills_its_zygote" and SPAWN_UNSCOPED:
            continue   # it would kill the grader (conftest.SIGNALS_ITS_PARENT)
        if case.link == "hardlink":
            try:
                probe = root / "link-probe"
                os.link(SOLUTION_FILE, probe)
                probe.unlink()
            except OSError:
                continue
        submissions.append(load_paths([_submission(root / name, case)], name))
    for name, source in ODD.items():
        submissions.append(load_paths([_submission(root / name, Case(source, "", others=False))],
                                      name))
    started = time.monotonic()
    graded = {report.id: report for report in grader.grade_many(submissions)}
    # Generous: the point is "bounded", not a benchmark.
    assert time.monotonic() - started < 120
    return graded


def _feedback(report: Report, name: str) -> str:
    result = exercise_result(report, name)
    return "\n".join([result.summary, *(c.feedback for c in result.checks)])


def assert_others_full_marks(report: Report) -> None:
    for result in report.exercises:
        if result.name != VICTIM:
            assert result.full_marks, (result.name, [(c.name, c.status, c.feedback)
                                                     for c in result.checks])
            assert all(c.status in ("passed", "skipped") for c in result.checks), result.name


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.status],
                         ids=lambda n: n)
def test_hostile_exercise_gets_a_clear_verdict_and_the_rest_full_marks(reports, name):
    case = CASES[name]
    if name not in reports:
        pytest.skip(SIGNALS_ITS_PARENT if name == "kills_its_zygote" else
                    "no hard link to the solutions on this file system")
    report = reports[name]
    victim = exercise_result(report, VICTIM)
    statuses = {c.name: c.status for c in victim.checks}
    assert set(statuses.values()) == {case.status}, (statuses, _feedback(report, VICTIM))
    if case.status == "passed":
        assert victim.full_marks
    else:
        assert victim.score == 0
    for check in victim.checks:
        for phrase in case.phrases:
            assert phrase.lower() in check.feedback.lower(), (check.name, check.feedback)
    if case.others:
        assert_others_full_marks(report)


@pytest.mark.parametrize("name", list(ODD), ids=lambda n: n)
def test_odd_submission_scores_zero_without_crashing_the_grader(reports, name):
    victim = exercise_result(reports[name], VICTIM)
    assert victim.score == 0
    assert all(c.status in ("failed", "error", "timeout") for c in victim.checks)
    assert all(c.feedback for c in victim.checks)


def test_syntax_error_shows_the_line(reports):
    feedback = _feedback(reports["syntax_error"], VICTIM)
    assert "def numpy_two_layer_grads(x, y, w1, w2)" in feedback


def test_print_flood_is_truncated_in_the_report_and_on_the_terminal(reports, grader):
    from grader.plugins import collect_reporters, plugin_manager
    from grader.reporters import ReportSettings

    report = reports["prints_20_mb"]
    victim = exercise_result(report, VICTIM)
    assert len(victim.output) < 64 * 1024
    assert victim.output.startswith("x" * 1000)
    assert "more bytes of output not shown" in victim.output
    assert "only the beginning and the end are kept" in victim.summary
    names = tuple(e.name for e in grader.exercises)
    reporters = collect_reporters(plugin_manager())
    for format_name in ("terminal", "json"):
        text = reporters[format_name]([report], ReportSettings(exercise_names=names))
        assert len(text) < 256 * 1024, format_name


def test_patching_comparisons_and_the_grader_earns_nothing(reports):
    baseline = exercise_result(reports["wrong_answer"], VICTIM)
    patched = exercise_result(reports["wrong_answer_patching_everything"], VICTIM)
    assert baseline.score < baseline.max_score
    assert patched.score <= baseline.score
    statuses = {c.name: c.status for c in patched.checks}
    for check in ("loss", "grad_w1", "grad_w2", "train_losses", "train_weights"):
        assert statuses.get(check, "failed") != "passed", statuses
    assert_others_full_marks(reports["wrong_answer_patching_everything"])


def test_reference_is_not_in_the_workers_memory(reports):
    victim = exercise_result(reports["finds_solution_in_memory"], VICTIM)
    assert "FOUND THE REFERENCE" not in victim.output
    assert victim.score == 0


def _strays(marker: str) -> list[str]:
    """Live processes (not zombies) whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(entry + ": " + cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _no_strays_left(marker: str) -> list[str]:
    """The strays still there after a few seconds (killed now, so as not to stay behind)."""
    deadline = time.monotonic() + 3.0
    while _strays(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _strays(marker)
    for line in left:
        try:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    return left


def test_no_process_a_submission_started_outlives_it(reports):
    # The batch is graded: every worker of it has ended (by a timeout, too).
    assert not _no_strays_left(MARKER)


def test_processes_started_at_import_and_in_functions_die_with_the_worker(grade):
    # Alone (no zygote of this grade dies and takes its strays along): each worker's
    # zygote must kill what the worker started, also what left its process group.
    marker = f"torchkit-hostile-{uuid.uuid4().hex}"
    spawn = SPAWN.replace(MARKER, marker)
    # in the first call only: e01's probes call the functions many times
    once = "if not globals().get('_spawned'):\n    globals()['_spawned'] = True\n"
    report = grade({f"{VICTIM}.py": around(once + textwrap.indent(spawn, "    ")) + spawn})
    assert exercise_result(report, VICTIM).full_marks
    assert not _no_strays_left(marker)


def test_grader_still_grades_after_a_worker_killed_its_zygote(reports, grade):
    # The batch held a submission that killed the zygote; this grades on a new one.
    report = grade({f"{VICTIM}.py": good()})
    assert exercise_result(report, VICTIM).full_marks


# ---------------------------------------------------------------- the command line

def memory_scan(*needles: str) -> str:
    """Source that prints FOUND for any string in the worker's memory (dict values, list
    items, object attributes) holding every needle, this file's own text aside."""
    # Each needle is joined from two halves at run time, so that neither a line of this
    # file nor a constant of its code holds it whole.
    halves = ", ".join(f"[{n[:len(n) // 2]!r}, {n[len(n) // 2:]!r}]" for n in needles)
    return textwrap.dedent("""
        import gc

        def _strings(o):
            if isinstance(o, dict):
                return [v for v in o.values() if isinstance(v, str)]
            if isinstance(o, (list, tuple)):
                return [v for v in o if isinstance(v, str)]
            try:
                return [v for v in vars(o).values() if isinstance(v, str)]
            except Exception:
                return []

        def _scan(wanted):
            for o in gc.get_objects():
                if o is wanted:
                    continue
                for s in _strings(o):
                    if all(w in s for w in wanted) and "own-source-marker" not in s:
                        print("FOUND IN MEMORY:", s[:80])

        _scan(tuple("".join(parts) for parts in [HALVES]))
        """).replace("HALVES", halves)


# The reference e01 as a whole (a line of it holds one of them only).
REFERENCE_NEEDLES = ("def numpy_train(x", "def numpy_two_layer_grads(x")


def test_json_stdout_is_only_the_report_whatever_the_submission_prints(tmp_path):
    chatty = memory_scan(*REFERENCE_NEEDLES) + textwrap.dedent("""
        import os, sys
        print('{"score": 1000, "max_score": 1000, "exercises": []}')
        print("at import", file=sys.stderr)
        os.write(1, b"raw bytes on fd 1\\n")
        sys.__stdout__.write("on sys.__stdout__\\n")
        print("x" * 20_000_000)
        """) + around("""
        import os, sys
        print('}{ not json', flush=True)
        os.write(1, b"in a function\\n")
        print("in a function, on stderr", file=sys.stderr)
        """)
    (tmp_path / f"{VICTIM}.py").write_text(chatty)
    done = run_cli(str(tmp_path), "--format", "json", "--only", VICTIM,
                   "--timeout", str(TEST_TIMEOUT))
    report = json.loads(done.stdout)  # nothing but the report
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    victim = next(e for e in report["exercises"] if e["name"] == VICTIM)
    assert victim["score"] == victim["max_score"] > 0
    assert report["score"] != 1000
    assert report["sandbox"] == REPORTED  # what confinement held, at the top
    assert len(done.stdout) < 256 * 1024
    assert "raw bytes on fd 1" in victim.get("output", "")
    # The worker's memory holds neither the reference nor anything the grader read.
    assert "FOUND IN MEMORY" not in victim.get("output", "")


@pytest.mark.signals_its_parent
def test_batch_survives_a_zygote_killer_and_keeps_classmates_apart(tmp_path):
    alice_marker = f"alice-{uuid.uuid4().hex}"
    files = {
        "alice": f"# {alice_marker}\n" + good(),
        # mallory looks for alice's file in her own memory, and for the reference
        "mallory": memory_scan(alice_marker) + memory_scan(*REFERENCE_NEEDLES),
        "trudy": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    }
    for student, source in files.items():
        (tmp_path / student).mkdir()
        (tmp_path / student / f"{VICTIM}.py").write_text(source)
    done = run_cli("--batch", str(tmp_path), "--format", "json", "--only", VICTIM,
                   "--timeout", str(TEST_TIMEOUT))
    assert done.returncode == 0, done.stderr[-2000:]
    reports = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}

    def victim(name: str) -> dict:
        return next(e for e in reports[name]["exercises"] if e["name"] == VICTIM)

    assert victim("alice")["score"] == victim("alice")["max_score"] > 0
    mallory = victim("mallory")
    assert "FOUND IN MEMORY" not in mallory.get("output", "")
    assert "is not defined" in mallory["checks"][0]["feedback"]  # her scan did run
    assert victim("trudy")["score"] == 0
    assert {c["status"] for c in victim("trudy")["checks"]} == {"error"}
    feedback = victim("trudy")["checks"][0]["feedback"].lower()
    assert all(p in feedback for p in (KILL_REFUSED if PIDS_ISOLATED else ZYGOTE_KILLED))


def test_a_fifo_in_the_submission_does_not_hang_the_grader(tmp_path):
    os.mkfifo(tmp_path / f"{VICTIM}.py")
    # A hang would be endless; the limit only has to outlast a start on a busy machine.
    done = run_cli(str(tmp_path), "--format", "json", "--only", VICTIM, timeout=120)
    report = json.loads(done.stdout)
    assert next(e for e in report["exercises"] if e["name"] == VICTIM)["score"] == 0


def test_a_link_to_an_endless_device_is_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / f"{VICTIM}.py")
    done = run_cli(str(tmp_path), "--format", "json", "--only", VICTIM, timeout=120)
    report = json.loads(done.stdout)
    assert next(e for e in report["exercises"] if e["name"] == VICTIM)["score"] == 0
    assert any("not a regular file" in note for note in report.get("notes", []))


@pytest.mark.parametrize("line", [
    "from grader.checks.two_layer.variants import buggy_grads as _g",
    "import grader.checks.two_layer.variants as c",
    "from grader import checks",
    "import importlib; c = importlib.import_module('grader.checks.two_layer.variants')",
])
def test_importing_the_graders_reference_code_earns_nothing(grade, line):
    """The grader's mutants and reference models hold correct code too: using them is
    copying the reference."""
    source = line + "\n" + (SOLUTIONS / f"{VICTIM}.py").read_text()
    report = grade({f"{VICTIM}.py": source})
    result = exercise_result(report, VICTIM)
    assert result.score == 0
    assert "reference solutions" in result.summary


def test_a_notebook_that_runs_the_grader_on_itself_does_not_recurse(grade):
    """A cell that grades the notebook would run again inside the worker that grades it."""
    source = ("import subprocess, sys\n"
              "subprocess.run([sys.executable, '-m', 'grader', '.'], timeout=60)\n"
              "from grader.cli import main\n"
              "main(['.'])\n" + (SOLUTIONS / f"{VICTIM}.py").read_text())
    report = grade({f"{VICTIM}.py": source})
    assert exercise_result(report, VICTIM).full_marks


# ---------------------------------------------------------------- confinement (issue 10)
#
# Each attack below runs in the victim's file of one student, from Python and through a
# child process, beside the kit's solution of NEIGHBOUR; "alice" hands in every solution.
# All of them are graded in ONE batch through the command line (in a session of its own,
# under a wall-clock bound): so the attacks meet the real grader's frames, and a run the
# attacks hang or kill is a failed test, not a hung one. The batch runs the grader of a
# fresh copy of the kit, which the attacks target: whatever they change there is theirs.
# Every attempt prints "ESCAPED:" when the forbidden action worked and "REFUSED:" when
# the sandbox refused it.

CONFINED = confine.available()
#: Under spawn, a worker's parent is the grader: unscoped, a kill of it would land.
SPAWN_UNSCOPED = BACKEND == "spawn" and CONFINED["pids"] != "isolated"
#: The report's sandbox object: what held, and the backend (GRADER_BACKEND, else the system's).
REPORTED = {**CONFINED, "backend": BACKEND}
FILESYSTEM_CONFINED = CONFINED["filesystem"] == "landlock"
NETWORK_CONFINED = CONFINED["network"] == "isolated"
NEIGHBOUR = "e02_tensor_grads"
#: A whole hostile batch ends within this many seconds (generous: "bounded", not a benchmark).
BATCH_BOUND = 240
#: Per exercise in the hostile batch: none of its attacks runs long when refused (and one
#: that hangs the grader is caught by BATCH_BOUND), so this only keeps a busy machine from
#: turning a slow probe into a timeout.
ATTACK_TIMEOUT = 30
KIT_PARTS = ("grader", "solutions", "exercises", "README.md", "pyproject.toml")
KIT_IS_A_GIT_CHECKOUT = (ROOT / ".git").exists() and bool(shutil.which("git"))
#: What an attack appends to a kit file (removed again by `_undo_damage` if it got there).
APPENDED = f"\n# {MARKER}\n"


def _kit_files(kit: Path) -> list[Path]:
    files = []
    for part in KIT_PARTS:
        path = kit / part
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def _kit_hashes(kit: Path) -> dict[str, str]:
    """Every kit file (compiled caches aside: the grader itself writes them) by its hash."""
    import hashlib

    return {str(p.relative_to(kit)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in _kit_files(kit) if "__pycache__" not in p.parts}


def _numpy_file() -> Path:
    import numpy

    return Path(numpy.__file__).parent / "version.py"


def _damage(kit: Path) -> list[str]:
    """Files that hold an attack's marker, or are named after it: in the kit (compiled
    caches too), numpy, the system's temporary folder."""
    marked = [str(p) for p in [*_kit_files(kit), _numpy_file()] if MARKER.encode() in p.read_bytes()]
    named = [str(p) for p in [*kit.rglob(f"*{MARKER}*"),
                              *Path(tempfile.gettempdir()).glob(f"*{MARKER}*")]]
    return marked + named


def _undo_damage(kit: Path) -> None:
    """Take back what an attack managed to write (only ever run when a defence failed)."""
    for path in _damage(kit):
        target = Path(path)
        if MARKER in target.name:
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink()
        else:
            text = target.read_bytes().replace(APPENDED.encode(), b"")
            target.write_bytes(text.replace(f"# {MARKER}\n".encode(), b""))


def _copy_of_the_kit(kit: Path) -> Path:
    """The kit as it is now, for the hostile batch to be graded from: what an attack changed
    there is seen exactly (nobody else edits it), and the real kit is never at risk. Where
    the kit is a git checkout, so is the copy (its solutions committed), as on a course's
    grading machine."""
    import subprocess

    for part in KIT_PARTS:
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, kit / part, symlinks=True)
        else:
            shutil.copy2(ROOT / part, kit / part)
    if KIT_IS_A_GIT_CHECKOUT:
        for command in (["init", "-q"], ["add", "solutions"],
                        ["-c", "user.name=kit", "-c", "user.email=kit@example.com",
                         "commit", "-q", "-m", "the kit"]):
            subprocess.run(["git", *command], cwd=kit, check=True, capture_output=True)
    return kit


ATTEMPT = textwrap.dedent("""
    import os, subprocess, sys

    def _attempt(what, action):
        try:
            action()
        except BaseException as exc:
            print("REFUSED:", what, "-", type(exc).__name__, exc, flush=True)
        else:
            print("ESCAPED:", what, flush=True)

    def _child(what, argv, **kwargs):
        # the same through a child process: its exit status says whether it worked
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, **kwargs)
        print("ESCAPED:" if done.returncode == 0 else "REFUSED:", what, "-",
              done.stderr.strip()[-200:], flush=True)

    def _parent(pid):
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    """)


def _kit_targets(kit: Path) -> list[str]:
    """Kit files an attack writes to: every check module and solution, the docs, the
    grader's own modules and one compiled cache (the next run would load it)."""
    wanted = [*sorted((kit / "grader" / "checks").glob("*.py")),
              *sorted((kit / "solutions").glob("*.py")), kit / "README.md",
              kit / "pyproject.toml", kit / "grader" / "sandbox.py", kit / "grader" / "worker.py",
              kit / "exercises" / f"{VICTIM}.py",
              *sorted((kit / "grader" / "__pycache__").glob("worker.*.pyc"))[:1]]
    return [str(p) for p in wanted]


def fs_python(kit: Path) -> str:
    readme = str(kit / "README.md")
    return ATTEMPT + textwrap.dedent(f"""
        for _path in {_kit_targets(kit)!r}:
            _attempt("append to " + _path,
                     lambda p=_path: open(p, "a").write({APPENDED!r}))
        _attempt("truncate README.md (to its own size)",
                 lambda: os.truncate({readme!r}, os.path.getsize({readme!r})))
        for _new in ({str(kit / "grader" / "checks" / f"zz_{MARKER}.py")!r},
                     {str(kit / "solutions" / f"{MARKER}.py")!r}, {str(kit / MARKER)!r},
                     {str(Path(tempfile.gettempdir()) / MARKER)!r}):
            _attempt("create " + _new, lambda p=_new: open(p, "x").close())
        _attempt("symlink in the kit",
                 lambda: os.symlink("/etc/hostname", {str(kit / f"link-{MARKER}")!r}))
        _attempt("append to numpy", lambda: open({str(_numpy_file())!r}, "a").write({APPENDED!r}))
        """) + good()


def fs_child(kit: Path) -> str:
    targets = [t for t in _kit_targets(kit) if t.endswith(".py") or t.endswith(".md")]
    return ATTEMPT + textwrap.dedent(f"""
        for _path in {targets!r}:
            _child("sh -c 'echo >> " + _path + "'",
                   ["sh", "-c", 'echo "# {MARKER}" >> "$0"', _path])
        _status = os.system({f'echo "# {MARKER}" >> {shlex.quote(str(kit / "README.md"))}'!r})
        print("ESCAPED:" if _status == 0 else "REFUSED:", "os.system echo >> README.md")
        _child("python -c append to the solution",
               [sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write(sys.argv[2])",
                {str(kit / "solutions" / f"{VICTIM}.py")!r}, {APPENDED!r}])
        _child("touch in grader/checks",
               ["touch", {str(kit / "grader" / "checks" / f"zz_{MARKER}.py")!r}])
        """) + good()


# The grader's own code in a student's worker: a mutant of e01 computes the right answer
# with its defaults; the grader's reference TwoLayerNet is e05's answer.
BUGGY_GRADS = textwrap.dedent("""
    import sys
    numpy_two_layer_grads = sys.modules["grader.checks.two_layer.variants"].buggy_grads

    def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        w1, w2, losses = w1.copy(), w2.copy(), []
        for _ in range(steps):
            loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
            losses.append(loss)
            w1 -= learning_rate * grad_w1
            w2 -= learning_rate * grad_w2
        return w1, w2, losses
    """)

BUGGY_TRAIN = textwrap.dedent("""
    import sys
    numpy_train = sys.modules["grader.checks.two_layer.variants"].buggy_train
    """)

REFERENCE_MODEL = ("import sys\nTwoLayerNet = "
                   "sys.modules['grader.checks.training.models'].TwoLayerNet\n")

# Up the stack from the student's function: the Exercise objects (the probe's caller
# holds one, the worker's closure all of them) and the Grader (above the fork point).
STACK_WALK = textwrap.dedent("""
    import sys, types

    def _look_up_the_stack():
        mutants, found = [], []
        frame = sys._getframe(1)
        while frame is not None:
            for value in [*frame.f_locals.values(), *frame.f_globals.values()]:
                for item in (list(value.values()) if isinstance(value, dict) else [value]):
                    if isinstance(item, types.ModuleType):
                        continue
                    if hasattr(item, "misconceptions") and hasattr(item, "checks"):
                        mutants += [m.mutant for m in item.misconceptions if m.mutant]
                        found += [f"FOUND judge {c.name}" for c in item.checks]
                        found += [f"FOUND mutant {m.key}" for m in item.misconceptions]
                    if hasattr(item, "reference") and hasattr(item, "exercises") \\
                            and getattr(item, "reference", None):
                        found.append("FOUND the grader's reference results")
            frame = frame.f_back
        for line in sorted(set(found)):
            print(line)
        for mutant in mutants:  # their globals hold the mutant's code, right by default
            grads = mutant.__globals__.get("buggy_grads")
            if grads is not None:
                return grads
        return None
    """) + WRONG.replace("def numpy_two_layer_grads(x, y, w1, w2):\n", textwrap.dedent("""
    def numpy_two_layer_grads(x, y, w1, w2):
        stolen = _look_up_the_stack()
        if stolen is not None:
            return stolen(x, y, w1, w2)
    """).lstrip("\n"))

# What is left of the grader's check code in a student's worker: every grader.checks
# module's names, the Exercise objects and every function of grader.checks reachable from
# the stack (frames' locals and globals, closures, defaults, containers, objects).
NAMES_LEFT = textwrap.dedent("""
    import sys, types

    def _names_left():
        for name, module in sorted(sys.modules.items()):
            if name.startswith("grader.checks"):
                print("MODULE", name, " ".join(sorted(k for k in vars(module)
                                                      if not k.startswith("__"))))
        functions, seen, todo = set(), set(), []
        frame = sys._getframe(1)
        while frame is not None:
            todo += [frame.f_locals, frame.f_globals]
            frame = frame.f_back
        todo += [m for n, m in list(sys.modules.items()) if n.startswith("grader")]
        while todo and len(seen) < 500_000:
            obj = todo.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, types.ModuleType):
                if (obj.__name__ or "").startswith("grader"):
                    todo.append(vars(obj))
            elif isinstance(obj, types.FunctionType):
                if (obj.__module__ or "").startswith("grader.checks"):
                    functions.add(f"{obj.__module__}:{obj.__qualname__}")
                if not (obj.__module__ or "").startswith(("grader", "pluggy")):
                    continue
                todo += [obj.__globals__, *(obj.__defaults__ or ()),
                         *(obj.__kwdefaults__ or {}).values()]
                for cell in obj.__closure__ or ():
                    try:
                        todo.append(cell.cell_contents)
                    except ValueError:
                        pass
            elif isinstance(obj, types.MethodType):
                todo += [obj.__func__, obj.__self__]
            elif isinstance(obj, dict):
                todo += list(obj.values())[:5000]
            elif isinstance(obj, (list, tuple, set, frozenset)):
                todo += list(obj)[:5000]
            elif isinstance(obj, type):
                if obj.__module__.startswith("grader"):
                    functions.add(f"{obj.__module__}:{obj.__qualname__}")
                    todo += list(vars(obj).values())
            elif type(obj).__module__.startswith(("grader", "pluggy")):
                if type(obj).__name__ == "Exercise":
                    print("EXERCISE", obj.name, "probes", sorted(obj.probes), "checks",
                          [c.name for c in obj.checks], "misconceptions",
                          [m.key for m in obj.misconceptions])
                todo += list(getattr(obj, "__dict__", {}).values())
                todo += [getattr(obj, s, None) for s in getattr(type(obj), "__slots__", ())]
        print("FUNCTIONS", " ".join(sorted(functions)))

    _names_done = []
    """)


def names_left() -> str:
    return NAMES_LEFT + around("if not _names_done:\n    _names_done.append(1)\n"
                               "    _names_left()\n")


def forge(through_child: bool) -> str:
    """Frames with the right answers (computed by running the probes on a correct copy),
    written on the result pipe before the worker sends those of the wrong answers."""
    write = ("subprocess.run([sys.executable, '-c', WRITE_ALL + 'write_all(int(sys.argv[1]), "
             "sys.stdin.buffer.read())', str(_fd)], input=_forged, pass_fds=(_fd,), check=True)"
             if through_child else "write_all(_fd, _forged)")
    return textwrap.dedent(f"""
        import json, os, struct, subprocess, sys
        from grader import codec
        from grader.worker import Submitted

        WRITE_ALL = ("import os, sys\\ndef write_all(fd, data):\\n    while data:\\n"
                     "        data = data[os.write(fd, data):]\\n")
        exec(WRITE_ALL)
        _frame = sys._getframe()
        while "exercise" not in _frame.f_locals:
            _frame = _frame.f_back
        _exercise, _job = _frame.f_locals["exercise"], _frame.f_locals["job"]
        _correct = {{}}
        exec({good()!r}, _correct)
        _forged = b""
        for _name, _probe in _exercise.probes.items():
            _plain = codec.to_plain(_probe(Submitted(_correct),
                                            codec.from_plain(_job.inputs)))
            _data = json.dumps({{"kind": "probe", "probe": _name, "variant": None,
                                "result": _plain}}).encode()
            _forged += struct.pack("!I", len(_data)) + _data
        _pipes = []
        for _fd in [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2]:
            try:
                if os.readlink(f"/proc/self/fd/{{_fd}}").startswith("pipe:"):
                    _pipes.append(_fd)
            except OSError:  # the folder listing's own descriptor, closed since
                pass
        for _fd in _pipes:
            {write}
        print("FORGED", len(_pipes), "result pipe(s)")
        """) + WRONG


def signals_python(sentinel: int) -> str:
    return ATTEMPT + textwrap.dedent(f"""
        import signal
        _zygote = os.getppid()
        _nursery = _parent(_zygote)
        _grader = _parent(_nursery)

        def _grading_tree():
            # every process in /proc that the grader started (and the grader itself)
            found = []
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) != os.getpid():
                    pid = int(entry)
                    try:
                        while pid > 1 and pid != _grader:
                            pid = _parent(pid)
                    except OSError:
                        continue
                    if pid == _grader:
                        found.append(int(entry))
            return found

        _attempt("SIGSTOP the zygote", lambda: os.kill(_zygote, signal.SIGSTOP))
        _attempt("SIGKILL the nursery", lambda: os.kill(_nursery, signal.SIGKILL))
        _attempt("killpg the nursery's group",
                 lambda: os.killpg(os.getpgid(_nursery), signal.SIGKILL))
        _attempt("killpg the grader's group",
                 lambda: os.killpg(os.getpgid(_grader), signal.SIGKILL))
        _attempt("SIGKILL a process outside the grader", lambda: os.kill({sentinel}, 9))
        for _pid in _grading_tree():
            _attempt(f"SIGKILL {{_pid}} of the grader's processes",
                     lambda p=_pid: os.kill(p, signal.SIGKILL))

        def _by_sigio(pid, sig, worked):
            # the kernel signals a pipe's owner (F_SETOWN) with F_SETSIG's signal on I/O
            import fcntl
            read_end, write_end = os.pipe()
            fcntl.fcntl(read_end, fcntl.F_SETOWN, pid)
            fcntl.fcntl(read_end, 10, sig)  # F_SETSIG
            fcntl.fcntl(read_end, fcntl.F_SETFL, fcntl.fcntl(read_end, fcntl.F_GETFL) | os.O_ASYNC)
            os.write(write_end, b"x")
            time.sleep(0.05)
            if not worked(pid):
                raise PermissionError("the signal did not arrive")

        def _stopped(pid):
            with open(f"/proc/{{pid}}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t")

        def _gone(pid):
            return not os.path.exists(f"/proc/{{pid}}")

        import time
        _attempt("SIGSTOP the zygote through SIGIO",
                 lambda: _by_sigio(_zygote, signal.SIGSTOP, _stopped))
        _attempt("SIGKILL a process outside through SIGIO",
                 lambda: _by_sigio({sentinel}, signal.SIGKILL, _gone))
        """) + good()


def signals_child(sentinel: int) -> str:
    kill_tree = ("import os, sys\n"
                 "def parent(pid):\n"
                 "    return int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])\n"
                 "grader, mine = int(sys.argv[1]), {os.getpid(), os.getppid()}\n"
                 "killed = 0\n"
                 "for entry in [e for e in os.listdir('/proc') if e.isdigit()]:\n"
                 "    pid = int(entry)\n"
                 "    try:\n"
                 "        while pid > 1 and pid != grader:\n"
                 "            pid = parent(pid)\n"
                 "        if pid == grader and int(entry) not in mine:\n"
                 "            os.kill(int(entry), 9)\n"
                 "            killed += 1\n"
                 "    except OSError:\n"
                 "        pass\n"
                 "sys.exit(0 if killed else 1)\n")
    return ATTEMPT + textwrap.dedent(f"""
        _zygote = os.getppid()
        _nursery = _parent(_zygote)
        _grader = _parent(_nursery)
        _child("sh -c 'kill -STOP <the parent of $PPID>'",
               ["sh", "-c", "kill -STOP $(cut -d' ' -f4 /proc/$PPID/stat)"])
        _child("sh -c 'kill -KILL <the nursery>'", ["sh", "-c", f"kill -KILL {{_nursery}}"])
        _child("sh -c 'kill -KILL <the grader>'", ["sh", "-c", f"kill -KILL {{_grader}}"])
        _child("sh -c 'kill <a process outside>'", ["sh", "-c", "kill -KILL {sentinel}"])
        _child("python -c killpg the grader's group",
               [sys.executable, "-c", "import os, sys; os.killpg(os.getpgid(int(sys.argv[1])), 9)",
                str(_grader)])
        _child("python -c kill every process of the grader",
               [sys.executable, "-c", {kill_tree!r}, str(_grader)])
        """) + good()


def network_python(tcp: int, udp: int, unix: str) -> str:
    return ATTEMPT + textwrap.dedent(f"""
        import socket

        def _udp():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"{MARKER}", ("127.0.0.1", {udp}))

        def _unix():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect({unix!r})

        _attempt("TCP connect to 127.0.0.1:{tcp}",
                 lambda: socket.create_connection(("127.0.0.1", {tcp}), timeout=2).close())
        _attempt("UDP send to 127.0.0.1:{udp}", _udp)
        _attempt("connect to an abstract unix socket", _unix)
        """) + good()


def unix_socket_path(path: str) -> str:
    return ATTEMPT + textwrap.dedent(f"""
        import socket

        def _connect():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect({path!r})
                s.sendall(b"{MARKER}")

        _attempt("connect to the unix socket {path}", _connect)
        _child("python -c connect to the unix socket",
               [sys.executable, "-c", "import socket; socket.socket(socket.AF_UNIX)"
                ".connect({path!r})"])
        """) + good()


def classmate(path: Path) -> str:
    return ATTEMPT + textwrap.dedent(f"""
        def _copy():
            with open({str(path)!r}) as theirs:
                exec(theirs.read(), globals())

        _attempt("read a classmate's file", _copy)
        """)






def network_child(tcp: int, udp: int) -> str:
    return ATTEMPT + textwrap.dedent(f"""
        _child("python -c TCP connect",
               [sys.executable, "-c", "import socket; "
                "socket.create_connection(('127.0.0.1', {tcp}), timeout=2)"])
        _child("python -c UDP send",
               [sys.executable, "-c", "import socket; socket.socket(socket.AF_INET, "
                "socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {udp}))"])
        _child("bash /dev/tcp", ["bash", "-c", "echo {MARKER} > /dev/tcp/127.0.0.1/{tcp}"])
        _child("bash /dev/udp", ["bash", "-c", "echo {MARKER} > /dev/udp/127.0.0.1/{udp}"])
        """) + good()


# Other jobs' scratch folders live beside this one's: look for them (its cwd's parent, the
# cwd of the zygote's other workers) and write into them, for as long as the checkpoint
# exercise beside it runs (its probes save and load files in their scratch folder).
SCRATCH_PYTHON = ATTEMPT + textwrap.dedent(f"""
    import time
    _root = os.path.dirname(os.getcwd())
    try:
        _folders = [os.path.join(_root, name) for name in os.listdir(_root)]
    except OSError as exc:
        print("REFUSED: list the grader's temporary folder -", type(exc).__name__)
        _folders = []
    _attempt("create a file beside its own scratch folder",
             lambda: open(os.path.join(_root, {MARKER!r}), "x").close())
    _attempt("create a folder beside its own",
             lambda: os.mkdir(os.path.join(_root, "job-" + {MARKER!r})))
    _told = set()

    def _tell(line):
        if line not in _told:
            _told.add(line)
            print(line, flush=True)

    def _workers_folders():
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    if _parent(int(entry)) == os.getppid():
                        found.append(os.readlink(f"/proc/{{entry}}/cwd"))
                except OSError as exc:
                    _tell(f"REFUSED: the folder of another worker - {{type(exc).__name__}}")
        return found

    _deadline = time.monotonic() + 2.0
    while time.monotonic() < _deadline:
        for _theirs in set(_folders + _workers_folders()) - {{os.getcwd()}}:
            try:
                _names = os.listdir(_theirs)
            except OSError:
                _names = []
            for _name in ["checkpoint.pt", *_names]:
                try:
                    with open(os.path.join(_theirs, _name), "wb") as _file:
                        _file.write(b"garbage")
                    _tell("ESCAPED: wrote into another job's scratch folder " + _theirs)
                except OSError as exc:
                    _tell(f"REFUSED: write into another job's folder - {{type(exc).__name__}}")
        time.sleep(0.05)
    """) + good()

SCRATCH_CHILD = ATTEMPT + textwrap.dedent(f"""
    _child("sh -c 'echo > ../x'", ["sh", "-c", "echo garbage > ../{MARKER}"])
    _child("sh -c 'echo > ../job-*/checkpoint.pt'",
           ["sh", "-c", "for d in ../job-*/; do echo garbage > $d/checkpoint.pt || exit 1; done"])
    """) + good()


# The kit's own git history holds every reference (a kit that is a git checkout).
GIT_HISTORY = textwrap.dedent(f"""
    import os, subprocess
    import grader
    _kit = os.path.dirname(os.path.dirname(grader.__file__))
    _shown = subprocess.run(["git", "-C", _kit, "show", "HEAD:solutions/{VICTIM}.py"],
                            capture_output=True, text=True, timeout=20,
                            env={{**os.environ, "HOME": os.getcwd()}})
    print("git show:", _shown.returncode, _shown.stderr.strip()[-300:])
    if _shown.returncode == 0:
        exec(_shown.stdout)
    """)


def terminal(path: str) -> str:
    """Write into a terminal of the grader's user (the test's own pseudo-terminal here; on
    a course's machine, the one the grader prints its report on)."""
    return ATTEMPT + textwrap.dedent(f"""
        def _write():
            fd = os.open({path!r}, os.O_WRONLY | os.O_NOCTTY)
            os.write(fd, b"\\r\\nTotal: 65/65 {MARKER}\\r\\n")
            os.close(fd)

        _attempt("write into the terminal {path}", _write)
        _child("sh -c 'echo > {path}'", ["sh", "-c", "echo {MARKER} > {path}"])
        """) + good()


# Checked, never used: the capabilities of the machine's root (no user namespace of its
# own), and write access to a block device and the kernel log (opened, nothing written).
ROOT_POWERS = ATTEMPT + textwrap.dedent("""
    def _initial_namespace_capabilities():
        with open("/proc/self/uid_map") as uid_map:
            initial = uid_map.read().split() == ["0", "0", "4294967295"]
        with open("/proc/self/status") as status:
            effective = next(int(line.split()[1], 16) for line in status
                             if line.startswith("CapEff:"))
        if initial and effective:
            return  # ESCAPED: it could reboot(2), finit_module(2), settimeofday(2)...
        raise PermissionError(f"initial user namespace: {initial}, CapEff: {effective:x}")

    def _open_for_writing(path):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    _attempt("hold root's capabilities in the machine's user namespace",
             _initial_namespace_capabilities)
    _attempt("open a block device (/dev/loop0) for writing",
             lambda: _open_for_writing("/dev/loop0"))
    _attempt("open the kernel log (/dev/kmsg) for writing", lambda: _open_for_writing("/dev/kmsg"))
    """) + good()

# e07's answer is in the grader's mutants too (e07_training.mutants: `train`, right when
# its `bug` is None, and `evaluate`); pick_device is left undone, so e07 earns only what
# these two give.
REFERENCE_TRAIN = textwrap.dedent("""
    import sys
    _models = sys.modules["grader.checks.e07_training.mutants"]
    train, evaluate = _models.train, _models.evaluate


    def pick_device():
        raise NotImplementedError
    """)

# A whole-course notebook: its top-level code runs once, in a worker that keeps the probes
# of all its exercises (e07's and e08's reach the reference models); then each exercise
# runs in a worker forked from it.
NOTEBOOK_REFERENCE_MODEL = ("import sys\nTwoLayerNet = sys.modules["
                            "'grader.checks.training.models'].model_class('TwoLayerNet')\n")
NOTEBOOK_SIGNALS = textwrap.dedent("""
    import os, signal
    _grads = numpy_two_layer_grads


    def numpy_two_layer_grads(*args):
        os.kill(os.getppid(), signal.SIGKILL)  # the notebook's process, its exercises' zygote
        return _grads(*args)
    """)
NOTEBOOKS: dict[str, Callable[[], list[str]]] = {
    "notebook_takes_the_reference_model": lambda: [
        solution_source("e07_training"), solution_source("e08_checkpoint"),
        NOTEBOOK_REFERENCE_MODEL, solution_source(NEIGHBOUR)],
    "notebook_exercise_kills_the_notebooks_process": lambda: [
        good() + NOTEBOOK_SIGNALS, solution_source(NEIGHBOUR)],
}


def _write_notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(notebook, str(path))


@dataclass(frozen=True)
class Attack:
    layer: str                      # what must hold for it: "filesystem", "network", "pids", ""
    files: Callable[[dict], dict[str, str]]   # the student's files, given the listeners etc.
    victim: str = VICTIM
    status: str = "passed"          # of every check of the victim ("" when asserted elsewhere)
    phrases: tuple[str, ...] = ()   # in the victim's feedback
    neighbour: str = NEIGHBOUR      # graded beside it, must get full marks ("": none)
    tells: bool = True              # prints what was refused (else its error says it)
    defect: str = ""                # a hole known to the lead: the test is a strict xfail


def _with(name: str, source: Callable[[dict], str]) -> Callable[[dict], dict[str, str]]:
    return lambda env: {f"{name}.py": source(env)}


ATTACKS: dict[str, Attack] = {
    # 1. the kit's own files (touching solutions/ is copying the reference too: the guard
    # takes e01's credit)
    "writes_kit_files": Attack("filesystem", _with(VICTIM, lambda env: fs_python(env["kit"])),
                               status="failed", phrases=("reference solutions", "no credit")),
    "writes_kit_files_through_a_child": Attack("filesystem",
                                               _with(VICTIM, lambda env: fs_child(env["kit"])),
                                               status="failed",
                                               phrases=("reference solutions", "no credit")),
    "reads_solutions_from_the_kits_git_history": Attack(
        "git", _with(VICTIM, lambda env: GIT_HISTORY), status="", neighbour=""),
    "writes_into_a_terminal": Attack("filesystem", _with(VICTIM, lambda env: terminal(env["pty"])),
                                     neighbour=""),
    "uses_the_machines_root_powers": Attack("root", _with(VICTIM, lambda env: ROOT_POWERS),
                                            neighbour=""),
    "copies_a_classmates_file": Attack("filesystem", _with(VICTIM, lambda env: classmate(
        env["classmate"])), status="failed", neighbour=""),
    # 2. the grader's code in the worker's memory
    "hands_in_a_wrong_answer": Attack("", _with(VICTIM, lambda env: WRONG), status="",  # baseline
                                      neighbour=""),
    "takes_buggy_train_from_sys_modules": Attack(
        "", _with(VICTIM, lambda env: BUGGY_TRAIN + "\n" + good().split("def numpy_train")[0]),
        status="", neighbour=""),
    "takes_buggy_grads_from_sys_modules": Attack("", _with(VICTIM, lambda env: BUGGY_GRADS),
                                                 status="", neighbour=""),
    "takes_the_reference_model_from_sys_modules": Attack(
        "", _with("e05_two_layer_net", lambda env: REFERENCE_MODEL), victim="e05_two_layer_net",
        status="", neighbour=""),
    "takes_train_and_evaluate_from_sys_modules": Attack(
        "", _with("e07_training", lambda env: REFERENCE_TRAIN), victim="e07_training", status="",
        neighbour=""),
    "walks_the_stack_to_mutants_and_judges": Attack("", _with(VICTIM, lambda env: STACK_WALK),
                                                    status=""),
    "lists_the_check_code_left_in_its_worker": Attack("", _with(VICTIM, lambda env: names_left()),
                                                      neighbour=""),
    # 3. the result pipe
    "forges_a_second_frame_per_probe": Attack("", _with(VICTIM, lambda env: forge(False)),
                                              status="failed", phrases=("tampered",)),
    "forges_frames_through_a_child": Attack("", _with(VICTIM, lambda env: forge(True)),
                                            status="failed", phrases=("tampered",)),
    # 4. signals
    "signals_the_grader": Attack("pids", _with(VICTIM, lambda env: signals_python(
        env["sentinel"]))),
    "signals_the_grader_through_children": Attack("pids", _with(VICTIM, lambda env: signals_child(
        env["sentinel"]))),
    "stops_its_zygote": Attack("pids", _with(VICTIM, lambda env: good() + textwrap.dedent("""
        import os, signal
        os.kill(os.getppid(), signal.SIGSTOP)
        """)), status="error", phrases=KILL_REFUSED, tells=False),
    # 5. other jobs' scratch folders (the checkpoint exercise's probes use theirs)
    "writes_into_other_scratch_folders": Attack(
        "filesystem", _with(VICTIM, lambda env: SCRATCH_PYTHON), neighbour="e08_checkpoint"),
    "writes_into_other_scratch_folders_through_a_child": Attack(
        "filesystem", _with(VICTIM, lambda env: SCRATCH_CHILD), neighbour="e08_checkpoint"),
    # 6. the network
    "connects_out": Attack("network", _with(VICTIM, lambda env: network_python(
        env["tcp"], env["udp"], env["unix"]))),
    "connects_out_through_children": Attack("network", _with(VICTIM, lambda env: network_child(
        env["tcp"], env["udp"])), neighbour=""),
    "connects_to_a_unix_socket_path": Attack(
        "network", _with(VICTIM, lambda env: unix_socket_path(env["unix_path"])), neighbour=""),
}

LAYER_HOLDS = {"": True, "filesystem": FILESYSTEM_CONFINED, "network": NETWORK_CONFINED,
               "pids": PIDS_ISOLATED, "git": FILESYSTEM_CONFINED and KIT_IS_A_GIT_CHECKOUT,
               "root": FILESYSTEM_CONFINED and os.geteuid() == 0
               and Path("/dev/loop0").exists() and Path("/dev/kmsg").exists()}
MISSING_LAYER = {
    "filesystem": "no Landlock on this machine: a write into the kit would really happen",
    "network": "workers get no network namespace here (run where user namespaces are allowed)",
    "pids": "Landlock here has no signal scopes (ABI < 6): these signals would really reach "
            "the grader's processes",
    "git": "the kit is not a git checkout (or there is no git, or no Landlock) here",
    "root": "the grader does not run as root here (or no Landlock, or no /dev/loop0, /dev/kmsg)",
}


@dataclass
class HostileBatch:
    reports: dict[str, dict]        # student -> its JSON report
    data: dict                      # the whole JSON output
    before: dict[str, str]          # kit file hashes before the batch
    after: dict[str, str]
    damage: list[str]               # kit files an attack wrote into (undone since)
    terminal_received: bytes
    tcp_accepted: list[str]
    udp_received: list[str]
    unix_accepted: int
    unix_path_accepted: int
    sentinel_alive: bool
    seconds: float
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory) -> HostileBatch:
    import socket
    import subprocess
    import sys

    kit = _copy_of_the_kit(tmp_path_factory.mktemp("kit"))
    root = kit / "submissions"  # a course's folder: the kit, and the class's work beside it
    root.mkdir()
    unix_path = str(tmp_path_factory.mktemp("sockets") / "listener.sock")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix_at_path:
        tcp.bind(("127.0.0.1", 0))
        udp.bind(("127.0.0.1", 0))
        unix_name = f"\0{MARKER}-unix"
        unix.bind(unix_name)
        unix_at_path.bind(unix_path)
        for listener in (tcp, unix, unix_at_path):
            listener.listen(16)
        for listener in (tcp, udp, unix, unix_at_path):
            listener.setblocking(False)
        sentinel = subprocess.Popen(["sleep", str(BATCH_BOUND + 60)])
        pty_master, pty_slave = os.openpty()
        env = {"tcp": tcp.getsockname()[1], "udp": udp.getsockname()[1], "unix": unix_name,
               "unix_path": unix_path, "classmate": root / "alice" / f"{VICTIM}.py",
               "sentinel": sentinel.pid, "kit": kit, "pty": os.ttyname(pty_slave)}
        for name, attack in ATTACKS.items():
            if LAYER_HOLDS[attack.layer]:
                files = attack.files(env)
                if attack.neighbour:
                    files[f"{attack.neighbour}.py"] = solution_source(attack.neighbour)
                for file_name, text in files.items():
                    (root / name).mkdir(exist_ok=True)
                    (root / name / file_name).write_text(text)
        if PIDS_ISOLATED:  # else a notebook that kills its own process is no news
            for name, cells in NOTEBOOKS.items():
                (root / name).mkdir()
                _write_notebook(root / name / "course.ipynb", cells())
        (root / "alice").mkdir()
        for solution in sorted(SOLUTIONS.glob("e*.py")):
            (root / "alice" / solution.name).write_text(solution.read_text())
        before = _kit_hashes(kit)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "grader", "--batch", str(root), "--format", "json",
                 "--timeout", str(ATTACK_TIMEOUT), "--jobs", "2"],
                cwd=kit, capture_output=True, text=True, timeout=BATCH_BOUND,  # its grader
                start_new_session=True)  # a signal to the grader's group reaches no test
        finally:
            seconds = time.monotonic() - started
            after = _kit_hashes(kit)
            damage = _damage(kit)
            if damage:
                _undo_damage(kit)
            sentinel_alive = sentinel.poll() is None
            sentinel.kill()
            sentinel.wait()
            os.set_blocking(pty_master, False)
            try:
                terminal_received = os.read(pty_master, 1 << 16)
            except (BlockingIOError, OSError):
                terminal_received = b""
            os.close(pty_master)
            os.close(pty_slave)
        accepted = [str(peer) for _connection, peer in _waiting(tcp.accept)]
        received = [repr(datagram) for datagram in _waiting(lambda: udp.recvfrom(4096))]
        unix_accepted = len(_waiting(unix.accept))
        unix_path_accepted = len(_waiting(unix_at_path.accept))
    data = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    if os.environ.get("HOSTILE_DUMP"):  # to read what each attack printed
        Path(os.environ["HOSTILE_DUMP"]).write_text(done.stdout)
    return HostileBatch({s["id"]: s for s in data.get("submissions", [])}, data, before, after,
                        damage, terminal_received, accepted, received, unix_accepted,
                        unix_path_accepted, sentinel_alive, seconds, done.returncode, done.stderr)


def _waiting(take: Callable[[], object]) -> list:
    """Everything a non-blocking listener has waiting (connections, datagrams)."""
    found = []
    while True:
        try:
            found.append(take())
        except BlockingIOError:
            return found


def _exercise(report: dict, name: str) -> dict:
    return next(e for e in report["exercises"] if e["name"] == name)


def _full_marks(result: dict) -> bool:
    return result["score"] == result["max_score"] > 0 and \
        all(c["status"] in ("passed", "skipped") for c in result["checks"])


def _attack_report(batch: HostileBatch, name: str) -> dict:
    layer = ATTACKS[name].layer
    if not LAYER_HOLDS[layer]:
        pytest.skip(MISSING_LAYER[layer])
    assert name in batch.reports, (sorted(batch.reports), batch.returncode, batch.stderr[-2000:])
    return batch.reports[name]


def test_hostile_batch_ends_within_its_bound_and_reports_every_student(hostile_batch):
    assert hostile_batch.returncode == 0, hostile_batch.stderr[-3000:]
    expected = {n for n, a in ATTACKS.items() if LAYER_HOLDS[a.layer]} | {"alice"}
    expected |= set(NOTEBOOKS) if PIDS_ISOLATED else set()
    assert set(hostile_batch.reports) == expected
    assert hostile_batch.seconds < BATCH_BOUND


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=attack.defect)]
                 if attack.defect else []) for name, attack in ATTACKS.items()], ids=str)
def test_attack_is_refused_and_costs_nothing_else(hostile_batch, name):
    attack = ATTACKS[name]
    report = _attack_report(hostile_batch, name)
    victim = _exercise(report, attack.victim)
    escaped = [line for line in victim.get("output", "").splitlines() if "ESCAPED:" in line]
    assert not escaped, escaped
    if attack.status:
        statuses = {c["name"]: c["status"] for c in victim["checks"]}
        assert set(statuses.values()) == {attack.status}, (statuses, victim.get("summary"))
        if attack.status != "passed":
            assert victim["score"] == 0
    for check in victim["checks"]:
        for phrase in attack.phrases:
            assert phrase.lower() in check["feedback"].lower(), (check["name"], check["feedback"])
    if attack.layer and attack.status and attack.tells:  # it tried, and was told no
        assert "REFUSED:" in victim.get("output", ""), victim.get("output", "")[-2000:]
    if attack.neighbour:
        neighbour = _exercise(report, attack.neighbour)
        assert _full_marks(neighbour), (attack.neighbour, neighbour["checks"])


def test_classmate_in_the_hostile_batch_gets_full_marks_on_every_exercise(hostile_batch):
    alice = hostile_batch.reports["alice"]
    for result in alice["exercises"]:
        assert _full_marks(result), (result["name"], result["checks"])


def test_every_kit_file_hashes_the_same_after_the_hostile_batch(hostile_batch):
    if not FILESYSTEM_CONFINED:
        pytest.skip(MISSING_LAYER["filesystem"])
    assert not hostile_batch.damage  # marked by an attack (undone already)
    changed = sorted(path for path in hostile_batch.before.keys() | hostile_batch.after.keys()
                     if hostile_batch.before.get(path) != hostile_batch.after.get(path))
    assert not changed


def test_nothing_reached_a_unix_socket_the_test_opened(hostile_batch):
    if not NETWORK_CONFINED:
        pytest.skip(MISSING_LAYER["network"])
    assert hostile_batch.unix_path_accepted == 0


def test_nothing_reached_a_terminal_the_test_opened(hostile_batch):
    if not FILESYSTEM_CONFINED:
        pytest.skip(MISSING_LAYER["filesystem"])
    assert hostile_batch.terminal_received == b""


def test_nothing_reached_a_listener_the_test_opened(hostile_batch):
    if not NETWORK_CONFINED:
        pytest.skip(MISSING_LAYER["network"])
    assert hostile_batch.tcp_accepted == []
    assert hostile_batch.udp_received == []
    assert hostile_batch.unix_accepted == 0


def test_no_signal_left_the_grading_processes(hostile_batch):
    if not PIDS_ISOLATED:
        pytest.skip(MISSING_LAYER["pids"])
    assert hostile_batch.sentinel_alive


def _forbidden_check_code() -> set[str]:
    """`module:qualname` of every judge, mutant and detector of the course (a bare lambda's
    name says nothing, and is left out)."""
    from dataclasses import replace

    from grader.plugins import collect_exercises, plugin_manager

    found, probes = set(), set()
    for exercise in collect_exercises(plugin_manager()):
        # a copy with its worker code loaded: the mutants it names, its probe_module's probes
        exercise = replace(exercise, probes=dict(exercise.probes),
                           misconceptions=list(exercise.misconceptions))
        exercise.load_worker_code()
        functions = [c.judge for c in exercise.checks]
        functions += [f for m in exercise.misconceptions for f in (m.mutant, m.detect) if f]
        found |= {f"{f.__module__}:{f.__qualname__}" for f in functions
                  if f.__qualname__ != "<lambda>"}
        probes |= {f"{f.__module__}:{f.__qualname__}" for f in exercise.probes.values()}
    return found - probes  # a judge named like its probe (e01's train_at_scale) is no sign


def test_a_student_worker_holds_no_judge_mutant_or_reference_model(hostile_batch):
    report = hostile_batch.reports["lists_the_check_code_left_in_its_worker"]
    output = _exercise(report, VICTIM).get("output", "")
    lines = output.splitlines()
    functions = set(next(line for line in lines if line.startswith("FUNCTIONS")).split()[1:])
    assert functions, output[-2000:]  # the probes' own code is there: the scan did run
    assert not functions & _forbidden_check_code(), sorted(functions & _forbidden_check_code())
    assert "grader.checks.training" not in output
    assert "buggy_train" not in output
    exercises = [line for line in lines if line.startswith("EXERCISE")]
    assert exercises, output[-2000:]
    for line in exercises:
        assert "checks [] misconceptions []" in line, line
        if not line.startswith(f"EXERCISE {VICTIM} "):
            assert "probes []" in line, line


def test_taking_buggy_grads_from_sys_modules_earns_nothing(hostile_batch):
    victim = _exercise(hostile_batch.reports["takes_buggy_grads_from_sys_modules"], VICTIM)
    assert victim["score"] == 0, victim["checks"]


def test_taking_the_graders_code_from_memory_earns_nothing(hostile_batch):
    for name, exercise in (("takes_buggy_train_from_sys_modules", VICTIM),
                           ("takes_the_reference_model_from_sys_modules", "e05_two_layer_net")):
        result = _exercise(hostile_batch.reports[name], exercise)
        assert result["score"] == 0, (name, result["checks"])
    # the stack walker hands in the wrong answer unless it finds something to use
    baseline = _exercise(hostile_batch.reports["hands_in_a_wrong_answer"], VICTIM)
    walker = _exercise(hostile_batch.reports["walks_the_stack_to_mutants_and_judges"], VICTIM)
    assert "FOUND" not in walker.get("output", ""), walker.get("output", "")[-2000:]
    assert walker["score"] <= baseline["score"] < baseline["max_score"]


def test_taking_the_reference_train_and_evaluate_from_sys_modules_earns_nothing(hostile_batch):
    result = _exercise(hostile_batch.reports["takes_train_and_evaluate_from_sys_modules"],
                       "e07_training")
    assert result["score"] == 0, result["checks"]


def test_reading_solutions_from_the_kits_git_history_earns_nothing(hostile_batch):
    report = _attack_report(hostile_batch, "reads_solutions_from_the_kits_git_history")
    result = _exercise(report, VICTIM)
    assert result["score"] == 0, result.get("output", "")[-2000:]


def _notebook_report(batch: HostileBatch, name: str) -> dict:
    if not PIDS_ISOLATED:
        pytest.skip(MISSING_LAYER["pids"])
    return batch.reports[name]


def test_a_notebook_taking_the_reference_model_costs_nothing_else(hostile_batch):
    report = _notebook_report(hostile_batch, "notebook_takes_the_reference_model")
    for name in ("e07_training", "e08_checkpoint", NEIGHBOUR):
        assert _full_marks(_exercise(report, name)), (name, _exercise(report, name)["checks"])


def test_a_notebook_taking_the_reference_model_earns_nothing_for_it(hostile_batch):
    report = _notebook_report(hostile_batch, "notebook_takes_the_reference_model")
    result = _exercise(report, "e05_two_layer_net")
    assert result["score"] == 0, result["checks"]


def test_a_notebook_exercise_that_signals_the_notebooks_process_costs_only_itself(hostile_batch):
    report = _notebook_report(hostile_batch, "notebook_exercise_kills_the_notebooks_process")
    neighbour = _exercise(report, NEIGHBOUR)
    assert _full_marks(neighbour), neighbour["checks"]
    victim = _exercise(report, VICTIM)
    assert victim["score"] == 0
    assert all(p in victim["checks"][0]["feedback"].lower() for p in KILL_REFUSED), \
        victim["checks"][0]["feedback"]


def test_batch_json_says_the_sandbox_once_at_the_top(hostile_batch):
    assert hostile_batch.data["sandbox"] == REPORTED
    assert all("sandbox" not in report for report in hostile_batch.reports.values())


# ---------------------------------------------------------------- --strict-sandbox

def test_strict_sandbox_grades_normally_and_the_terminal_report_says_the_sandbox_once():
    if not (FILESYSTEM_CONFINED and NETWORK_CONFINED):
        pytest.skip("this machine cannot confine workers: --strict-sandbox refuses here")
    done = run_cli(str(SOLUTIONS / f"{VICTIM}.py"), "--only", VICTIM, "--strict-sandbox",
                   "--color", "never")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    lines = [line for line in done.stdout.splitlines() if line.startswith("sandbox:")]
    assert lines == [f"sandbox: filesystem {CONFINED['filesystem']}, network "
                     f"{CONFINED['network']}, processes {CONFINED['pids']}"]


@pytest.mark.parametrize("layer", ["filesystem", "network"])
def test_strict_sandbox_exits_2_without_a_layer(layer):
    done = run_cli(str(SOLUTIONS / f"{VICTIM}.py"), "--only", VICTIM, "--strict-sandbox",
                   env={confine.DISABLE_ENV: layer})
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-2000:])
    assert "--strict-sandbox" in done.stderr and layer in done.stderr, done.stderr
    assert done.stdout == ""


def test_without_the_layers_the_grader_still_grades_and_says_so():
    done = run_cli(str(SOLUTIONS / f"{VICTIM}.py"), "--only", VICTIM, "--format", "json",
                   env={confine.DISABLE_ENV: "filesystem,network"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert _full_marks(_exercise(report, VICTIM))
    assert report["sandbox"]["filesystem"] == "none"
    assert report["sandbox"]["network"] == "open"
