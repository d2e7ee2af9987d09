"""Grader: the two-layer exercises' judges (e01-e03) and their tolerances, NumPy only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from grader.checks.two_layer.inputs import ORDER
from grader.codec import TensorData
from grader.exercise import JudgeContext, Verdict, failed, passed, t
from grader.judging import as_array, compare, is_real_number, kind_of, tolerance


def unpack(value: Any, size: int) -> tuple | None:
    if isinstance(value, (tuple, list)) and len(value) == size:
        return tuple(value)
    return None


def triple(ctx_value: Any) -> tuple | None:
    return unpack(ctx_value, 3)


@dataclass(frozen=True)
class Tolerances:
    """Each check's rtol for judging.compare (an element may be off by rtol times its own
    size plus 5% of the largest). Measured on the reference: the largest rtol that
    float32-vs-float64 arithmetic and other orders (einsum, chunked sums of 32 rows,
    autograd vs by hand, torch.optim.SGD, float64 inside) needed over seeds 0-149 (the
    default run: 0-239), times about 6-10:

    check, data                         measured   chosen
    loss (SMALL and LARGE)               2.2e-7     2e-6
    grad_w1/grad_w2, SMALL               2.5e-6     2e-5
    grad_w1/grad_w2, LARGE               7.9e-6     5e-5
    train losses (short, LARGE)          2.9e-7     2e-6
    train weights (short, LARGE)         1.3e-6     1e-5
    weights, run from a minimum          5.5e-8     5e-7   (float32 rounding of the weights)
    default run (500 steps), losses      5.0e-6     5e-5
    default run, weights                 2.6e-4     2e-3   (a ReLU unit crossing 0 mid-run)
    """

    loss: float = 2e-6
    grads: float = 2e-5
    large_grads: float = 5e-5
    train_losses: float = 2e-6
    train_weights: float = 1e-5
    at_minimum: float = 5e-7
    default_losses: float = 5e-5
    default_weights: float = 2e-3


TOLERANCES = Tolerances()


def large_label(ctx: JudgeContext, label: str, prefix: str = "large_") -> Any:
    return t("label_large", label=label, shape=tuple(ctx.inputs[prefix + "x"].shape))


# ------------------------------------------------------------------ the grads function

def _grad_calls(ctx: JudgeContext, rtol_small: float, rtol_large: float
                ) -> list[tuple[str, bool, float]]:
    """The calls of the grads probe to judge: (key, on LARGE data, rtol)."""
    calls = [("returned", False, rtol_small)]
    if "large" in ctx.ref:
        calls.append(("large", True, rtol_large))
    return calls


def judge_loss(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    for key, large, rtol in _grad_calls(ctx, tolerances.loss, tolerances.loss):
        got, want = triple(ctx.out.get(key)), triple(ctx.ref[key])
        if got is None:
            return failed(t("not_a_triple", got=kind_of(ctx.out.get(key))))
        label = large_label(ctx, "loss") if large else "loss"
        problems = compare(label, got[0], want[0], rtol)
        if not is_real_number(got[0]):
            return failed(t("loss_not_number", got=kind_of(got[0])), *problems)
        if problems:
            return failed(*problems)
    return passed()


def judge_grad(ctx: JudgeContext, label: str,
               extra: Callable[[str, Any], list] | None = None,
               tolerances: Tolerances = TOLERANCES) -> Verdict:
    index = {"grad_w1": 1, "grad_w2": 2}[label]
    for key, large, rtol in _grad_calls(ctx, tolerances.grads, tolerances.large_grads):
        got, want = triple(ctx.out.get(key)), triple(ctx.ref[key])
        if got is None:
            return failed(t("not_a_triple", got=kind_of(ctx.out.get(key))))
        problems = compare(large_label(ctx, label) if large else label, got[index],
                           want[index], rtol)
        if problems:
            return failed(*problems)
    got = triple(ctx.out["returned"])
    kind = extra(label, got[index]) if extra else []
    return failed(*kind, fraction=0.5) if kind else passed()


def tensors_only(label: str, value: Any) -> list:
    """`extra` for judge_grad in the torch exercises: a right value that is not a tensor."""
    if isinstance(value, TensorData):
        return []
    return [t("not_tensor", label=label, got=kind_of(value))]


def unchanged(got: Any, original: np.ndarray) -> bool:
    """`got` holds exactly the values it was handed: `original` itself, or `original` as the
    probe rounded it to float32. No tolerance: an in-place change, however small (a tiny
    update step, a divide-then-multiply that rounds), is a change."""
    have = as_array(got)
    want = np.asarray(original, dtype=np.float64)
    if have is None or have.shape != want.shape:
        return False
    return bool(np.array_equal(have, want)
                or np.array_equal(have, want.astype(np.float32).astype(np.float64)))


def changed_inputs(ctx: JudgeContext, keys: tuple[str, ...] = ORDER) -> list[str]:
    """The keys whose values (or shapes) differ from the inputs after either call."""
    return [k for k in keys
            if any(not unchanged(ctx.out[when].get(k), ctx.inputs[k])
                   for when in ("after", "after_all") if when in ctx.out)]


def judge_pure(ctx: JudgeContext) -> Verdict:
    """The caller's inputs are unchanged, and a second call gives the same result."""
    changed = changed_inputs(ctx)
    if changed:
        return failed(t("inputs_changed", names=", ".join(changed)))
    flagged = [k for k, facts in ctx.out.get("facts", {}).items()
               if facts.get("requires_grad") or facts.get("has_grad")]
    if flagged:
        return failed(t("inputs_require_grad", names=", ".join(sorted(flagged))))
    first, second = triple(ctx.out["returned"]), triple(ctx.out["second"])
    if first is None:
        return failed(t("not_a_triple", got=kind_of(ctx.out["returned"])))
    if second is None:
        return failed(t("not_repeatable"))
    for a, b in zip(first, second):
        if as_array(a) is None or compare("", b, a, 1e-6):
            return failed(t("not_repeatable"))
    return passed()


# ------------------------------------------------------------------ the train function

def _losses_problems(label: Any, returned: Any, want: tuple, rtol: float) -> list:
    """What is wrong with a training run's losses list (type, numbers, length, values)."""
    losses = returned[2]
    if not isinstance(losses, (list, tuple)):
        return [t("wrong_type", label=label, expected=t("expected_float_list"),
                  got=kind_of(losses))]
    bad = next((i for i, v in enumerate(losses) if not is_real_number(v)), None)
    if bad is not None:
        return [t("losses_not_numbers", index=bad, got=kind_of(losses[bad]))]
    if len(losses) != len(want[2]):
        return [t("wrong_length", label=label, expected=len(want[2]), got=len(losses))]
    return compare(label, list(losses), list(want[2]), rtol)


def judge_train_losses(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = _losses_problems("losses", got, want, tolerances.train_losses)
    return failed(*problems) if problems else passed()


def _weights_problems(got: tuple, want: tuple, rtol: float, label: Callable = str) -> list:
    return compare(label("w1"), got[0], want[0], rtol) + \
        compare(label("w2"), got[1], want[1], rtol)


def judge_train_weights(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    """The weights of the short run, then (if probed) of the run from a minimum."""
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = _weights_problems(got, want, tolerances.train_weights)
    if not problems and "at_minimum" in ctx.ref:
        got, want = triple(ctx.out.get("at_minimum")), triple(ctx.ref["at_minimum"])
        if got is None:
            return failed(t("train_not_a_triple", got=kind_of(ctx.out.get("at_minimum"))))
        problems = _weights_problems(got, want, tolerances.at_minimum,
                                     lambda w: t("label_at_minimum", label=w))
    return failed(*problems) if problems else passed()


def judge_train_at_scale(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    """The run with learning_rate and steps left out (500 steps at 1e-6, on more rows),
    then the few steps on LARGE data."""
    verdict = _judge_default_run(ctx, tolerances)
    if not verdict.passed:
        return verdict
    got, want = triple(ctx.out.get("large")), triple(ctx.ref["large"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out.get("large"))))
    problems = _losses_problems(large_label(ctx, "losses"), got, want,
                                tolerances.train_losses)
    problems = problems or _weights_problems(got, want, tolerances.train_weights,
                                             lambda w: large_label(ctx, w))
    return failed(*problems) if problems else passed()


def _judge_default_run(ctx: JudgeContext, tolerances: Tolerances) -> Verdict:
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    shape = tuple(ctx.inputs["default_x"].shape)
    losses = got[2]
    if isinstance(losses, (list, tuple)) and len(losses) != len(want[2]):
        return failed(t("default_steps", got=len(losses), steps=len(want[2]), shape=shape))
    problems = _losses_problems("losses", got, want, tolerances.default_losses)
    if problems:
        lines = [t("default_run", shape=shape), *problems]
        first = first_off(losses, want[2], tolerances.default_losses)
        if first is not None and first >= 2:   # right for two updates or more, then drifting
            lines.append(t("default_drifts", step=first))
        if first == 1:
            lines.append(t("default_from_start"))
        return failed(*lines)
    problems = _weights_problems(got, want, tolerances.default_weights)
    return failed(t("default_run", shape=shape), *problems) if problems else passed()


def first_off(losses: Any, want: Any, rtol: float) -> int | None:
    """The first step whose loss is off (by judging.compare's tolerance), if any."""
    have, expected = as_array(losses), as_array(want)
    if have is None or expected is None or have.shape != expected.shape:
        return None
    off = np.abs(have - expected) > tolerance(expected, rtol)
    return int(np.argmax(off)) if off.any() else None
