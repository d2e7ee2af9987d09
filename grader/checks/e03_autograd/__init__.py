"""e03: the two-layer net's gradients through autograd, and training with them.

PROBE_PLAN: e01's plan (see there), with the data handed over as float32 tensors:

grads           autograd_two_layer_grads on SMALL data, twice (values, purity: the caller's
                tensors must not require grad afterwards, repeatability); once on LARGE data.
train           autograd_train(..., learning_rate=3e-3, steps=8) on SMALL data, again at
                1e-3, and 8 steps from a minimum.
default_run     autograd_train(x, y, w1, w2): 500 steps at 1e-6 on DEFAULT_RUN data, then 3
                steps on LARGE data at a drawn rate. About 70 ms.
Tolerances: common.TOLERANCES (measured against this float32 reference too).
"""

from __future__ import annotations

from pathlib import Path

import functools

import numpy as np

from grader import course, hookimpl
from grader.checks import common
from grader.codec import TensorData
from grader.exercise import Exercise, failed

# On this float32 data each step changes the loss by 5% or more (the first by about half),
# so a shifted, accumulated or missing update shows; a second run at another rate tells
# whether learning_rate is used at all.
LEARNING_RATE, STEPS = 3e-3, 8
OTHER_LEARNING_RATE = 1e-3


@functools.lru_cache(maxsize=4)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    return common.training_inputs(seed, LEARNING_RATE, STEPS)


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return common.fresh(_inputs(seed))


ENTRY = course.entry("e03_autograd")
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
    return common.probe_pure_grads(sub.autograd_two_layer_grads, inputs,
                                   common.as_tensors(inputs))


@EXERCISE.probe
def train(sub, inputs):
    return common.probe_train(sub.autograd_train, inputs, common.as_tensors(inputs),
                              LEARNING_RATE, STEPS, other_learning_rate=OTHER_LEARNING_RATE)


@EXERCISE.probe
def default_run(sub, inputs):  # the judge of the same run is the check train_at_scale
    return common.probe_train_at_scale(sub.autograd_train, inputs, common.as_tensors(inputs))


# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
common.declare_grad_checks(EXERCISE, extra=common.tensors_only)


@EXERCISE.check(points=1, probe="train")
def train_losses(ctx):
    verdict = common.judge_train_losses(ctx)
    if verdict.passed:
        return verdict
    got = common.unpack(ctx.out["returned"], 3)
    if got and isinstance(got[2], (list, tuple)) and \
            any(isinstance(v, TensorData) and v.has_grad_fn for v in got[2]):
        return failed(*verdict.lines, fraction=verdict.fraction,
                      misconception="losses_keep_graph")
    return verdict


@EXERCISE.check(points=2, probe="train")
def train_weights(ctx):
    return common.judge_train_weights(ctx)


@EXERCISE.check(points=1, probe="default_run")
def train_at_scale(ctx):
    return common.judge_train_at_scale(ctx)


common.declare_two_layer_misconceptions(EXERCISE, "autograd_two_layer_grads", "autograd_train",
                                        autograd=True, dtype="float32")


@hookimpl
def grader_exercises():
    return [EXERCISE]
