"""Grader: e02, the two-layer net's gradients by hand with torch tensors, and a cubic fit.

PROBE_PLAN: every input is drawn from the grader's seed, shapes and lengths included, never
the tutorial's constants (its 2000 points of sin on [-pi, pi] included).

grads       tensor_two_layer_grads(x, y, w1, w2) on SMALL data (N 10-24), twice: values,
            purity, repeatability; once more on LARGE data (N 67-130, not 64 or 128; D_in
            1001-1200, H 101-128, D_out 11-16): a hard-coded size, rows in batches.
by_hand     both functions, counting autograd's backward passes, then under no_grad.
poly        poly_grads(x, y, coeffs) on POLY_POINTS random points (300-3000 of them,
            uniform on [-a, a], a in 1-3.5; y a random sine plus noise), in float32 and
            float64, twice each (purity, repeatability).
Tolerances: two_layer.judges.TOLERANCES for the two-layer checks; judges.POLY_RTOL
(measured, see there).
"""

from __future__ import annotations

from typing import Any, Callable

from grader import course, hookimpl
from grader.checks.e02_tensor_grads import judges
from grader.checks.e02_tensor_grads.inputs import make_inputs
from grader.checks.two_layer import (declare_grad_checks, declare_two_layer_misconceptions,
                                     judges as two_layer_judges)


EXERCISE = course.declare(__name__, make_inputs)

# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
declare_grad_checks(EXERCISE, extra=two_layer_judges.tensors_only)
EXERCISE.check(points=1, probe="by_hand")(judges.no_autograd)
EXERCISE.check(points=1, probe="poly")(judges.poly_loss)
EXERCISE.check(points=2, probe="poly")(judges.poly_grads)

# ------------------------------------------------------------------ misconceptions

declare_two_layer_misconceptions(EXERCISE, training=False)


def _declare_poly(key: str, checks: tuple[Callable, ...], **change: Any) -> None:
    EXERCISE.misconception(key, checks=tuple(judge.__name__ for judge in checks),
                           detect=judges.poly_variant(checks, **change))


_declare_poly("poly_residual_sign", (judges.poly_grads,), sign=-1.0)
# Before factor_two: 0.5 * sum with grad_y_pred = y_pred - y halves the grads too.
_declare_poly("half_sse", (judges.poly_loss, judges.poly_grads), factor=1.0, loss_scale=0.5)
_declare_poly("factor_two", (judges.poly_grads,), factor=1.0)
_declare_poly("mean_loss", (judges.poly_loss, judges.poly_grads), mean=True)
# The mean in the loss only (its grads by hand right): a symptom of poly_loss alone.
EXERCISE.misconception("mean_loss", checks=("poly_loss",),
                       detect=judges.poly_variant((judges.poly_loss,), mean=True))
# Before poly_cubic_term: 3 * x**2 in place of x**3 is this idea, not a missing cubic term.
EXERCISE.misconception("poly_derivative_in_x", checks=("poly_grads",),
                       detect=judges.derivative_in_x)
EXERCISE.misconception("poly_cubic_term", checks=("poly_grads",), detect=judges.cubic_wrong)
_declare_poly("poly_cubic_term", (judges.poly_loss, judges.poly_grads), powers=(0, 1, 2),
              grad_powers=(0, 1, 2, 3))
_declare_poly("poly_coeffs_reversed", (judges.poly_loss, judges.poly_grads), reverse=True)
_declare_poly("poly_power_off_by_one", (judges.poly_grads,), grad_powers=(1, 2, 3, 4))
_declare_poly("poly_power_off_by_one", (judges.poly_loss, judges.poly_grads),
              powers=(1, 2, 3, 4))


@hookimpl
def grader_exercises():
    return [EXERCISE]
