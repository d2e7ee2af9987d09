"""A student's worker keeps only the check code its own probes take: what a probe names as
an attribute of the student's namespace (sub.train) is not taken of the grader's modules."""

from __future__ import annotations

from conftest import exercise_result

WRAPS_REFERENCE_TRAIN = """
import sys, torch

def _reference():
    return sys.modules["grader.checks.e07_training.mutants"]

def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
    return _reference().train(model, x, y, steps=steps, learning_rate=learning_rate,
                              momentum=momentum)

def evaluate(model, x, y):
    return _reference().evaluate(model, x, y)

def pick_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""


def test_wrapping_the_graders_reference_training_loop_earns_nothing_for_it(grade):
    result = exercise_result(grade({"e07_training.py": WRAPS_REFERENCE_TRAIN}), "e07_training")
    train_checks = [c for c in result.checks if c.name.startswith(("train_", "evaluate_"))]
    assert train_checks and all(c.status != "passed" for c in train_checks), \
        [(c.name, c.status) for c in train_checks]
