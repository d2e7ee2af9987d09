"""Worker: e03's probes, on float32 tensor copies of the grader's data (see PROBE_PLAN)."""

from __future__ import annotations

from grader.checks.e03_autograd.inputs import LEARNING_RATE, OTHER_LEARNING_RATE, STEPS
from grader.checks.two_layer.inputs import ORDER
from grader.checks.two_layer.probes import (as_tensors, autograd_use, probe_pure_grads,
                                            probe_train, probe_train_at_scale)


def grads(sub, inputs):
    return probe_pure_grads(sub.autograd_two_layer_grads, inputs, as_tensors(inputs))


def train(sub, inputs):
    return probe_train(sub.autograd_train, inputs, as_tensors(inputs),
                       LEARNING_RATE, STEPS, other_learning_rate=OTHER_LEARNING_RATE)


def default_run(sub, inputs):  # the judge of the same run is the check train_at_scale
    return probe_train_at_scale(sub.autograd_train, inputs, as_tensors(inputs))


def through_autograd(sub, inputs):
    """How many backward passes one call runs: the gradients must come from autograd."""
    copy = as_tensors(inputs)
    return autograd_use(sub.autograd_two_layer_grads, lambda: [copy(inputs[k]) for k in ORDER],
                        also_no_grad=False)
