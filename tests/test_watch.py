"""`--watch` (re-grade on save) and `--only NAME`."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from conftest import EXERCISES, ROOT, run_cli, solution_source
from grader.plugins import plugin_manager
from grader.reporters import ReportSettings
from grader.watch import Watcher, snapshot

E01 = "e01_numpy_grads"


def _touch_later(path, text):
    """Write `text` so that the change is visible even on coarse-mtime filesystems."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_snapshot_sees_files_of_directories_and_single_files(tmp_path):
    (tmp_path / "a.py").write_text("x = 1")
    (tmp_path / "b.ipynb").write_text("{}")
    (tmp_path / ".hidden.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    found = snapshot([tmp_path, tmp_path / "missing.py"])
    assert sorted(os.path.basename(p) for p in found) == ["a.py", "b.ipynb"]


def test_watcher_regrades_only_the_saved_exercise(grader, tmp_path):
    submission = tmp_path / "work"
    submission.mkdir()
    (submission / f"{E01}.py").write_text((EXERCISES / f"{E01}.py").read_text())
    (submission / "e04_my_relu.py").write_text((EXERCISES / "e04_my_relu.py").read_text())
    out = io.StringIO()
    course = [e.name for e in grader.exercises]
    watcher = Watcher(plugin_manager(), grader, [submission], ReportSettings(), out=out,
                      interval=0)
    first = watcher.start()
    assert E01 in first and "Next up: " + grader.exercises[0].name in first
    assert watcher.poll() is None                              # nothing saved yet
    assert not watcher.results[E01].full_marks

    _touch_later(submission / f"{E01}.py", solution_source(E01))
    view = watcher.poll()
    assert view is not None and f"{E01}.py" in view
    assert watcher.results[E01].full_marks
    e01 = watcher.results[E01]
    assert f"{e01.score:g}/{e01.max_score:g}" in view
    assert "e04_my_relu  " not in view                          # only the saved exercise
    assert [e.name for e in grader.exercises] == course         # the grader is left whole
    assert "Progress: " in view

    (submission / f"{E01}.py").unlink()                         # deleted: missing again
    view = watcher.poll()
    assert view is not None and "Not found in your submission" in view
    assert watcher.results[E01].score == 0


def test_watch_command_regrades_on_save_and_exits_0_on_ctrl_c(tmp_path):
    submission = tmp_path / "work"
    submission.mkdir()
    target = submission / f"{E01}.py"
    target.write_text((EXERCISES / f"{E01}.py").read_text())
    process = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "grader", str(submission), "--watch",
         "--only", E01],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # started as a script's background job is: SIGINT ignored, which Python keeps
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    errors: list[str] = []   # read as it comes: a full stderr pipe would block the grader
    threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True).start()

    def wait_for(text, seconds=60.0):
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if process.poll() is not None:
                    break
                continue
            seen.append(line)
            if text in line:
                return "".join(seen)
        raise AssertionError(f"no {text!r} in output:\n{''.join(seen)}\n{''.join(errors)}")

    try:
        first = wait_for("Watching")
        assert "Not implemented yet" in first
        _touch_later(target, solution_source(E01))
        second = wait_for("Watching")
        assert "graded" in second and "All exercises complete" in second
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:   # where it is stuck: faulthandler's dump
            process.send_signal(signal.SIGABRT)
            time.sleep(2)
            raise AssertionError("no exit 30 s after Ctrl-C:\n" + "".join(errors)) from None
        assert code == 0, "".join(errors)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_watch_wrong_use_exits_2(tmp_path):
    assert run_cli("exercises", "--watch", "--format", "json").returncode == 2
    assert run_cli("--batch", str(tmp_path), "--watch").returncode == 2


def test_only_grades_just_the_named_exercises():
    done = run_cli("solutions", "--only", E01, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [e["name"] for e in json.loads(done.stdout)["exercises"]] == [E01]
    both = run_cli("exercises", "--only", E01, "--only", "e04_my_relu", "--format", "json")
    assert both.returncode == 1
    assert [e["name"] for e in json.loads(both.stdout)["exercises"]] == [E01, "e04_my_relu"]
    wrong = run_cli("solutions", "--only", "e99_nothing")
    assert wrong.returncode == 2 and "unknown exercise e99_nothing" in wrong.stderr
