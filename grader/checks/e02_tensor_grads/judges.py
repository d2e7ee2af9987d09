"""Grader: e02's judges (no autograd, the cubic fit) and its poly detectors, NumPy only.

The two-layer checks are two_layer.judges'.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader import course
from grader.checks.e02_tensor_grads.inputs import DTYPES, POLY_ORDER
from grader.checks.two_layer.judges import changed_inputs, tensors_only, unpack
from grader.exercise import JudgeContext, Verdict, failed, passed, t
from grader.judging import as_array, compare, is_real_number, kind_of

#: poly_loss and poly_grads: float32-vs-float64 and other orders (design matrix, Horner,
#: chunked sums, float64 inside, autograd) needed up to 2.2e-7 (loss) and 2.4e-6 (grads)
#: over seeds 0-299, as judging.compare's rtol; about 8-9 times that.
POLY_RTOL = {"loss": 2e-6, "grads": 2e-5}

#: The public functions, in the contract's order (the probe by_hand reports on each).
NAMES = course.entry("e02_tensor_grads").names


def no_autograd(ctx: JudgeContext) -> Verdict:
    lines = []
    for name in NAMES:
        info = ctx.out.get(name)
        if not info:
            continue
        if info.get("no_grad_error"):
            lines.append(t("fails_under_no_grad", name=name, error=info["no_grad_error"]))
        elif info.get("calls"):
            lines.append(t("calls_autograd", name=name))
    return failed(*lines, misconception="uses_autograd") if lines else passed()


# ------------------------------------------------------------------ poly_grads

def _label(label: str, dtype: str) -> str:
    return label if dtype == "float32" else f"{label} ({dtype} inputs)"


def _pairs(ctx: JudgeContext, dtype: str) -> tuple[tuple | None, tuple | None, Any]:
    returned = ctx.out[dtype]["returned"]
    return unpack(returned, 2), unpack(ctx.ref[dtype]["returned"], 2), returned


def poly_loss(ctx: JudgeContext) -> Verdict:
    for dtype in DTYPES:
        got, want, returned = _pairs(ctx, dtype)
        if got is None:
            return failed(t("not_a_pair", got=kind_of(returned)))
        label = _label("loss", dtype)
        problems = compare(label, got[0], want[0], POLY_RTOL["loss"])
        if not is_real_number(got[0]):
            return failed(t("loss_not_number", got=kind_of(got[0])), *problems)
        if problems:
            return failed(*problems)
    return passed()


def poly_grads(ctx: JudgeContext) -> Verdict:
    for dtype in DTYPES:
        got, want, returned = _pairs(ctx, dtype)
        if got is None:
            return failed(t("not_a_pair", got=kind_of(returned)))
        problems = compare(_label("grads", dtype), got[1], want[1], POLY_RTOL["grads"])
        if problems:
            return failed(*problems)
    lines = tensors_only("grads", _pairs(ctx, "float32")[0][1])
    changed = sorted({k.replace("poly_", "") for dtype in DTYPES
                      for k in changed_inputs(JudgeContext(ctx.out[dtype], None,
                                                           ctx.inputs, ctx.seed),
                                              POLY_ORDER)})
    if changed:
        lines.append(t("poly_inputs_changed", names=", ".join(changed)))
    else:
        for dtype in DTYPES:
            first, second = ctx.out[dtype]["returned"], unpack(ctx.out[dtype]["second"], 2)
            if second is None or any(as_array(a) is None or compare("", b, a, 1e-6)
                                     for a, b in zip(first, second)):
                lines.append(t("not_repeatable"))
                break
    return failed(*lines, fraction=0.5) if lines else passed()


# ------------------------------------------------------------------ poly detectors

def poly_numpy(x: np.ndarray, y: np.ndarray, coeffs: np.ndarray, *, factor: float = 2.0,
               mean: bool = False, powers: tuple[int, ...] = (0, 1, 2, 3),
               grad_powers: tuple[int, ...] | None = None,
               sign: float = 1.0, reverse: bool = False,
               loss_scale: float = 1.0) -> tuple[float, np.ndarray]:
    """poly_grads in float64 NumPy, with one idea changed (runs in the grader)."""
    if reverse:   # d, c, b, a = coeffs: grads[i] is then the gradient of coeffs[3 - i]
        coeffs = coeffs[::-1]
    y_pred = sum(c * x ** p for c, p in zip(coeffs, powers))
    diff = y_pred - y
    size = diff.size if mean else 1
    g = sign * factor * diff / size
    grads = np.array([(g * x ** p).sum() for p in (grad_powers or powers)])
    return loss_scale * float(np.square(diff).sum()) / size, grads


def poly_variant(judges: tuple[Callable[[JudgeContext], Verdict], ...], **change: Any
                 ) -> Callable[[JudgeContext], bool]:
    """A detector: every one of the judges passes when the reference is
    poly_numpy(**change) on the probe's own inputs (float32 inputs rounded as the probe
    rounded them): the idea is named only when all its symptoms match."""
    def detect(ctx: JudgeContext) -> bool:
        ref = {}
        for dtype in DTYPES:
            args = [ctx.inputs[k].astype(dtype).astype(np.float64) for k in POLY_ORDER]
            ref[dtype] = {"returned": poly_numpy(*args, **change)}
        mutant = JudgeContext(ctx.out, ref, ctx.inputs, ctx.seed)
        return all(judge(mutant).passed for judge in judges)
    return detect


def cubic_wrong(ctx: JudgeContext) -> bool:
    """grads has three entries, or its first three are right and the last is not."""
    got, want, _ = _pairs(ctx, "float32")
    if not got or not want:
        return False
    have, expected = as_array(got[1]), as_array(want[1])
    if have is None or expected is None:
        return False
    if have.shape == (3,):
        return True
    return (have.shape == (4,) and not compare("", have[:3], expected[:3])
            and bool(compare("", have[3:], expected[3:])))


def derivative_in_x(ctx: JudgeContext) -> bool:
    """grads[i] is sum(g * i * x**(i-1)) (d/dx of x**i) for one or more of b, c, d, and
    right for the others."""
    got, want, _ = _pairs(ctx, "float32")
    if not got or not want:
        return False
    have, expected = as_array(got[1]), as_array(want[1])
    if have is None or expected is None or have.shape != (4,) or expected.shape != (4,):
        return False
    x, y, coeffs = (ctx.inputs[k].astype(np.float32).astype(np.float64) for k in POLY_ORDER)
    g = 2.0 * (sum(c * x ** p for p, c in enumerate(coeffs)) - y)
    wrong = [0.0] + [float((g * p * x ** (p - 1)).sum()) for p in (1, 2, 3)]
    for subset in range(1, 8):   # which of b, c, d (bits 0, 1, 2) use the derivative
        candidate = expected.copy()
        for bit, index in enumerate((1, 2, 3)):
            if subset >> bit & 1:
                candidate[index] = wrong[index]
        if not compare("", have, candidate) and compare("", candidate, expected):
            return True
    return False
