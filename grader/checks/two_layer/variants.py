"""Grader and reference worker: the two-layer net in NumPy, right or with one idea changed.

`buggy_grads` and `buggy_train` with their defaults compute the reference's answer. The
grader runs them to draw data clear of ReLU kinks (`inputs`) and in the detectors that
replay a wrong idea on the probe's own data (`detectors`); the reference worker's
mutants (`mutants`) wrap them. NumPy only, so the grader may import this module; no probe
may call it (then `grader/strip.py` keeps it out of a student's worker).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

#: The defaults the contract gives numpy_train and autograd_train.
DEFAULTS = {"learning_rate": 1e-6, "steps": 500}

#: The wrong ideas about the gradients, as changes to buggy_grads, by misconception key.
GRADS_IDEAS: dict[str, dict[str, Any]] = {
    "half_sse": {"factor": 1.0, "loss_scale": 0.5},
    "factor_two": {"factor": 1.0},
    "mean_loss": {"mean": True},
    "relu_mask_missing": {"mask": None},
    "relu_mask_inverted": {"mask": "inverted"},
    "relu_on_gradient": {"mask": "on_gradient"},
}

#: The wrong ideas about training, as changes to buggy_train, by misconception key.
TRAIN_IDEAS: dict[str, dict[str, Any]] = {
    "loss_after_update": {"after": True},
    "gradient_ascent": {"sign": -1.0},
    "ignores_learning_rate": {"fixed_lr": 1e-6},
    "grads_accumulate": {"accumulate": True},
}


def _np(value: Any) -> np.ndarray:
    """A float64 copy, or float32 for float32 data: a mutant computes in the dtype it is
    handed, as the reference does (e03's float32 runs drift apart from float64 ones)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    return np.array(array, dtype=np.float32 if array.dtype == np.float32 else np.float64)


#: Mutants compute in float32 on data with more inputs than this (LARGE data).
FLOAT32_ABOVE = 256


def buggy_grads(x, y, w1, w2, *, factor: float = 2.0, mean: bool = False,
                mask: str | None = "normal", loss_scale: float = 1.0
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """The reference computation with one idea changed. On LARGE data in float32:
    float64 matrix products that size cost ten times more, and float32 lands well within
    the large data's tolerance (judges.Tolerances)."""
    x, y, w1, w2 = map(_np, (x, y, w1, w2))
    if x.shape[-1] > FLOAT32_ABOVE:
        x, y, w1, w2 = (a.astype(np.float32) for a in (x, y, w1, w2))
    with np.errstate(over="ignore", invalid="ignore"):   # a wrong idea may diverge
        h = x @ w1
        h_relu = np.maximum(h, 0)
        diff = h_relu @ w2 - y
        size = diff.size if mean else 1
        loss = loss_scale * float(np.square(diff).sum()) / size
        grad_y_pred = factor * diff / size
        grad_w2 = h_relu.T @ grad_y_pred
        grad_h = grad_y_pred @ w2.T
        if mask == "normal":
            grad_h[h < 0] = 0
        elif mask == "inverted":
            grad_h[h > 0] = 0
        elif mask == "on_gradient":
            grad_h[grad_h < 0] = 0
        return loss, x.T @ grad_h, grad_w2


def buggy_train(x, y, w1, w2, learning_rate, steps, *, grads=buggy_grads,
                after: bool = False, sign: float = 1.0, fixed_lr: float | None = None,
                accumulate: bool = False, update: bool = True, extra_steps: int = 0,
                weight_decay: float = 0.0):
    w1, w2 = _np(w1), _np(w2)
    lr = learning_rate if fixed_lr is None else fixed_lr
    losses = []
    acc1, acc2 = np.zeros_like(w1), np.zeros_like(w2)
    with np.errstate(over="ignore", invalid="ignore"):   # a wrong idea may diverge
        for _ in range(steps + extra_steps):
            loss, g1, g2 = grads(x, y, w1, w2)
            if accumulate:
                acc1, acc2 = (acc1 + g1).astype(w1.dtype), (acc2 + g2).astype(w2.dtype)
                g1, g2 = acc1, acc2
            if update:
                w1 = (w1 - sign * lr * (g1 + weight_decay * w1)).astype(w1.dtype)
                w2 = (w2 - sign * lr * (g2 + weight_decay * w2)).astype(w2.dtype)
            losses.append(grads(x, y, w1, w2)[0] if after else loss)
    return w1, w2, losses


def train_change(idea: str) -> dict[str, Any]:
    """buggy_train's change for an idea: a training idea's own, or an idea about the
    gradients taken at every step."""
    if idea in GRADS_IDEAS:
        return {"grads": functools.partial(buggy_grads, **GRADS_IDEAS[idea])}
    return dict(TRAIN_IDEAS[idea])
