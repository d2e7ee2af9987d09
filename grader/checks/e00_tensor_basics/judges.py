"""e00's judges (grader process): each compares a probe's output with the reference's
(or a mutant's) and returns a Verdict. NumPy only, no torch.

Every value here is a copy, a permutation or a selection of the input, or the
generator's own draws, so results are compared exactly.
"""

from __future__ import annotations

from typing import Any

from grader.checks.e00_tensor_basics.inputs import normal_shape
from grader.codec import TensorData
from grader.exercise import Verdict, failed, passed, t
from grader.judging import as_array, compare, kind_of

EXACT = 0.0        # compare()'s rtol: what remains is its 1e-9 absolute floor


def _exact(label: str, got: Any, want: Any) -> list:
    return compare(label, got, want, EXACT)


def _tensor_or_problem(label: str, value: Any) -> list:
    return [] if isinstance(value, TensorData) else [t("not_a_tensor", label=label,
                                                       got=kind_of(value))]


def seeded_normal_values(ctx) -> Verdict:
    seeds = [int(s) for s in ctx.inputs["normal_seeds"]]
    for i, (got, want) in enumerate(zip(ctx.out["values"], ctx.ref["values"])):
        label = f"seeded_normal({seeds[i]}, {normal_shape(ctx.inputs, i)})"
        problems = _tensor_or_problem(label, got) or _exact(label, got, want)
        if problems:
            return failed(*problems)
    if _exact("", ctx.out["again"], ctx.out["values"][0]):
        return failed(t("not_repeatable_seed"))
    label = f"seeded_normal({seeds[0]}, {normal_shape(ctx.inputs, 1)})"
    problems = _tensor_or_problem(label, ctx.out["reshaped"]) or \
        _exact(label, ctx.out["reshaped"], ctx.ref["reshaped"])
    return failed(*problems) if problems else passed()


def seeded_normal_keeps_global_state(ctx) -> Verdict:
    if _exact("", ctx.out["next"], ctx.ref["next"]):
        return failed(t("global_rng_changed"))
    return passed()


def _flatten_values(ctx) -> list:
    label = "flatten_images(x)"
    got = ctx.out["value"]
    return _tensor_or_problem(label, got) or _exact(label, got, ctx.ref["value"])


def flatten_values(ctx) -> Verdict:
    problems = _flatten_values(ctx)
    return failed(*problems) if problems else passed()


def flatten_is_view(ctx) -> Verdict:
    problems = _flatten_values(ctx)
    if problems:
        return failed(*problems)
    if ctx.out["shares"] != ctx.ref["shares"]:
        return failed(t("flatten_copies"))
    return passed()


def flatten_non_contiguous(ctx) -> Verdict:
    for case in ("permuted", "sliced"):
        got, want = ctx.out[case], ctx.ref[case]
        if "raised" in got:
            error = got["raised"]
            view_error = "view" in error and "stride" in error
            return failed(t("flatten_raised", case=t(f"case_{case}"), error=error),
                          misconception="view_not_reshape" if view_error else None)
        label = f"flatten_images(x) ({case})"
        problems = _tensor_or_problem(label, got["value"]) or \
            _exact(label, got["value"], want["value"])
        if problems:
            return failed(*problems)
    return passed()


def _value_check(ctx, label: str) -> Verdict:
    got = ctx.out["value"]
    problems = _tensor_or_problem(label, got) or _exact(label, got, ctx.ref["value"])
    return failed(*problems) if problems else passed()


def channels_last_values(ctx) -> Verdict:
    return _value_check(ctx, "channels_last(x)")


def stack_columns_values(ctx) -> Verdict:
    return _value_check(ctx, "stack_columns(columns)")


def positive_rows_values(ctx) -> Verdict:
    got, want = as_array(ctx.out["value"]), as_array(ctx.ref["value"])
    verdict = _value_check(ctx, "positive_rows(x)")
    if not verdict.passed and got is not None and got.ndim == 2 and \
            got.shape[1:] == want.shape[1:] and got.shape[0] != want.shape[0]:
        return failed(t("rows_wrong", got=got.shape[0], expected=want.shape[0]),
                      *verdict.lines)
    return verdict


def positive_rows_none(ctx) -> Verdict:
    """The edge cases: no row sums to more than 0, then exactly one does."""
    verdict = _value_check(ctx, "positive_rows(x) (no row sums to more than 0)")
    if not verdict.passed or "one" not in ctx.ref:
        return verdict
    label = "positive_rows(x) (one row sums to more than 0)"
    got = ctx.out.get("one")
    problems = _tensor_or_problem(label, got) or _exact(label, got, ctx.ref["one"])
    return failed(*problems) if problems else passed()


def _shares(ctx, flags: tuple[str, str], sides: tuple[str, str], label_of: str) -> Verdict:
    """Both ways, as the reference does (a mutant's output may stand in for it)."""
    for key in sorted(ctx.ref):
        got, want = ctx.out[key], ctx.ref[key]
        label = f"{label_of} ({want['dtype']})"
        for flag, (source, target) in zip(flags, (sides, sides[::-1])):
            if got[flag] != want[flag]:
                lines = [t("no_sharing", label=label, source=t(source), target=t(target))]
                right_kind = got.get("is_ndarray", got.get("is_tensor"))
                if right_kind and got["dtype"] != want["dtype"]:
                    lines.append(t("dtype_changed", label=label, source=want["dtype"],
                                   target=got["dtype"]))
                return failed(*lines)
    return passed()


def numpy_view_values(ctx) -> Verdict:
    for key in sorted(ctx.ref):
        got = ctx.out[key]
        label = f"numpy_view(t) ({ctx.ref[key]['dtype']})"
        if not got["is_ndarray"]:
            return failed(t("not_ndarray", label=label, got=kind_of(got["value"])))
        problems = _exact(label, got["value"], ctx.ref[key]["value"])
        if problems:
            return failed(*problems)
    return passed()


def numpy_view_shares(ctx) -> Verdict:
    return _shares(ctx, ("from_tensor", "to_tensor"), ("side_tensor", "side_array"),
                   "numpy_view(t)")


def tensor_view_values(ctx) -> Verdict:
    for key in sorted(ctx.ref):
        got = ctx.out[key]
        label = f"tensor_view(a) ({ctx.ref[key]['dtype']})"
        problems = _tensor_or_problem(label, got["value"]) or \
            _exact(label, got["value"], ctx.ref[key]["value"])
        if problems:
            return failed(*problems)
    return passed()


def tensor_view_shares(ctx) -> Verdict:
    return _shares(ctx, ("from_array", "to_array"), ("side_array", "side_tensor"),
                   "tensor_view(a)")
