"""Shared by the two-layer exercises (e01-e03): data, probes, judges, misconceptions.

Probes here run in the worker and may use torch (imported lazily: the grader's
own process never imports torch). Judges run in the grader on plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from grader.codec import TensorData
from grader.exercise import Exercise, JudgeContext, Verdict, failed, passed, t
from grader.judging import (as_array, compare, is_real_number, kind_of, scalar_ratio,
                            tolerance)

__all__ = ["kind_of"]


# ------------------------------------------------------------------ data

#: How far from 0 every pre-activation h = x @ w1 stays, at the start and along the
#: reference's training run: float32 arithmetic (the student's or the reference's) moves h
#: by about 1e-6, and a ReLU mask flipped by rounding changes a gradient by far more than
#: the judges' tolerance. A seed whose data come closer than this draws again.
KINK_MARGIN = 1e-4


@dataclass(frozen=True)
class Sizes:
    """Where a data set's shapes are drawn from (inclusive ranges), and its weights' scale."""

    n: tuple[int, int]
    d_in: tuple[int, int]
    h: tuple[int, int]
    d_out: tuple[int, int]
    weight_scale: float = 1.0


#: Small data for the detailed, fast probes.
SMALL = Sizes(n=(10, 24), d_in=(8, 16), h=(6, 12), d_out=(2, 5), weight_scale=0.5)
#: The tutorial's sizes or larger (N=64, D_in=1000, H=100, D_out=10 there), never equal.
LARGE = Sizes(n=(67, 130), d_in=(1001, 1200), h=(101, 128), d_out=(11, 16))
#: The run with the contract's defaults (500 steps at 1e-6): more rows than 64, at a
#: scale where 1e-6 trains measurably to the last step (the loss falls to about 5% of
#: its start, still by 10-30% over the last 100 steps) and stays stable; narrow enough
#: that 500 steps cost little.
DEFAULT_RUN = Sizes(n=(67, 130), d_in=(24, 40), h=(16, 28), d_out=(3, 6))
#: Training on LARGE data: a few steps, at a rate drawn from this range (1e-6 is the edge
#: of stability at the tutorial's own sizes; more rows and inputs need less).
LARGE_LEARNING_RATE, LARGE_STEPS = (1e-7, 2e-7), 3


def _draw(rng: np.random.Generator, bounds: tuple[int, int], avoid_powers_of_two: bool) -> int:
    value = int(rng.integers(bounds[0], bounds[1] + 1))
    while avoid_powers_of_two and value & (value - 1) == 0:   # 64, 128: a batch size
        value = int(rng.integers(bounds[0], bounds[1] + 1))
    return value


def two_layer_data(seed: int | tuple[int, ...], sizes: Sizes = SMALL,
                   learning_rate: float | None = None, steps: int = 0,
                   prefix: str = "") -> dict[str, np.ndarray]:
    """Random x, y, w1, w2 (float64) of shapes drawn from `sizes`, with every h = x @ w1 at
    least KINK_MARGIN from 0, also along `steps` gradient-descent updates at `learning_rate`
    (the training probe's run), so that no correct answer's ReLU mask depends on rounding.
    Keys are prefixed with `prefix` ("large_x", ...)."""
    rng = np.random.default_rng(seed)
    while True:
        n = _draw(rng, sizes.n, avoid_powers_of_two=sizes.n[1] > 32)
        d_in, h, d_out = (_draw(rng, b, False) for b in (sizes.d_in, sizes.h, sizes.d_out))
        data = {"x": rng.standard_normal((n, d_in)), "y": rng.standard_normal((n, d_out)),
                "w1": rng.standard_normal((d_in, h)) * sizes.weight_scale,
                "w2": rng.standard_normal((h, d_out)) * sizes.weight_scale}
        if _clear_of_kinks(data, learning_rate, steps):
            return {prefix + key: value for key, value in data.items()}


def _clear_of_kinks(data: dict[str, np.ndarray], learning_rate: float | None,
                    steps: int) -> bool:
    x, y, w1, w2 = (data[k] for k in ("x", "y", "w1", "w2"))
    for step in range(steps + 1):
        if np.min(np.abs(x @ w1)) < KINK_MARGIN:
            return False
        if step == steps or learning_rate is None:
            return True
        _, grad_w1, grad_w2 = buggy_grads(x, y, w1, w2)
        w1, w2 = w1 - learning_rate * grad_w1, w2 - learning_rate * grad_w2
    return True


MINIMUM_INPUT_SCALE = 0.1


def at_minimum(seed: int | tuple[int, ...], sizes: Sizes = SMALL) -> dict[str, np.ndarray]:
    """Random x, w1, w2 and y = relu(x @ w1) @ w2 exactly: the loss is 0, and so is every
    gradient, keys "min_x", ... An update that moves these weights adds something else."""
    data = two_layer_data(seed, sizes)
    # Small inputs: float32 rounds y_pred by about 1e-7 of its size, and that residual's
    # gradient (what a right float32 answer moves by) scales with x, while weight decay
    # does not.
    data["x"] *= MINIMUM_INPUT_SCALE
    data["y"] = np.maximum(data["x"] @ data["w1"], 0) @ data["w2"]
    return {"min_" + key: value for key, value in data.items()}


def training_inputs(seed: int, learning_rate: float, steps: int) -> dict[str, np.ndarray]:
    """Every data set of e01's and e03's probes (see their PROBE_PLAN), each drawn from its
    own stream of `seed`."""
    inputs = two_layer_data((seed, 0), SMALL, learning_rate, steps)
    large = two_layer_data((seed, 1), LARGE, LARGE_LEARNING_RATE[1], LARGE_STEPS, "large_")
    rng = np.random.default_rng((seed, 2))
    large["large_learning_rate"] = np.array(rng.uniform(*LARGE_LEARNING_RATE))
    inputs.update(large)
    inputs.update(two_layer_data((seed, 3), DEFAULT_RUN, prefix="default_"))
    inputs.update(at_minimum((seed, 4)))
    return inputs


def fresh(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A copy of cached inputs: the grader freezes the arrays it is given."""
    return {key: np.array(value) for key, value in inputs.items()}


def part(inputs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The data set stored under `prefix` ("large_"), with plain keys (x, y, w1, w2)."""
    return {key[len(prefix):]: value for key, value in inputs.items() if key.startswith(prefix)}


def as_tensors(inputs: dict[str, np.ndarray], dtype: str = "float32") -> Callable:
    """A copier that turns the numpy inputs into fresh torch tensors (in the worker)."""
    import torch

    torch_dtype = getattr(torch, dtype)
    return lambda array: torch.tensor(np.asarray(array), dtype=torch_dtype)


# ------------------------------------------------------------------ probes

ORDER = ("x", "y", "w1", "w2")


def _facts(value: Any) -> dict[str, Any]:
    """requires_grad / .grad of a tensor the caller owns (None for arrays)."""
    return {"requires_grad": bool(getattr(value, "requires_grad", False)),
            "has_grad": getattr(value, "grad", None) is not None}


def snapshot(value: Any, keep_graph: bool = False) -> Any:
    """A copy of current values, so that a later in-place change does not reach it (a
    second call accumulating into the .grad it returned first, say). Tuples and lists are
    copied through; with keep_graph, a tensor that requires grad is kept as it is, so that
    the judge still sees its requires_grad and grad_fn."""
    if hasattr(value, "detach") and callable(value.detach):
        if keep_graph and getattr(value, "requires_grad", False):
            return value
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (tuple, list):
        return type(value)(snapshot(v, keep_graph) for v in value)
    return value


def probe_pure_grads(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable) -> dict:
    """Call a *_grads function twice on the same fresh copies; return both results and the
    arguments as they were after the first call ("after") and after the second ("after_all":
    an in-place change may undo itself on the second call). With a LARGE data set among the
    inputs ("large_x", ...), one more call on it ("large")."""
    args = [copy(inputs[k]) for k in ORDER]
    first = snapshot(fn(*args), keep_graph=True)
    after = {k: snapshot(a) for k, a in zip(ORDER, args)}
    facts = {k: _facts(a) for k, a in zip(ORDER, args)}
    try:
        second = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a second call that fails is not repeatable
        second = {"second_call_raised": f"{type(exc).__name__}: {str(exc)[:200]}"}
    result = {"returned": first, "second": second, "after": after,
              "after_all": dict(zip(ORDER, args)), "facts": facts}
    if "large_x" in inputs:
        result["large"] = snapshot(fn(*(copy(inputs["large_" + k]) for k in ORDER)))
    return result


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


def _train_call(fn: Callable, args: list, **arguments: Any) -> Any:
    returned = fn(*args, **arguments)
    if isinstance(returned, (tuple, list)) and len(returned) == 3 and \
            isinstance(returned[2], (list, tuple)):
        returned = (returned[0], returned[1], list(returned[2]))
    return returned


def probe_train(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable,
                learning_rate: float, steps: int,
                other_learning_rate: float | None = None) -> dict:
    """Train on fresh copies; with `other_learning_rate`, train once more at that rate
    (under "other_lr"), so that a function ignoring its learning_rate can be told apart;
    with a data set at a minimum among the inputs ("min_x", ...), train from there too
    ("at_minimum": the gradient is 0, so right weights do not move at all)."""
    def run(data: dict[str, np.ndarray], rate: float, count: int) -> Any:
        return _train_call(fn, [copy(data[k]) for k in ORDER], learning_rate=rate, steps=count)

    result = {"returned": run(inputs, learning_rate, steps), "learning_rate": learning_rate,
              "steps": steps}
    if other_learning_rate is not None:
        result["other_lr"] = run(inputs, other_learning_rate, steps)
    if "min_x" in inputs:
        result["at_minimum"] = run(part(inputs, "min_"), learning_rate, steps)
    return result


def _declared_defaults(fn: Callable) -> dict[str, Any]:
    """The defaults of learning_rate and steps in fn's signature (those it declares)."""
    import inspect

    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {name: parameters[name].default for name in ("learning_rate", "steps")
            if name in parameters and parameters[name].default is not inspect.Parameter.empty
            and isinstance(parameters[name].default, (int, float))}


def probe_train_at_scale(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable) -> dict:
    """Train on the DEFAULT_RUN data with learning_rate and steps left out (the contract's
    500 steps at 1e-6), then LARGE_STEPS steps on the LARGE data at its drawn rate."""
    default, large = part(inputs, "default_"), part(inputs, "large_")
    return {"returned": _train_call(fn, [copy(default[k]) for k in ORDER]),
            "prefix": "default_", "declared": _declared_defaults(fn),
            "large": _train_call(fn, [copy(large[k]) for k in ORDER],
                                 learning_rate=float(large["learning_rate"]),
                                 steps=LARGE_STEPS)}


# ------------------------------------------------------------------ judges

def unpack(value: Any, size: int) -> tuple | None:
    if isinstance(value, (tuple, list)) and len(value) == size:
        return tuple(value)
    return None


def _triple(ctx_value: Any) -> tuple | None:
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


def _large_label(ctx: JudgeContext, label: str, prefix: str = "large_") -> Any:
    return t("label_large", label=label, shape=tuple(ctx.inputs[prefix + "x"].shape))


def _grad_calls(ctx: JudgeContext, rtol_small: float, rtol_large: float
                ) -> list[tuple[str, bool, float]]:
    """The calls of the grads probe to judge: (key, on LARGE data, rtol)."""
    calls = [("returned", False, rtol_small)]
    if "large" in ctx.ref:
        calls.append(("large", True, rtol_large))
    return calls


def judge_loss(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    for key, large, rtol in _grad_calls(ctx, tolerances.loss, tolerances.loss):
        got, want = _triple(ctx.out.get(key)), _triple(ctx.ref[key])
        if got is None:
            return failed(t("not_a_triple", got=kind_of(ctx.out.get(key))))
        label = _large_label(ctx, "loss") if large else "loss"
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
        got, want = _triple(ctx.out.get(key)), _triple(ctx.ref[key])
        if got is None:
            return failed(t("not_a_triple", got=kind_of(ctx.out.get(key))))
        problems = compare(_large_label(ctx, label) if large else label, got[index],
                           want[index], rtol)
        if problems:
            return failed(*problems)
    got = _triple(ctx.out["returned"])
    kind = extra(label, got[index]) if extra else []
    return failed(*kind, fraction=0.5) if kind else passed()


def tensors_only(label: str, value: Any) -> list:
    """`extra` for judge_grad in the torch exercises: a right value that is not a tensor."""
    if isinstance(value, TensorData):
        return []
    return [t("not_tensor", label=label, got=kind_of(value))]


def declare_grad_checks(exercise: Exercise,
                        extra: Callable[[str, Any], list] | None = None) -> None:
    """The checks of a `*_two_layer_grads` function (probe "grads"): loss 1 point,
    grad_w1 2, grad_w2 2, leaves_inputs_alone 1. `extra` adds a type rule for the grads."""
    exercise.check(points=1, probe="grads", name="loss")(judge_loss)
    for label in ("grad_w1", "grad_w2"):
        exercise.check(points=2, probe="grads", name=label)(
            lambda ctx, label=label: judge_grad(ctx, label, extra=extra))
    exercise.check(points=1, probe="grads", name="leaves_inputs_alone")(judge_pure)


def judge_pure(ctx: JudgeContext) -> Verdict:
    """The caller's inputs are unchanged, and a second call gives the same result."""
    changed = changed_inputs(ctx)
    if changed:
        return failed(t("inputs_changed", names=", ".join(changed)))
    flagged = [k for k, facts in ctx.out.get("facts", {}).items()
               if facts.get("requires_grad") or facts.get("has_grad")]
    if flagged:
        return failed(t("inputs_require_grad", names=", ".join(sorted(flagged))))
    first, second = _triple(ctx.out["returned"]), _triple(ctx.out["second"])
    if first is None:
        return failed(t("not_a_triple", got=kind_of(ctx.out["returned"])))
    if second is None:
        return failed(t("not_repeatable"))
    for a, b in zip(first, second):
        if as_array(a) is None or compare("", b, a, 1e-6):
            return failed(t("not_repeatable"))
    return passed()


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
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = _losses_problems("losses", got, want, tolerances.train_losses)
    return failed(*problems) if problems else passed()


def _weights_problems(got: tuple, want: tuple, rtol: float, label: Callable = str) -> list:
    return compare(label("w1"), got[0], want[0], rtol) + \
        compare(label("w2"), got[1], want[1], rtol)


def judge_train_weights(ctx: JudgeContext, tolerances: Tolerances = TOLERANCES) -> Verdict:
    """The weights of the short run, then (if probed) of the run from a minimum."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = _weights_problems(got, want, tolerances.train_weights)
    if not problems and "at_minimum" in ctx.ref:
        got, want = _triple(ctx.out.get("at_minimum")), _triple(ctx.ref["at_minimum"])
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
    got, want = _triple(ctx.out.get("large")), _triple(ctx.ref["large"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out.get("large"))))
    problems = _losses_problems(_large_label(ctx, "losses"), got, want,
                                tolerances.train_losses)
    problems = problems or _weights_problems(got, want, tolerances.train_weights,
                                             lambda w: _large_label(ctx, w))
    return failed(*problems) if problems else passed()


def _judge_default_run(ctx: JudgeContext, tolerances: Tolerances) -> Verdict:
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    shape = tuple(ctx.inputs["default_x"].shape)
    losses = got[2]
    if isinstance(losses, (list, tuple)) and len(losses) != len(want[2]):
        return failed(t("default_steps", got=len(losses), steps=len(want[2]), shape=shape))
    problems = _losses_problems("losses", got, want, tolerances.default_losses)
    if problems:
        lines = [t("default_run", shape=shape), *problems]
        first = _first_off(losses, want[2], tolerances.default_losses)
        if first is not None and first >= 2:   # right for two updates or more, then drifting
            lines.append(t("default_drifts", step=first))
        if first == 1:
            lines.append(t("default_from_start"))
        return failed(*lines)
    problems = _weights_problems(got, want, tolerances.default_weights)
    return failed(t("default_run", shape=shape), *problems) if problems else passed()


#: The defaults the contract gives numpy_train and autograd_train.
DEFAULTS = {"learning_rate": 1e-6, "steps": 500}


def _wrong_default(ctx: JudgeContext) -> bool:
    """The signature declares another default than the contract's."""
    declared = ctx.out.get("declared") or {}
    return any(value != DEFAULTS[name] for name, value in declared.items())


def _learning_rate_changes(ctx: JudgeContext) -> bool:
    """The default run is right for two updates or more, then drifts far away, though the
    defaults declared are right, and its final weights lie on the reference's own descent
    path (somewhere else along it): the same steps, taken at another rate. Gradients that
    accumulate or go stale drift from update 2 as well, but leave the path."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not got or not want or _wrong_default(ctx):
        return False
    first = _first_off(got[2], want[2], TOLERANCES.default_losses)
    if first is None or first < 2 or not compare("", got[2], want[2],
                                                   100 * TOLERANCES.default_losses):
        return False
    w1, w2 = as_array(got[0]), as_array(got[1])
    start = part(ctx.inputs, "default_")
    if w1 is None or w2 is None or w1.shape != start["w1"].shape or \
            w2.shape != start["w2"].shape:
        return False
    return _distance_to_path(start, w1, w2) <= PATH_RTOL


#: How far (as judging.compare's rtol) weights trained at a changed rate stay from the
#: points of the constant-rate path: 3.4e-3 at most for a rate halved at step 100, decayed
#: by 0.999 or 0.99 a step; accumulated or stale gradients land 3.6 or more away.
PATH_RTOL = 3e-2


def _distance_to_path(start: dict[str, np.ndarray], w1: np.ndarray, w2: np.ndarray) -> float:
    """How close (w1, w2) comes to the polyline of the default run's reference weights."""
    x, y, p1, p2 = (start[k] for k in ORDER)
    have = np.concatenate([w1.ravel(), w2.ravel()])
    previous = np.concatenate([p1.ravel(), p2.ravel()])
    best = np.inf
    with np.errstate(all="ignore"):
        for _ in range(DEFAULTS["steps"]):
            _, g1, g2 = buggy_grads(x, y, p1, p2)
            p1, p2 = p1 - DEFAULTS["learning_rate"] * g1, p2 - DEFAULTS["learning_rate"] * g2
            current = np.concatenate([p1.ravel(), p2.ravel()])
            segment = current - previous
            along = np.clip(np.dot(have - previous, segment) /
                            max(float(np.dot(segment, segment)), 1e-300), 0.0, 1.0)
            point = previous + along * segment
            best = min(best, float(np.max(np.abs(have - point) / tolerance(point, 1.0))))
            previous = current
    return best


def _first_off(losses: Any, want: Any, rtol: float) -> int | None:
    """The first step whose loss is off (by judging.compare's tolerance), if any."""
    have, expected = as_array(losses), as_array(want)
    if have is None or expected is None or have.shape != expected.shape:
        return None
    off = np.abs(have - expected) > tolerance(expected, rtol)
    return int(np.argmax(off)) if off.any() else None


# ------------------------------------------------------------------ misconceptions

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
    """The reference computation with one idea changed (runs in the worker). On LARGE
    data in float32: float64 matrix products that size cost ten times more, and float32
    lands well within the large data's tolerance (Tolerances)."""
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


def declare_two_layer_misconceptions(exercise: Exercise, grads_name: str,
                                     train_name: str | None, autograd: bool = False,
                                     dtype: str = "float64") -> None:
    """The typical wrong ideas of e01-e03, as mutants of the correct computation.

    A mutant is named only when the student matches it on every check it lists, so each
    lists exactly the checks where it shows: an idea about the gradients is declared twice,
    once with a mutant of the grads function on the grads checks it changes, once with a
    mutant of the training function on the training checks (a student may get one function
    right and the other wrong). With `train_name=None` (e02 has no training function) only
    the first. Training ideas need the checks train_losses, train_weights, train_at_scale.
    `dtype` is the one the probes hand the student's code (detectors compute in it too).
    """
    short_run = ("train_losses", "train_weights")

    def grads_mutant(key: str, checks: tuple[str, ...], **change: Any) -> None:
        def wrong_grads(x, y, w1, w2):
            return buggy_grads(x, y, w1, w2, **change)

        exercise.misconception(key, checks=checks)(lambda ref: {grads_name: wrong_grads})
        if train_name:
            train_mutant(key, short_run + ("train_at_scale",),
                         grads=lambda *a: buggy_grads(*a, **change))

    def train_mutant(key: str, checks: tuple[str, ...], **change: Any) -> None:
        """A mutant of the training function on the short run's checks; on train_at_scale
        a detector that runs the mutant itself, in the grader and only for a student who
        failed there: 500 steps of every mutant in the reference would cost more than the
        rest of the exercise."""
        def wrong_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            return buggy_train(x, y, w1, w2, learning_rate, steps, **change)
        exercise.misconception(key, checks=tuple(c for c in checks if c in short_run))(
            lambda ref: {train_name: wrong_train})
        if "train_at_scale" in checks:
            exercise.misconception(key, checks=("train_at_scale",),
                                   detect=_matches_at_scale(change, dtype))(None)

    # Before factor_two: a loss of 0.5 * sum with grad_y_pred = y_pred - y halves the
    # gradients too, and only the loss tells the two apart.
    grads_mutant("half_sse", ("loss", "grad_w1", "grad_w2"), factor=1.0, loss_scale=0.5)
    grads_mutant("factor_two", ("grad_w1", "grad_w2"), factor=1.0)
    # Gradients exactly doubled: by hand, a 2 too many (factor_two's "or doubled"); with
    # autograd, the loss is right, so backward ran twice into the same .grad.
    exercise.misconception("grads_doubled" if autograd else "factor_two",
                           checks=("grad_w1", "grad_w2"), detect=_grads_doubled)(None)
    grads_mutant("mean_loss", ("loss", "grad_w1", "grad_w2"), mean=True)
    exercise.misconception("batches_averaged", checks=("grad_w1", "grad_w2"),
                           detect=_batches_averaged)(None)
    grads_mutant("relu_mask_missing", ("grad_w1",), mask=None)
    grads_mutant("relu_mask_inverted", ("grad_w1",), mask="inverted")
    grads_mutant("relu_on_gradient", ("grad_w1",), mask="on_gradient")
    if not train_name:
        return
    every_train_check = short_run + ("train_at_scale",)
    exercise.misconception("wrong_default", checks=("train_at_scale",),
                           detect=_wrong_default)(None)
    # The weights are the reference's: only the recorded losses shift.
    train_mutant("loss_after_update", ("train_losses", "train_at_scale"), after=True)
    # Not on train_at_scale: 500 steps uphill overflow in float32 long before the float64
    # mutant does, so a student's run can never match it there.
    train_mutant("gradient_ascent", short_run, sign=-1.0)
    exercise.misconception("gradient_ascent", checks=short_run, detect=_ascends)(None)
    # Weights returned exactly as given. Checked before ignores_learning_rate: a run at a
    # fixed 1e-6 can be, within the judges' tolerance, the same as no update at all (the
    # losses of seed 1, say), so only this stricter test tells the two apart.
    exercise.misconception("no_update", checks=every_train_check,
                           detect=_weights_unchanged)(None)
    exercise.misconception("weight_decay", checks=short_run, detect=_decays_at_minimum)(None)
    exercise.misconception("reduced_precision", checks=every_train_check,
                           detect=_reduced_precision)(None)
    # On train_at_scale only the LARGE run shows it: the default run is at 1e-6 itself.
    train_mutant("ignores_learning_rate", every_train_check, fixed_lr=1e-6)
    exercise.misconception("ignores_learning_rate", checks=short_run,
                           detect=_same_at_other_rate)(None)
    if autograd:
        train_mutant("grads_accumulate", every_train_check, accumulate=True)
    # Checked before ignores_steps: range(steps - 1), range(1, steps), range(steps + 1).
    exercise.misconception("learning_rate_changes", checks=("train_at_scale",),
                           detect=_learning_rate_changes)(None)
    exercise.misconception("steps_off_by_one", checks=("train_losses",),
                           detect=lambda ctx: _length_differs(ctx, by=1))(None)
    exercise.misconception("steps_off_by_one", checks=("train_weights",),
                           detect=_weights_off_by_one_step)(None)
    exercise.misconception("ignores_steps", checks=("train_losses",),
                           detect=lambda ctx: _length_differs(ctx))(None)


def _matches_at_scale(change: dict[str, Any], dtype: str) -> Callable[[JudgeContext], bool]:
    """A detector for train_at_scale: the judge passes when the reference is the mutant
    buggy_train(**change), run here on the probe's own data (default run, LARGE run), in
    the dtype the probe hands over."""
    def detect(ctx: JudgeContext) -> bool:
        default, large = (part(ctx.inputs, prefix) for prefix in ("default_", "large_"))
        ref = {"returned": buggy_train(*(default[k].astype(dtype) for k in ORDER),
                                       DEFAULTS["learning_rate"], DEFAULTS["steps"], **change),
               "large": buggy_train(*(large[k].astype(dtype) for k in ORDER),
                                    float(large["learning_rate"]), LARGE_STEPS, **change)}
        with np.errstate(all="ignore"):
            return judge_train_at_scale(JudgeContext(ctx.out, ref, ctx.inputs, ctx.seed)).passed
    return detect


def _ascends(ctx: JudgeContext) -> bool:
    """The losses follow gradient ascent for as long as they stay finite.

    Ascent blows up fast: in float32 the losses reach infinity within the probe's steps,
    and the mutant (float64) stays finite, so its judge cannot match; compare the start."""
    got = _triple(ctx.out["returned"])
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or rate is None or not steps:
        return False
    losses = as_array(got[2]) if isinstance(got[2], (list, tuple)) else None
    if losses is None or losses.shape != (steps,):
        return False
    want = np.array(buggy_train(*(ctx.inputs[k] for k in ORDER), rate, steps, sign=-1.0)[2])
    usable = np.isfinite(losses) & np.isfinite(want) & (np.abs(want) < 1e30)
    count = int(np.argmin(usable)) if not usable.all() else steps
    if count < 3 or not want[count - 1] > 1.5 * want[0]:
        return False
    return bool(np.all(np.abs(losses[:count] - want[:count]) <= 1e-3 * np.abs(want[:count])))


def _weights_unchanged(ctx: JudgeContext) -> bool:
    """The returned weights are the initial ones (to rounding); the reference's moved."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not got or not want:
        return False
    start = part(ctx.inputs, ctx.out.get("prefix", ""))
    return (not compare("", got[0], start["w1"], 1e-6)
            and not compare("", got[1], start["w2"], 1e-6)
            and bool(compare("", want[0], start["w1"], 1e-6)))


def _decays_at_minimum(ctx: JudgeContext) -> bool:
    """Started where the gradient is 0 (probe_train's at_minimum run), the weights moved
    away from the reference's along the path of an L2 penalty (weight decay), at some
    positive strength: w -= learning_rate * (grad + decay * w)."""
    got, want = _triple(ctx.out.get("at_minimum")), _triple((ctx.ref or {}).get("at_minimum"))
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or not want or rate is None or not steps:
        return False
    start = part(ctx.inputs, "min_")
    unit = 1e-6   # small enough that the path is linear in the strength
    w1, w2, _ = buggy_train(*(start[k] for k in ORDER), rate, steps, weight_decay=unit)
    path = np.concatenate([(w1 - start["w1"]).ravel(), (w2 - start["w2"]).ravel()])
    parts = [as_array(got[0]), as_array(got[1]), as_array(want[0]), as_array(want[1])]
    if any(p is None for p in parts) or parts[0].shape != parts[2].shape or \
            parts[1].shape != parts[3].shape:
        return False
    moved = np.concatenate([(parts[0] - parts[2]).ravel(), (parts[1] - parts[3]).ravel()])
    if not np.all(np.isfinite(moved)):
        return False
    # float32 rounds each tiny decay step (a few ulps): the shape matches within 25%
    strength = scalar_ratio(moved, path, rtol=0.25)
    return strength is not None and strength > 0


def _reduced_precision(ctx: JudgeContext) -> bool:
    """The returned weights are all exactly float16 (or bfloat16) numbers, the reference's
    are not: the weights were kept at reduced precision."""
    def coarse(value: Any) -> bool:
        array = as_array(value)
        if array is None or not array.size or not np.all(np.isfinite(array)):
            return False
        as32 = array.astype(np.float32)
        return bool(np.array_equal(array.astype(np.float16).astype(np.float64), array) or
                    (np.array_equal(as32.astype(np.float64), array)
                     and not np.any(as32.view(np.uint32) & 0xFFFF)))
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    return bool(got and want and coarse(got[0]) and coarse(got[1])
                and not (coarse(want[0]) and coarse(want[1])))


def _same_at_other_rate(ctx: JudgeContext) -> bool:
    """Trained at two learning rates (probe_train's other_lr), the results are the same,
    though the weights did move and the reference's two runs differ."""
    got, other = _triple(ctx.out["returned"]), _triple(ctx.out.get("other_lr"))
    want, want_other = _triple(ctx.ref["returned"]), _triple(ctx.ref.get("other_lr"))
    if not (got and other and want and want_other):
        return False
    if not compare("", want_other[0], want[0], 1e-4):
        return False   # the probe's two rates do not tell runs apart
    if not compare("", got[0], ctx.inputs["w1"], 1e-6):
        return False   # nothing moved: that is no_update
    same = not compare("", other[0], got[0], 1e-6) and not compare("", other[1], got[1], 1e-6)
    if isinstance(got[2], (list, tuple)) and isinstance(other[2], (list, tuple)):
        same = same and as_array(got[2]) is not None and \
            not compare("", other[2], got[2], 1e-6)
    return same


def _length_differs(ctx: JudgeContext, by: int | None = None) -> bool:
    """The losses list is longer or shorter than the reference's (by exactly `by`)."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not (got and want and isinstance(got[2], (list, tuple))
            and isinstance(want[2], (list, tuple))):
        return False
    difference = abs(len(got[2]) - len(want[2]))
    return difference != 0 if by is None else difference == by


def _weights_off_by_one_step(ctx: JudgeContext) -> bool:
    """The weights are those after steps - 1 or steps + 1 correct updates."""
    got = _triple(ctx.out["returned"])
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or rate is None or not steps:
        return False
    args = [ctx.inputs[k] for k in ORDER]
    for extra in (-1, 1):
        w1, w2, _ = buggy_train(*args, rate, steps, extra_steps=extra)
        if not compare("", got[0], w1, 1e-3) and not compare("", got[1], w2, 1e-3):
            return True
    return False


def _batches_averaged(ctx: JudgeContext) -> bool:
    """Right on SMALL data (up to 24 rows), but on LARGE data both gradients are the right
    ones divided by the number of mini-batches of 8, 16, 32 or 64 rows."""
    got, want = _triple(ctx.out.get("large")), _triple(ctx.ref.get("large"))
    small, small_want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not (got and want and small and small_want) or \
            compare("", small[1], small_want[1], TOLERANCES.grads):
        return False
    rows = ctx.inputs["large_x"].shape[0]
    ratios = []
    for index in (1, 2):
        have, expected = as_array(got[index]), as_array(want[index])
        if have is None or expected is None or have.shape != expected.shape:
            return False
        ratios.append(scalar_ratio(have, expected))
    return any(all(r is not None and abs(r * -(-rows // size) - 1) < 1e-3 for r in ratios)
               for size in (8, 16, 32, 64))


def _grads_doubled(ctx: JudgeContext) -> bool:
    """Both gradients are twice the reference's (the loss may be right or not)."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not got or not want:
        return False
    for index in (1, 2):
        have, expected = as_array(got[index]), as_array(want[index])
        if have is None or expected is None or have.shape != expected.shape:
            return False
        ratio = scalar_ratio(have, expected)
        if ratio is None or abs(ratio - 2.0) > 1e-3:
            return False
    return True
