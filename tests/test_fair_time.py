"""A time limit is on the time a worker could run, not on how busy the machine is.

Three processes spin on the one CPU the grader is given, so a worker gets about a quarter
of it: one second of work takes about four of wall clock. The time a worker waits for the
CPU is given back (up to twice its limit), so the verdict is the one an idle machine gives,
while a worker that never ends is still stopped within three times its limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SOLUTIONS

SPIN = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"

pytestmark = pytest.mark.skipif(
    not (hasattr(os, "sched_setaffinity") and Path("/proc/self/schedstat").exists()),
    reason="needs Linux's CPU affinity and schedstat (elsewhere the limit is wall clock)")


def one_second_of_work_then(solution: str) -> str:
    return ("import time\n_start = time.process_time()\n"
            "while time.process_time() - _start < 1.0:\n    pass\n\n"
            + (SOLUTIONS / solution).read_text())


def test_a_busy_machine_does_not_turn_slow_work_into_a_timeout(tmp_path):
    (tmp_path / "e04_my_relu.py").write_text(one_second_of_work_then("e04_my_relu.py"))
    (tmp_path / "e00_tensor_basics.py").write_text("while True:\n    pass\n")
    busy = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(3)]
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "grader", str(tmp_path), "--timeout", "2",
             "--format", "json", "--only", "e04", "--only", "e00"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            preexec_fn=lambda: os.sched_setaffinity(0, {0}))   # its workers inherit it
        seconds = time.monotonic() - started
    finally:
        for process in busy:
            process.kill()
            process.wait()
    exercises = {e["name"]: e for e in json.loads(done.stdout)["exercises"]}
    slow = exercises["e04_my_relu"]
    assert slow["score"] == slow["max_score"] > 0, [c["feedback"] for c in slow["checks"]]
    endless = exercises["e00_tensor_basics"]
    assert {c["status"] for c in endless["checks"]} == {"timeout"}
    assert "Stopped after 2 s" in endless["checks"][0]["feedback"]
    assert seconds < 200, seconds   # generous: the grader's own start shares the one CPU too
