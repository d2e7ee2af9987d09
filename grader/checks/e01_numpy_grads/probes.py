"""Worker: e01's probes, on NumPy copies of the grader's data (see PROBE_PLAN)."""

from __future__ import annotations

import numpy as np

from grader.checks.e01_numpy_grads.inputs import LEARNING_RATE, OTHER_LEARNING_RATE, STEPS
from grader.checks.two_layer.probes import probe_pure_grads, probe_train, probe_train_at_scale


def grads(sub, inputs):
    return probe_pure_grads(sub.numpy_two_layer_grads, inputs, np.copy)


def train(sub, inputs):
    return probe_train(sub.numpy_train, inputs, np.copy, LEARNING_RATE, STEPS,
                       other_learning_rate=OTHER_LEARNING_RATE)


def default_run(sub, inputs):  # the judge of the same run is the check train_at_scale
    return probe_train_at_scale(sub.numpy_train, inputs, np.copy)
