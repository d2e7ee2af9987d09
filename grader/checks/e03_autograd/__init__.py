"""Grader: e03, the two-layer net's gradients through autograd, and training with them.

PROBE_PLAN: e01's plan (see there), with the data handed over as float32 tensors:

grads           autograd_two_layer_grads on SMALL data, twice (values, purity: the caller's
                tensors must not require grad afterwards, repeatability); once on LARGE data.
train           autograd_train(..., learning_rate=3e-3, steps=8) on SMALL data, again at
                1e-3, and 8 steps from a minimum.
default_run     autograd_train(x, y, w1, w2): 500 steps at 1e-6 on DEFAULT_RUN data, then 3
                steps on LARGE data at a drawn rate. About 70 ms.
through_autograd autograd_two_layer_grads once on SMALL data, counting autograd's backward
                passes (every way in ends in its engine): none means the gradients were
                written out by hand, which is e02, not this exercise.
Tolerances: two_layer.judges.TOLERANCES (measured against this float32 reference too).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e03_autograd import judges
from grader.checks.e03_autograd.inputs import LEARNING_RATE, STEPS, make_inputs
from grader.checks.two_layer import (declare_grad_checks, declare_two_layer_misconceptions,
                                     judges as two_layer_judges)

__all__ = ["EXERCISE", "LEARNING_RATE", "STEPS", "grader_exercises"]


EXERCISE = course.declare(__name__, make_inputs)

# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
declare_grad_checks(EXERCISE, extra=two_layer_judges.tensors_only)
EXERCISE.check(points=1, probe="train")(judges.train_losses)
EXERCISE.check(points=2, probe="train", name="train_weights")(two_layer_judges.judge_train_weights)
EXERCISE.check(points=1, probe="default_run", name="train_at_scale")(
    two_layer_judges.judge_train_at_scale)
EXERCISE.check(points=1, probe="through_autograd")(judges.gradients_by_autograd)

declare_two_layer_misconceptions(EXERCISE, training=True, autograd=True, dtype="float32")


@hookimpl
def grader_exercises():
    return [EXERCISE]
