"""e09's misconception mutants (the reference worker only): each takes the submitted
(reference) names and returns small buggy versions of some of them. A student whose
outputs match a mutant's on every check its misconception lists is told that idea.
"""

from __future__ import annotations

import numpy as np
import torch

from grader.checks.e09_linear_regression.inputs import (DEFAULT_EPOCHS, DEFAULT_FIT_LR,
                                                        DEFAULT_GD_LR, DEFAULT_STEPS)


def reference_fit(model, X_train, y_train, X_test, y_test, *, epochs=DEFAULT_EPOCHS,
                  learning_rate=DEFAULT_FIT_LR, bug: str | None = None):
    """fit, correct when `bug` is None, else with one typical mistake:
    "mse", "abs_of_mean", "accumulate" (the gradients never zeroed), "fixed_lr",
    "zero_before_step" (zero_grad between backward and step), "test_on_train" (the
    test loss taken on the training data)."""
    def loss_fn(pred, target):
        if bug == "mse":
            return torch.nn.functional.mse_loss(pred, target)
        if bug == "abs_of_mean":
            return (pred - target).mean().abs()
        return torch.nn.functional.l1_loss(pred, target)

    rate = DEFAULT_FIT_LR if bug == "fixed_lr" else learning_rate
    optimizer = torch.optim.SGD(model.parameters(), lr=rate)
    X_eval, y_eval = (X_train, y_train) if bug == "test_on_train" else (X_test, y_test)
    train_losses, test_losses = [], []

    for _ in range(epochs):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        train_losses.append(loss.item())
        if bug not in ("accumulate", "zero_before_step"):
            optimizer.zero_grad()
        loss.backward()
        if bug == "zero_before_step":
            optimizer.zero_grad()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            test_losses.append(loss_fn(model(X_eval), y_eval).item())
    return train_losses, test_losses


def _fit_with(bug: str) -> dict:
    def fit(model, X_train, y_train, X_test, y_test, *, epochs=DEFAULT_EPOCHS,
            learning_rate=DEFAULT_FIT_LR):
        return reference_fit(model, X_train, y_train, X_test, y_test, epochs=epochs,
                             learning_rate=learning_rate, bug=bug)
    return {"fit": fit}


def mse_not_l1(submitted):
    return _fit_with("mse")


def abs_of_mean(submitted):
    return _fit_with("abs_of_mean")


def grads_accumulate(submitted):
    return _fit_with("accumulate")


def ignores_learning_rate(submitted):
    return _fit_with("fixed_lr")


def no_update(submitted):
    """zero_grad() between backward() and step(): every step finds no gradient."""
    return _fit_with("zero_before_step")


def test_loss_on_train_data(submitted):
    return _fit_with("test_on_train")


def tutorial_constants(submitted):
    def make_line_data(*args, **kwargs):
        return submitted["make_line_data"]()
    return {"make_line_data": make_line_data}


def ignores_train_fraction(submitted):
    def split_data(X, y, train_fraction=0.8):
        return submitted["split_data"](X, y)
    return {"split_data": split_data}


def gradient_ascent(submitted):
    """w += learning_rate * gradient: each step climbs the loss."""
    def manual_gradient_descent(x, y, *, learning_rate=DEFAULT_GD_LR, steps=DEFAULT_STEPS):
        w, losses = 0.0, []
        for _ in range(steps):
            y_pred = w * x
            losses.append(float(np.mean((y_pred - y) ** 2)))
            w += learning_rate * np.mean(2 * x * (y_pred - y))
        return float(w), losses
    return {"manual_gradient_descent": manual_gradient_descent}
