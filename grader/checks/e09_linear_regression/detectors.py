"""e09's misconception detectors (grader process): predicates on a failing check's
outputs, for the ideas no single mutant can stand for (a shift by one epoch, a run cut
short, a gradient changed by a factor, any starting w). NumPy only, no torch.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.checks.e09_linear_regression.inputs import (DEFAULT_EPOCHS, DEFAULT_GD_LR,
                                                        DEFAULT_STEPS)
from grader.checks.e09_linear_regression.judges import RTOL_FIT, RTOL_GD, loss_list, pair_of
from grader.exercise import JudgeContext
from grader.judging import compare, is_real_number


# Shifts and a cut-off run are read off the reference's own losses (no extra runs): the
# loss after update t is the loss before update t + 1; the test loss before update t is
# the one after update t - 1; 100 epochs at the given rate are the first 100 of its run.
def _shifted(ctx, index: int, by: int) -> bool:
    """The student's losses[index] are the reference's shifted by `by` epochs."""
    pair, want = pair_of(ctx.out["returned"]), pair_of(ctx.ref["returned"])
    have = loss_list(pair[index]) if pair else None
    expected = np.array(want[index], dtype=np.float64)
    if have is None or have.shape != expected.shape or len(expected) < 3:
        return False
    if by > 0:
        return not compare("", have[:-by], expected[by:], RTOL_FIT)
    return not compare("", have[-by:], expected[:by], RTOL_FIT)


def loss_after_update(ctx) -> bool:
    return _shifted(ctx, 0, 1)


def test_before_step(ctx) -> bool:
    return _shifted(ctx, 1, -1)


def stopped_at_default_epochs(ctx) -> bool:
    pair, want = pair_of(ctx.out["returned"]), pair_of(ctx.ref["returned"])
    have = loss_list(pair[0]) if pair else None
    return have is not None and have.shape == (DEFAULT_EPOCHS,) and \
        len(want[0]) > DEFAULT_EPOCHS and \
        not compare("", have, list(want[0][:DEFAULT_EPOCHS]), RTOL_FIT)


def descent_run(x, y, learning_rate: float, steps: int, *, factor: float = 2.0,
                mean: bool = True, after: bool = False, start: float = 0.0
                ) -> tuple[float, list[float]]:
    """manual_gradient_descent in float64, with one idea changeable (grader side)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, losses = start, []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            residual = w * x - y
            gradient = np.sum(factor * x * residual) / (len(x) if mean else 1)
            loss = float(np.mean(residual ** 2))
            w -= learning_rate * gradient
            losses.append(float(np.mean((w * x - y) ** 2)) if after else loss)
    return float(w), losses


def descent_with(other: bool, **change: Any) -> Callable[[JudgeContext], bool]:
    """A detector: the student's descent (the default call, or the other one) follows
    manual_gradient_descent with `change` (see _descent_matches)."""
    def detect(ctx) -> bool:
        return _descent_matches(ctx, other, **change)
    return detect


def _descent_matches(ctx, other: bool, **change: Any) -> bool:
    """The student's (w, losses) follow manual_gradient_descent with `change`, for as long
    as that run stays finite (a gradient N times too large blows up)."""
    pair = pair_of(ctx.out["returned"])
    if pair is None or not is_real_number(pair[0]):
        return False
    losses = loss_list(pair[1])
    if other:
        x, y = ctx.inputs["gd_x2"], ctx.inputs["gd_y2"]
        rate, steps = float(ctx.inputs["gd_other"][0]), int(ctx.inputs["gd_other"][1])
    else:   # the default call gets float32 arrays
        x, y = (ctx.inputs[k].astype(np.float32) for k in ("gd_x", "gd_y"))
        rate, steps = DEFAULT_GD_LR, DEFAULT_STEPS
    rate = change.pop("rate", rate)
    steps = change.pop("steps", steps)
    if change.pop("start_from_loss", False):
        return losses is not None and _started_elsewhere(x, y, rate, steps, pair[0], losses)
    w, want = descent_run(x, y, rate, steps, **change)
    if losses is None or losses.shape != (len(want),):
        return False
    want = np.array(want)
    usable = np.isfinite(want) & (np.abs(want) < 1e30) & np.isfinite(losses)
    count = int(np.argmin(usable)) if not usable.all() else len(want)
    if count < min(3, len(want)):
        return False
    if count == len(want) and compare("", pair[0], w, RTOL_GD):
        return False
    return not compare("", losses[:count], want[:count], RTOL_GD)


def _started_elsewhere(x, y, rate, steps, w_got, losses) -> bool:
    """The losses are those of a correct run from some w0 != 0 (solved from losses[0])."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b, c = np.mean(x * x), np.mean(x * y), np.mean(y * y)
    discriminant = b * b - a * (c - losses[0])
    if len(losses) < 2 or discriminant < 0 or abs(losses[0] - c) <= RTOL_GD * c:
        return False
    for start in ((b + np.sqrt(discriminant)) / a, (b - np.sqrt(discriminant)) / a):
        w, want = descent_run(x, y, rate, steps, start=start)
        if not compare("", losses, want, 1e-4) and not compare("", w_got, w, 1e-4):
            return True
    return False
