"""e04: ReLU as a custom torch.autograd.Function (the student writes backward).

Probe plan (every shape and value drawn from the grader's seed, none from the tutorial;
MyReLU.apply and my_relu take no default argument to leave out):
- backward: a small 6x5 float32 input (exact zeros, both signs in every column), forward
  and backward with a random upstream gradient; the caller's tensors must stay as they
  were; MyReLU used twice in one graph. Detailed feedback comes from here.
- gradcheck: torch.autograd.gradcheck in float64, on inputs away from 0.
- alias: my_relu(x) is MyReLU.apply.
- large: forward and backward at the tutorial's size or larger (there MyReLU gets
  h = x @ w1, N=64 x H=100) in float32 (rows drawn in 65..140, 100..260 columns, never
  a power of two) and at an odd size in float64 (odd rows in 65..99, 100..160
  columns, never a power of two): normal values scaled by 2..8 (so values
  beyond 6 show a ReLU6), exact zeros, and values within 1e-6..1e-2 of 0 (so a
  threshold that is not 0 shows).

Tolerance: ReLU and its gradient only select values, so every correct answer is exact
in the precision it computes in; float32 arithmetic inside (allowed, also on a float64
input) rounds once, by at most 2**-24 ~ 6e-8 of a value. Measured on the reference and
on float32-inside / float64-inside / einsum / where variants: 0 on float32 inputs,
<= 6e-8 relative on float64 inputs. RTOL is 8x that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader import course, hookimpl
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare, kind_of

ROWS, COLS = 6, 5
RTOL = 5e-7
LARGE_CASES = ("float32", "float64")   # the large probe's two inputs, by dtype


def _not_a_power_of_two(rng, low, high, odd=False):
    """An integer in [low, high] that is no power of two (and odd when asked)."""
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1) and (value % 2 or not odd):
            return value


def _large_input(rng, rows, cols):
    """Normal values scaled by 2..8, with exact zeros and values just beside 0."""
    x = rng.standard_normal((rows, cols)) * rng.uniform(2.0, 8.0)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, 60, replace=False)
    flat[picks[:20]] = 0.0
    flat[picks[20:]] = rng.choice([-1.0, 1.0], 40) * 10.0 ** rng.uniform(-6, -2, 40)
    return x


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """`x` has exact zeros and values well away from 0; `x_far` has no value near 0;
    `large_*` are the large probe's inputs (see the probe plan above)."""
    rng = np.random.default_rng(seed)

    def away_from_zero(shape):
        magnitude = rng.uniform(0.2, 2.0, shape)
        return magnitude * rng.choice([-1.0, 1.0], shape)

    x = away_from_zero((ROWS, COLS))
    x.flat[rng.choice(x.size, 4, replace=False)] = 0.0
    # both signs in every column, so a swapped or missing mask always shows
    x[0, :], x[1, :] = np.abs(x[0, :]) + 0.2, -np.abs(x[1, :]) - 0.2
    inputs = {"x": x, "x_far": away_from_zero((4, 3)),
              "grad_output": rng.uniform(0.5, 2.0, (ROWS, COLS)) * rng.choice([-1.0, 1.0],
                                                                                (ROWS, COLS))}
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 4])
    shapes = {"float32": (_not_a_power_of_two(large, 65, 140),
                          _not_a_power_of_two(large, 100, 260)),
              "float64": (_not_a_power_of_two(large, 65, 99, odd=True),
                          _not_a_power_of_two(large, 100, 160))}
    for dtype, shape in shapes.items():
        inputs[f"large_x_{dtype}"] = _large_input(large, *shape)
        inputs[f"large_upstream_{dtype}"] = large.standard_normal(shape) * large.uniform(0.5, 4)
    return inputs


ENTRY = course.entry("e04_my_relu")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker)

def _tensor(array, dtype="float32", requires_grad=False):
    import torch

    return torch.tensor(np.asarray(array), dtype=getattr(torch, dtype),
                        requires_grad=requires_grad)


def _backward_with(y, upstream):
    """y.backward(upstream), with `upstream` itself (this very tensor) handed to y's backward.

    A scalar backward through a pass-through Function: the same tensor object reaches
    MyReLU.backward as grad_output (so an in-place change shows in the caller's copy),
    and torch's first non-scalar backward (which imports sympy, ~0.7 s) is avoided.
    """
    import torch

    class Feed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            return value.sum()

        @staticmethod
        def backward(ctx, _):
            return upstream

    Feed.apply(y).backward()


@EXERCISE.probe
def backward(sub, inputs):
    """Forward, then backward() with a given upstream gradient that the caller keeps."""
    x = _tensor(inputs["x"], requires_grad=True)
    upstream = _tensor(inputs["grad_output"])
    kept = upstream.clone()
    y = sub.MyReLU.apply(x)
    out = y.detach().clone()
    _backward_with(y, upstream)
    grad = x.grad.detach().clone() if x.grad is not None else None
    return {"out": out, "grad": grad, "upstream_after": upstream.detach().clone(),
            "upstream": kept, "x_after": x.detach().clone(), "twice": _twice(sub, inputs)}


def _twice(sub, inputs):
    """MyReLU used twice in one graph (on x and on -x) before one backward: each backward
    must read its own forward's input (from ctx), not state the later forward overwrote."""
    x1 = _tensor(inputs["x"], requires_grad=True)
    x2 = _tensor(-inputs["x"], requires_grad=True)
    up1, up2 = (_tensor(u) for u in _twice_upstreams(inputs))
    try:
        y1, y2 = sub.MyReLU.apply(x1), sub.MyReLU.apply(x2)
        ((y1 * up1).sum() + (y2 * up2).sum()).backward()
    except Exception as exc:  # noqa: BLE001 - reported by the judge, next to the single use
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"grads": [None if x.grad is None else x.grad.detach().clone() for x in (x1, x2)]}


def _twice_upstreams(inputs):
    return inputs["grad_output"], np.flip(inputs["grad_output"]).copy()


@EXERCISE.probe
def gradcheck(sub, inputs):
    import torch

    x = _tensor(inputs["x_far"], "float64", requires_grad=True)
    from torch.autograd.gradcheck import GradcheckError

    try:
        return {"ok": bool(torch.autograd.gradcheck(sub.MyReLU.apply, (x,), eps=1e-6,
                                                    atol=1e-5, rtol=1e-3)), "detail": ""}
    except GradcheckError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"ok": False, "detail": first.rstrip(" ,.:")[:200]}


@EXERCISE.probe
def large(sub, inputs):
    """Forward and backward on the large float32 and float64 inputs (each on its own:
    one that fails still lets the other report)."""
    found = {}
    for dtype in LARGE_CASES:
        x = _tensor(inputs[f"large_x_{dtype}"], dtype, requires_grad=True)
        try:
            y = sub.MyReLU.apply(x)
            out = y.detach().clone()
            _backward_with(y, _tensor(inputs[f"large_upstream_{dtype}"], dtype))
        except Exception as exc:  # noqa: BLE001 - reported by the judge
            found[dtype] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            continue
        found[dtype] = {"out": out,
                        "grad": None if x.grad is None else x.grad.detach().clone()}
    return found


@EXERCISE.probe
def alias(sub, inputs):
    """my_relu(x) forward and backward: it must be MyReLU's (its grad_fn is MyReLU's)."""
    x = _tensor(inputs["x"], requires_grad=True)
    y = sub.my_relu(x)
    backward_cls = getattr(sub.MyReLU, "_backward_cls", None)
    grad_fn = getattr(y, "grad_fn", None)
    custom = grad_fn is not None and backward_cls is not None and type(grad_fn) is backward_cls
    if custom:
        _backward_with(y, _tensor(inputs["grad_output"]))
    return {"out": y, "custom": custom,
            "grad_fn": type(grad_fn).__name__ if grad_fn is not None else "None"}


# ------------------------------------------------------------------ judges

@EXERCISE.check(points=1, probe="backward")
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
            [_as_float32(u) for u in _twice_upstreams(inputs)],
            (t("label_grad_first_use"), t("label_grad_second_use"))):
        second = _grad_verdict(grad, expected, x, upstream, label)
        if not second.passed:
            return failed(t("twice_wrong"), *second.lines, misconception="state_outside_ctx")
    return verdict


@EXERCISE.check(points=2, probe="backward")
def backward_values(ctx):
    return _backward_verdict(ctx.out, ctx.ref, ctx.inputs)


@EXERCISE.check(points=1, probe="backward")
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


@EXERCISE.check(points=1, probe="gradcheck")
def gradcheck_float64(ctx):
    ok = isinstance(ctx.out, dict) and ctx.out.get("ok") is True
    # Against the reference's result (which passes): so that a mutant whose gradcheck
    # fails can claim a failed gradcheck as one of its symptoms.
    expected = not (isinstance(ctx.ref, dict) and ctx.ref.get("ok") is False)
    if ok == expected:
        return passed()
    detail = ctx.out.get("detail") if isinstance(ctx.out, dict) else ""
    return failed(t("gradcheck_failed", detail=f" ({detail})" if detail else ""))


@EXERCISE.check(points=1, probe="large")
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


@EXERCISE.check(points=1, probe="alias")
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


# ------------------------------------------------------------------ misconceptions

def _buggy_relu(backward_rule):
    """A MyReLU whose backward is `backward_rule(input, grad_output)` (built in the worker)."""
    import torch

    class BuggyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return backward_rule(input, grad_output.clone())

    return {"MyReLU": BuggyReLU, "my_relu": BuggyReLU.apply}


# Where every backward mutant shows (each misconception lists exactly its symptoms,
# tests/test_e04_e05_e06.py checks it): the small probe's gradients, the large inputs',
# and gradcheck.
SYMPTOMS = ("backward_values", "large_inputs", "gradcheck_float64")


def _masked(grad, where):
    grad[where] = 0
    return grad


EXERCISE.misconception("mask_missing", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: grad))
EXERCISE.misconception("mask_inverted", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: _masked(grad, input > 0)))
EXERCISE.misconception("mask_not_multiplied", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: (input > 0).to(grad.dtype)))
EXERCISE.misconception("relu_on_gradient", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: grad.clamp(min=0)))


@hookimpl
def grader_exercises():
    return [EXERCISE]
