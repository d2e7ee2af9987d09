"""e01: a two-layer net, forward and backward by hand with NumPy.

PROBE_PLAN: every input is drawn from the grader's seed, shapes included (common.SMALL,
LARGE, DEFAULT_RUN), never the tutorial's constants.

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
Tolerances: common.TOLERANCES (measured; the table is there).
"""

from __future__ import annotations

from pathlib import Path

import functools

import numpy as np

from grader import course, hookimpl
from grader.checks import common
from grader.exercise import Exercise, t

LEARNING_RATE, STEPS = 3e-3, 8   # each step changes the loss by 10% or more: shifts are visible


@functools.lru_cache(maxsize=4)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    return common.training_inputs(seed, LEARNING_RATE, STEPS)


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return common.fresh(_inputs(seed))


ENTRY = course.entry("e01_numpy_grads")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


@EXERCISE.probe
def grads(sub, inputs):
    return common.probe_pure_grads(sub.numpy_two_layer_grads, inputs, np.copy)


@EXERCISE.probe
def train(sub, inputs):
    return common.probe_train(sub.numpy_train, inputs, np.copy, LEARNING_RATE, STEPS,
                              other_learning_rate=1e-3)


@EXERCISE.probe
def default_run(sub, inputs):  # the judge of the same run is the check train_at_scale
    return common.probe_train_at_scale(sub.numpy_train, inputs, np.copy)


def _numpy_only(label: str, value) -> list:
    if isinstance(value, np.ndarray):
        return []
    return [t("not_numpy", label=label, got=common.kind_of(value))]


# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
common.declare_grad_checks(EXERCISE, extra=_numpy_only)


@EXERCISE.check(points=1, probe="train")
def train_losses(ctx):
    return common.judge_train_losses(ctx)


@EXERCISE.check(points=2, probe="train")
def train_weights(ctx):
    return common.judge_train_weights(ctx)


@EXERCISE.check(points=1, probe="default_run")
def train_at_scale(ctx):
    return common.judge_train_at_scale(ctx)


common.declare_two_layer_misconceptions(EXERCISE, "numpy_two_layer_grads", "numpy_train")


@hookimpl
def grader_exercises():
    return [EXERCISE]
