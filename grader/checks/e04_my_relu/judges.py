"""Grader: e04's judges (NumPy only), against the reference's outputs.

RTOL: see the tolerance in the package's docstring (ReLU only selects values, so every
correct answer is exact in the precision it computes in).
"""

from __future__ import annotations

import numpy as np

from grader.checks.e04_my_relu.inputs import LARGE_CASES, twice_upstreams
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare, kind_of

RTOL = 5e-7


def forward_values(ctx):
    out = ctx.out.get("out") if isinstance(ctx.out, dict) else ctx.out
    problems = compare("MyReLU.apply(x)", out, np.maximum(ctx.inputs["x"], 0), RTOL)
    return failed(t("forward_wrong"), *problems) if problems else passed()


def _as_float32(array):
    """The values a float32 probe really worked on."""
    return np.asarray(array).astype(np.float32).astype(np.float64)


def _grad_verdict(got_value, want_value, x, upstream, label="x.grad", how=None):
    """x.grad against the reference's, either convention passing where x == 0.

    `upstream` holds the values the probe passed (in the probe's own precision)."""
    if got_value is None:
        return failed(t("no_grad"))
    how = how if how is not None else t("backward_wrong", how=t("upstream_random"))
    got, want = as_array(got_value), as_array(want_value)
    if got is None or got.shape != x.shape:
        return failed(*compare(label, got_value, want, RTOL))
    at_zero = x == 0
    # where x == 0 either convention passes: compare the rest, element by element
    problems = compare(label, np.where(at_zero, want, got), want, RTOL)
    if problems:
        return failed(how, *problems)
    for index in zip(*np.nonzero(at_zero)):
        value = got[index]
        if not (abs(value) <= 1e-6 or abs(value - upstream[index]) <= 1e-5 * abs(upstream[index])):
            return failed(t("backward_at_zero", got=float(value),
                            index=tuple(int(i) for i in index)))
    return passed()


def _backward_verdict(out, ref, inputs):
    if not isinstance(out, dict) or "grad" not in out:
        return failed(t("wrong_type", label=t("label_backward_probe"), expected=t("expected_result"),
                        got=kind_of(out)))
    verdict = _grad_verdict(out["grad"], ref["grad"], inputs["x"],
                            _as_float32(inputs["grad_output"]))
    if not verdict.passed:
        return verdict
    twice, want = out.get("twice"), ref.get("twice")
    if not isinstance(want, dict) or "grads" not in want:
        return verdict
    if not isinstance(twice, dict) or "grads" not in twice:
        error = twice.get("error") if isinstance(twice, dict) else kind_of(twice)
        return failed(t("twice_failed", error=error))
    grads = twice["grads"] if isinstance(twice["grads"], (list, tuple)) else ()
    if len(grads) != 2:
        return failed(t("twice_failed", error=kind_of(twice["grads"])))
    for grad, expected, x, upstream, label in zip(
            grads, want["grads"], (inputs["x"], -inputs["x"]),
            [_as_float32(u) for u in twice_upstreams(inputs)],
            (t("label_grad_first_use"), t("label_grad_second_use"))):
        second = _grad_verdict(grad, expected, x, upstream, label)
        if not second.passed:
            return failed(t("twice_wrong"), *second.lines, misconception="state_outside_ctx")
    return verdict


def backward_values(ctx):
    return _backward_verdict(ctx.out, ctx.ref, ctx.inputs)


def grad_output_untouched(ctx):
    if not isinstance(ctx.out, dict) or "upstream_after" not in ctx.out:
        return failed(t("wrong_type", label=t("label_backward_probe"), expected=t("expected_result"),
                        got=kind_of(ctx.out)))
    before, after = as_array(ctx.out["upstream"]), as_array(ctx.out["upstream_after"])
    if before is None or after is None or before.shape != after.shape \
            or not np.array_equal(before, after):
        return failed(t("grad_output_changed"), misconception="grad_output_in_place")
    # The input too: the probe's x holds the float32-rounded inputs["x"].
    x_after = as_array(ctx.out.get("x_after"))
    x_before = ctx.inputs["x"].astype(np.float32).astype(np.float64)
    if x_after is None or x_after.shape != x_before.shape or \
            not np.array_equal(x_after, x_before):
        return failed(t("input_changed"), misconception="input_in_place")
    return passed()


def gradcheck_float64(ctx):
    ok = isinstance(ctx.out, dict) and ctx.out.get("ok") is True
    # Against the reference's result (which passes): so that a mutant whose gradcheck
    # fails can claim a failed gradcheck as one of its symptoms.
    expected = not (isinstance(ctx.ref, dict) and ctx.ref.get("ok") is False)
    if ok == expected:
        return passed()
    detail = ctx.out.get("detail") if isinstance(ctx.out, dict) else ""
    return failed(t("gradcheck_failed", detail=f" ({detail})" if detail else ""))


def large_inputs(ctx):
    """Forward and backward on large float32 and float64 inputs, against the reference's."""
    out = ctx.out if isinstance(ctx.out, dict) else {}
    for dtype in LARGE_CASES:
        x, upstream = ctx.inputs[f"large_x_{dtype}"], ctx.inputs[f"large_upstream_{dtype}"]
        if dtype == "float32":
            x, upstream = _as_float32(x), _as_float32(upstream)
        case, want = out.get(dtype), ctx.ref.get(dtype) or {}
        about = {"dtype": dtype, "rows": x.shape[0], "cols": x.shape[1]}
        if not isinstance(case, dict) or "error" in case:
            error = case.get("error") if isinstance(case, dict) else kind_of(case)
            return failed(t("large_failed", error=error, **about))
        values = {"low": float(x.min()), "high": float(x.max()), **about}
        problems = compare("MyReLU.apply(x)", case.get("out"), want["out"], RTOL)
        if problems:
            return failed(t("large_forward_wrong", **values), *problems)
        verdict = _grad_verdict(case.get("grad"), want["grad"], x, upstream,
                                how=t("large_backward_wrong", **values))
        if not verdict.passed:
            return verdict
    return passed()


def my_relu_alias(ctx):
    if not isinstance(ctx.out, dict):
        return failed(t("alias_wrong"))
    out = ctx.out.get("out")
    if as_array(out) is None:
        return failed(t("alias_wrong"), t("alias_not_a_function", got=kind_of(out)))
    problems = compare("my_relu(x)", out, np.maximum(ctx.inputs["x"], 0), RTOL)
    if problems:
        return failed(t("alias_wrong"), *problems)
    if not ctx.out.get("custom"):
        return failed(t("alias_not_custom", grad_fn=ctx.out.get("grad_fn")))
    return passed()
