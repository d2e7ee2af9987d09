"""Every wait of the grader has a deadline, also where the sandbox's own processes can be
signalled (no Landlock scopes: simulated with GRADER_SANDBOX_OFF=filesystem)."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from conftest import SOLUTIONS, run_cli


@pytest.mark.fork_only("a stopped zygote is the fork backend's: under spawn the worker's "
                       "parent is the grader, and only Landlock's signal scope refuses it")
def test_a_stopped_zygote_is_replaced_and_costs_only_the_exercise_that_stopped_it(tmp_path):
    for name in ("e04_my_relu", "e05_two_layer_net"):
        shutil.copy(SOLUTIONS / f"{name}.py", tmp_path)
    (tmp_path / "e06_dynamic_net.py").write_text(
        "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n")
    started = time.monotonic()
    done = run_cli(str(tmp_path), "--format", "json", "--timeout", "2",
                   "--only", "e04_my_relu", "--only", "e05_two_layer_net",
                   "--only", "e06_dynamic_net",
                   env={"GRADER_SANDBOX_OFF": "filesystem"}, timeout=170)
    # The bound: each run of the stopping exercise costs its limit plus 5 s before the
    # zygote is judged stopped, and it runs twice (the second time alone); generous here.
    assert time.monotonic() - started < 120
    report = json.loads(done.stdout)
    assert report["sandbox"]["filesystem"] == "none"
    scores = {e["name"]: e for e in report["exercises"]}
    for name in ("e04_my_relu", "e05_two_layer_net"):
        assert scores[name]["score"] == scores[name]["max_score"] > 0, name
    stopper = scores["e06_dynamic_net"]
    assert stopper["score"] == 0
    assert {c["status"] for c in stopper["checks"]} == {"error"}
    assert "killed the grader's sandbox" in stopper["checks"][0]["feedback"]
