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

import functools

import numpy as np

from grader import hookimpl
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


EXERCISE = Exercise(
    name="e03_autograd",
    title={"en": "Gradients with autograd", "ko": "autograd로 구하는 기울기"},
    names=("autograd_two_layer_grads", "autograd_train"),
    make_inputs=make_inputs,
    messages={
        **common.GRAD_MESSAGES,
        "losses_keep_graph": {
            "en": "the losses were recorded as tensors that still carry the autograd graph "
                  "(grad_fn): each one keeps its whole step's graph alive in memory. Record "
                  "loss.item() (or float(loss)), a plain number.",
            "ko": "손실을 autograd 그래프(grad_fn)가 달린 텐서 그대로 기록했습니다: 그러면 각 "
                  "손실이 그 단계의 계산 그래프 전체를 메모리에 붙잡아 둡니다. 평범한 숫자인 "
                  "loss.item()(또는 float(loss))을 기록하세요.",
        },
    },
    hints={
        "en": ("Give autograd leaves to work on: w = w.detach().clone().requires_grad_(), "
               "then forward, loss = (y_pred - y).pow(2).sum(), loss.backward(), and read w.grad. "
               "In the training loop, update under torch.no_grad() and zero the gradients every "
               "step.",
               "autograd_two_layer_grads: w1 = w1.detach().clone().requires_grad_(); same for w2; "
               "loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum(); loss.backward(); return "
               "loss.item(), w1.grad, w2.grad. autograd_train: w1.requires_grad_(); "
               "w2.requires_grad_(); per step: loss = ...; losses.append(loss.item()); "
               "loss.backward(); with torch.no_grad(): w1 -= learning_rate * w1.grad; "
               "w2 -= learning_rate * w2.grad; w1.grad.zero_(); w2.grad.zero_(). Return "
               "w1.detach(), w2.detach(), losses."),
        "ko": ("autograd가 다룰 잎(leaf) 텐서를 만드세요: w = w.detach().clone().requires_grad_(). "
               "그다음 순전파, loss = (y_pred - y).pow(2).sum(), loss.backward() 후 w.grad를 "
               "읽습니다. 학습 루프에서는 torch.no_grad() 안에서 갱신하고 매 단계 기울기를 0으로 "
               "만드세요.",
               "autograd_two_layer_grads: w1 = w1.detach().clone().requires_grad_(); w2도 같게; "
               "loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum(); loss.backward(); "
               "return loss.item(), w1.grad, w2.grad. autograd_train: w1.requires_grad_(); "
               "w2.requires_grad_(); 매 단계: loss = ...; losses.append(loss.item()); "
               "loss.backward(); with torch.no_grad(): w1 -= learning_rate * w1.grad; "
               "w2 -= learning_rate * w2.grad; w1.grad.zero_(); w2.grad.zero_(). 마지막에 "
               "w1.detach(), w2.detach(), losses를 반환하세요."),
    },
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
