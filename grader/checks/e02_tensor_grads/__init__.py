"""e02: the two-layer net's gradients by hand with torch tensors, and a cubic fit.

PROBE_PLAN: every input is drawn from the grader's seed, shapes and lengths included, never
the tutorial's constants (its 2000 points of sin on [-pi, pi] included).

grads       tensor_two_layer_grads(x, y, w1, w2) on SMALL data (N 10-24), twice: values,
            purity, repeatability; once more on LARGE data (N 67-130, not 64 or 128; D_in
            1001-1200, H 101-128, D_out 11-16): a hard-coded size, rows in batches.
by_hand     both functions, counting autograd's backward passes, then under no_grad.
poly        poly_grads(x, y, coeffs) on POLY_POINTS random points (300-3000 of them,
            uniform on [-a, a], a in 1-3.5; y a random sine plus noise), in float32 and
            float64, twice each (purity, repeatability).
Tolerances: common.TOLERANCES for the two-layer checks; POLY_RTOL (measured, see there).
"""

from __future__ import annotations

from pathlib import Path

import functools
from typing import Any, Callable

import numpy as np

from grader import course, hookimpl
from grader.checks import common
from grader.exercise import Exercise, JudgeContext, Verdict, failed, passed, t
from grader.judging import as_array, compare, is_real_number, kind_of

POLY_POINTS = (300, 3000)       # how many points poly_grads gets, drawn in this range
POLY_HALF_WIDTH = (1.0, 3.5)    # x uniform on [-a, a], a drawn in this range
POLY_ORDER = ("poly_x", "poly_y", "coeffs")
DTYPES = ("float32", "float64")   # poly_grads is called with both; x, y, coeffs share one
#: poly_loss and poly_grads: float32-vs-float64 and other orders (design matrix, Horner,
#: chunked sums, float64 inside, autograd) needed up to 2.2e-7 (loss) and 2.4e-6 (grads)
#: over seeds 0-299, as judging.compare's rtol; about 8-9 times that.
POLY_RTOL = {"loss": 2e-6, "grads": 2e-5}


@functools.lru_cache(maxsize=4)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    data = common.two_layer_data((seed, 0), common.SMALL)
    data.update(common.two_layer_data((seed, 1), common.LARGE, prefix="large_"))
    rng = np.random.default_rng((seed, 2))
    half_width = rng.uniform(*POLY_HALF_WIDTH)
    x = rng.uniform(-half_width, half_width, int(rng.integers(*POLY_POINTS)))
    y = rng.uniform(0.5, 2.0) * np.sin(rng.uniform(0.5, 2.0) * x + rng.uniform(0, 2 * np.pi))
    y += 0.1 * rng.standard_normal(x.shape)
    data.update(poly_x=x, poly_y=y, coeffs=rng.standard_normal(4) * 0.5)
    return data


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return common.fresh(_inputs(seed))


ENTRY = course.entry("e02_tensor_grads")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes

def _fresh(inputs: dict, keys: tuple[str, ...], dtype: str = "float32") -> list:
    copy = common.as_tensors(inputs, dtype)
    return [copy(inputs[k]) for k in keys]


@EXERCISE.probe
def grads(sub, inputs):
    return common.probe_pure_grads(sub.tensor_two_layer_grads, inputs, common.as_tensors(inputs))


class _CountingEngine:
    """Stands in for autograd's engine: counts every backward pass it runs. Every way into
    autograd (loss.backward(), torch.autograd.grad / backward, torch.func, a name imported
    before the probe started, `from torch.autograd import grad`) ends in its run_backward."""

    def __init__(self, engine: Any, calls: list) -> None:
        self._engine, self._calls = engine, calls

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        self._calls.append("run_backward")
        return self._engine.run_backward(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _autograd_use(fn: Callable, make_args: Callable[[], list]) -> dict[str, Any]:
    """Call fn normally, then under torch.no_grad(), counting autograd's backward passes."""
    import torch
    from torch.autograd.variable import Variable

    calls = []
    saved = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    engine = getattr(Variable, "_execution_engine", None)

    def counted(original):
        def wrapper(*args, **kwargs):
            calls.append(original.__name__)
            return original(*args, **kwargs)
        return wrapper

    def run(no_grad: bool) -> None:
        torch.Tensor.backward = counted(saved[0])
        torch.autograd.backward = counted(saved[1])
        torch.autograd.grad = counted(saved[2])
        if engine is not None:
            Variable._execution_engine = _CountingEngine(engine, calls)
        try:
            if no_grad:
                with torch.no_grad():
                    fn(*make_args())
            else:
                fn(*make_args())
        finally:
            torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = saved
            if engine is not None:
                Variable._execution_engine = engine

    run(no_grad=False)
    try:
        run(no_grad=True)
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        return {"calls": len(calls), "no_grad_error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"calls": len(calls), "no_grad_error": None}


@EXERCISE.probe
def by_hand(sub, inputs):
    result = {"tensor_two_layer_grads": _autograd_use(
        sub.tensor_two_layer_grads, lambda: _fresh(inputs, common.ORDER))}
    try:
        sub.poly_grads(*_fresh(inputs, POLY_ORDER))
    except Exception:  # noqa: BLE001 - a missing or failing poly_grads is its own checks' business
        return result
    result["poly_grads"] = _autograd_use(sub.poly_grads, lambda: _fresh(inputs, POLY_ORDER))
    return result


@EXERCISE.probe
def poly(sub, inputs):
    result = {}
    for dtype in DTYPES:
        args = _fresh(inputs, POLY_ORDER, dtype)
        first = common.snapshot(sub.poly_grads(*args), keep_graph=True)
        after = {k: common.snapshot(a) for k, a in zip(POLY_ORDER, args)}
        try:
            second = sub.poly_grads(*args)
        except Exception as exc:  # noqa: BLE001 - a second call that fails is not repeatable
            second = {"second_call_raised": f"{type(exc).__name__}: {str(exc)[:200]}"}
        result[dtype] = {"returned": first, "second": second, "after": after,
                         "after_all": dict(zip(POLY_ORDER, args))}
    return result


# ------------------------------------------------------------------ judges

# loss 1, grad_w1 2, grad_w2 2, leaves_inputs_alone 1
common.declare_grad_checks(EXERCISE, extra=common.tensors_only)


@EXERCISE.check(points=1, probe="by_hand")
def no_autograd(ctx):
    lines = []
    for name in EXERCISE.names:
        info = ctx.out.get(name)
        if not info:
            continue
        if info.get("no_grad_error"):
            lines.append(t("fails_under_no_grad", name=name, error=info["no_grad_error"]))
        elif info.get("calls"):
            lines.append(t("calls_autograd", name=name))
    return failed(*lines, misconception="uses_autograd") if lines else passed()


def _label(label: str, dtype: str) -> str:
    return label if dtype == "float32" else f"{label} ({dtype} inputs)"


def _pairs(ctx: JudgeContext, dtype: str) -> tuple[tuple | None, tuple | None, Any]:
    returned = ctx.out[dtype]["returned"]
    return common.unpack(returned, 2), common.unpack(ctx.ref[dtype]["returned"], 2), returned


@EXERCISE.check(points=1, probe="poly")
def poly_loss(ctx):
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


@EXERCISE.check(points=2, probe="poly")
def poly_grads(ctx):
    for dtype in DTYPES:
        got, want, returned = _pairs(ctx, dtype)
        if got is None:
            return failed(t("not_a_pair", got=kind_of(returned)))
        problems = compare(_label("grads", dtype), got[1], want[1], POLY_RTOL["grads"])
        if problems:
            return failed(*problems)
    lines = common.tensors_only("grads", _pairs(ctx, "float32")[0][1])
    changed = sorted({k.replace("poly_", "") for dtype in DTYPES
                      for k in common.changed_inputs(JudgeContext(ctx.out[dtype], None,
                                                                  ctx.inputs, ctx.seed),
                                                     POLY_ORDER)})
    if changed:
        lines.append(t("poly_inputs_changed", names=", ".join(changed)))
    else:
        for dtype in DTYPES:
            first, second = ctx.out[dtype]["returned"], common.unpack(ctx.out[dtype]["second"], 2)
            if second is None or any(as_array(a) is None or compare("", b, a, 1e-6)
                                     for a, b in zip(first, second)):
                lines.append(t("not_repeatable"))
                break
    return failed(*lines, fraction=0.5) if lines else passed()


# ------------------------------------------------------------------ misconceptions

common.declare_two_layer_misconceptions(EXERCISE, "tensor_two_layer_grads", None)


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


def _poly_variant(judges: tuple[Callable[[JudgeContext], Verdict], ...], **change: Any
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


def _cubic_wrong(ctx: JudgeContext) -> bool:
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


def _derivative_in_x(ctx: JudgeContext) -> bool:
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


def _declare_poly(key: str, checks: tuple[Callable, ...], **change: Any) -> None:
    EXERCISE.misconception(key, checks=tuple(judge.__name__ for judge in checks),
                           detect=_poly_variant(checks, **change))(None)


_declare_poly("poly_residual_sign", (poly_grads,), sign=-1.0)
# Before factor_two: 0.5 * sum with grad_y_pred = y_pred - y halves the grads too.
_declare_poly("half_sse", (poly_loss, poly_grads), factor=1.0, loss_scale=0.5)
_declare_poly("factor_two", (poly_grads,), factor=1.0)
_declare_poly("mean_loss", (poly_loss, poly_grads), mean=True)
# The mean in the loss only (its grads by hand right): a symptom of poly_loss alone.
EXERCISE.misconception("mean_loss", checks=("poly_loss",),
                       detect=_poly_variant((poly_loss,), mean=True))(None)
# Before poly_cubic_term: 3 * x**2 in place of x**3 is this idea, not a missing cubic term.
EXERCISE.misconception("poly_derivative_in_x", checks=("poly_grads",),
                       detect=_derivative_in_x)(None)
EXERCISE.misconception("poly_cubic_term", checks=("poly_grads",), detect=_cubic_wrong)(None)
_declare_poly("poly_cubic_term", (poly_loss, poly_grads), powers=(0, 1, 2),
              grad_powers=(0, 1, 2, 3))
_declare_poly("poly_coeffs_reversed", (poly_loss, poly_grads), reverse=True)
_declare_poly("poly_power_off_by_one", (poly_grads,), grad_powers=(1, 2, 3, 4))
_declare_poly("poly_power_off_by_one", (poly_loss, poly_grads), powers=(1, 2, 3, 4))


@hookimpl
def grader_exercises():
    return [EXERCISE]
