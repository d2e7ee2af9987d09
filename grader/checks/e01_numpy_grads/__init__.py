"""Grader: e01, a two-layer net, forward and backward by hand with NumPy.

PROBE_PLAN: every input is drawn from the grader's seed, shapes included
(two_layer.inputs: SMALL, LARGE, DEFAULT_RUN), never the tutorial's constants.

grads           numpy_two_layer_grads(x, y, w1, w2) on SMALL data (N 10-24), twice: the
                values, purity and repeatability; once more on LARGE data (N 67-130, not 64
                or 128; D_in 1001-1200, H 101-128, D_out 11-16): a hard-coded size, rows
                handled in batches, a tutorial rebuilt inside.
train           numpy_train(..., learning_rate=3e-3, steps=8) on SMALL data (each step moves
                the loss by 10% or more, so shifted or lost updates show); again at 1e-3
                (is learning_rate used at all?); 8 steps from a minimum (y = relu(x @ w1) @ w2:
                every gradient is 0, so an L2 penalty or weight decay is all that moves the
                weights).
default_run     numpy_train(x, y, w1, w2), defaults left out: 500 steps at 1e-6 on
                DEFAULT_RUN data (N 67-130, not 64 or 128; D_in 24-40, H 16-28, D_out 3-6),
                where 1e-6 trains to the last step (the loss falls to about 5% of its start,
                still by 10-30% over the last 100 steps): a wrong default, a schedule, a
                decay, rows in batches show. Then 3 steps on LARGE data at a rate drawn in
                1e-7..2e-7. About 15 ms; its misconceptions are checked in the grader, only
                for a student who fails it.
Tolerances: two_layer.judges.TOLERANCES (measured; the table is there).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e01_numpy_grads import judges
from grader.checks.e01_numpy_grads.inputs import LEARNING_RATE, STEPS, make_inputs
from grader.checks.two_layer import (declare_grad_checks, declare_two_layer_misconceptions,
                                     judges as two_layer_judges)

__all__ = ["EXERCISE", "LEARNING_RATE", "STEPS", "grader_exercises"]


EXERCISE = course.declare(__name__, make_inputs)

# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
declare_grad_checks(EXERCISE, extra=judges.numpy_only)
EXERCISE.check(points=1, probe="train", name="train_losses")(two_layer_judges.judge_train_losses)
EXERCISE.check(points=2, probe="train", name="train_weights")(two_layer_judges.judge_train_weights)
EXERCISE.check(points=1, probe="default_run", name="train_at_scale")(
    two_layer_judges.judge_train_at_scale)

declare_two_layer_misconceptions(EXERCISE, training=True)


@hookimpl
def grader_exercises():
    return [EXERCISE]
