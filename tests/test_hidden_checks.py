"""A student's worker cannot read any of the grader's check code by path: not an
exercise's own package, nor the code several exercises share beside them
(grader/checks/two_layer, modules, training), whose helpers compute right answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, exercise_result
from grader import confine

CHECKS = ROOT / "grader" / "checks"
SHARED = sorted(str(p) for p in CHECKS.rglob("*.py") if p.parent != CHECKS)

pytestmark = pytest.mark.skipif(confine.available()["filesystem"] != "landlock",
                                reason="needs Landlock to hide files from workers")


def test_every_check_file_is_unreadable_from_a_students_worker(grade):
    assert any("/two_layer/" in p for p in SHARED) and any("/training/" in p for p in SHARED)
    report = grade({"e01_numpy_grads.py": f'''
        import os
        PATHS = {SHARED!r}

        def numpy_two_layer_grads(x, y, w1, w2):
            read = []
            for path in PATHS:
                try:
                    with open(path) as handle:
                        handle.read(1)
                    read.append(os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(path))
                except OSError:
                    pass
            try:
                listed = os.listdir({str(CHECKS)!r})
            except OSError:
                listed = []
            raise RuntimeError(f"READ {{len(read)}} {{read[:5]}} LISTED {{len(listed)}}")

        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            raise NotImplementedError
        '''})
    feedback = " ".join(c.feedback for c in exercise_result(report, "e01_numpy_grads").checks)
    assert "READ 0 [] LISTED 0" in feedback, feedback
