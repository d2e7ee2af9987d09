"""e01: a two-layer net, forward and backward by hand with NumPy."""

from __future__ import annotations

import numpy as np

from grader import hookimpl
from grader.checks import common
from grader.exercise import Exercise, t

N, D_IN, H, D_OUT = 16, 12, 8, 3
LEARNING_RATE, STEPS = 3e-3, 8   # each step changes the loss by 10% or more: shifts are visible

EXERCISE = Exercise(
    name="e01_numpy_grads",
    title={"en": "Two-layer net by hand with NumPy", "ko": "NumPy로 직접 만드는 2층 신경망"},
    names=("numpy_two_layer_grads", "numpy_train"),
    make_inputs=lambda seed: common.two_layer_data(seed, N, D_IN, H, D_OUT, LEARNING_RATE,
                                                    STEPS),
    messages={
        **common.GRAD_MESSAGES,
        "not_numpy": {
            "en": "{label} should be a NumPy array (this exercise uses NumPy only), got {got}.",
            "ko": "{label}은(는) NumPy 배열이어야 합니다 (이 문제는 NumPy만 씁니다). {got}이(가) "
                  "나왔습니다.",
        },
    },
    hints={
        "en": ("Write the forward pass first (h = x @ w1, h_relu, y_pred), keep h, then go "
               "backwards one line per step of the chain rule.",
               "grad_y_pred = 2 * (y_pred - y); grad_w2 = h_relu.T @ grad_y_pred; "
               "grad_h = grad_y_pred @ w2.T, then set grad_h[h < 0] = 0; grad_w1 = x.T @ grad_h. "
               "In numpy_train, record the loss before updating w1 and w2 with "
               "w -= learning_rate * grad."),
        "ko": ("먼저 순전파(h = x @ w1, h_relu, y_pred)를 쓰고 h를 보관한 뒤, 연쇄 법칙을 한 단계에 "
               "한 줄씩 거꾸로 따라가세요.",
               "grad_y_pred = 2 * (y_pred - y); grad_w2 = h_relu.T @ grad_y_pred; "
               "grad_h = grad_y_pred @ w2.T 다음 grad_h[h < 0] = 0; grad_w1 = x.T @ grad_h. "
               "numpy_train에서는 w -= learning_rate * grad로 갱신하기 전에 손실을 기록하세요."),
    },
)


@EXERCISE.probe
def grads(sub, inputs):
    return common.probe_pure_grads(sub.numpy_two_layer_grads, inputs, np.copy)


@EXERCISE.probe
def train(sub, inputs):
    return common.probe_train(sub.numpy_train, inputs, np.copy, LEARNING_RATE, STEPS,
                              other_learning_rate=1e-3)


def _numpy_only(label: str, value) -> list:
    if isinstance(value, np.ndarray):
        return []
    return [t("not_numpy", label=label, got=common.kind_of(value))]


# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
common.declare_grad_checks(EXERCISE, extra=_numpy_only)


@EXERCISE.check(points=2, probe="train")
def train_losses(ctx):
    return common.judge_train_losses(ctx, STEPS)


@EXERCISE.check(points=2, probe="train")
def train_weights(ctx):
    return common.judge_train_weights(ctx)


common.declare_two_layer_misconceptions(EXERCISE, "numpy_two_layer_grads", "numpy_train")


@hookimpl
def grader_exercises():
    return [EXERCISE]
