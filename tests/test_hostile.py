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
import signal
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import SOLUTIONS, TEST_TIMEOUT, exercise_result, run_cli, solution_source
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

    import grader.checks.common, grader.exercise, grader.judging
    from grader.exercise import Verdict
    for _module in (grader.judging, grader.checks.common):
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
        pytest.skip("no hard link to the solutions on this file system")
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
    report = grade({f"{VICTIM}.py": around(spawn) + spawn})
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
    assert len(done.stdout) < 256 * 1024
    assert "raw bytes on fd 1" in victim.get("output", "")
    # The worker's memory holds neither the reference nor anything the grader read.
    assert "FOUND IN MEMORY" not in victim.get("output", "")


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
    done = run_cli(str(tmp_path), "--format", "json", "--only", VICTIM, timeout=10)
    report = json.loads(done.stdout)
    assert next(e for e in report["exercises"] if e["name"] == VICTIM)["score"] == 0


def test_a_link_to_an_endless_device_is_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / f"{VICTIM}.py")
    done = run_cli(str(tmp_path), "--format", "json", "--only", VICTIM, timeout=20)
    report = json.loads(done.stdout)
    assert next(e for e in report["exercises"] if e["name"] == VICTIM)["score"] == 0
    assert any("not a regular file" in note for note in report.get("notes", []))


@pytest.mark.parametrize("line", [
    "from grader.checks.common import buggy_grads as _g",
    "import grader.checks.common as c",
    "from grader import checks",
    "import importlib; c = importlib.import_module('grader.checks.common')",
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
