"""e07's judges (grader process): each compares a probe's output with the reference's
(or a mutant's) and returns a Verdict; the misconceptions' detectors. NumPy only, no torch.

Tolerances (`*_RTOL`) are measured, not guessed: see the figures next to each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.e07_training.inputs import DEFAULTS, MOMENTUM
from grader.checks.training.inputs import PARAMS
from grader.codec import TensorData
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare, compare_named, is_real_number, kind_of

# Tolerances. Each is 4-10x the largest deviation measured on the reference (seeds 0-19)
# between float32 and correct variants: the loss in float64, einsum, mean * count, a
# reversed difference, row sums first, weights updated by hand in float64.
# Losses: relative per value (judging.compare: rtol * (|expected| + 5% of the largest)).
# "Moved": how far training moved each weight (params - initial), relative in norm over
# all its elements (`_moved_problems`), a far finer test than the weights themselves.
LOSS_RTOL = 2e-6          # 8 small steps: measured 3.8e-7
MOVED_RTOL = 2e-6         # measured 4.3e-7; weight decay 1e-4 / an L2 penalty: 7.7e-6 or more
DEFAULT_LOSS_RTOL = 5e-6  # 500 steps: measured 8.1e-7; a step schedule departs by 6e-2
DEFAULT_MOVED_RTOL = 5e-6  # measured 1.4e-6; weight decay 1e-4 / L2: 1.2e-5 or more
LARGE_LOSS_RTOL = 2e-6    # tutorial sizes, 3 steps: measured 2.3e-7
LARGE_MOVED_RTOL = 1e-5   # measured 1.3e-6
EVALUATE_RTOL = 2e-6      # measured 2.1e-7 (float64, row sums, einsum, sums of batches of 32)
#: CUDA against the CPU reference (GPU only; another machine's kernels): kept wide.
CUDA_RTOL = 1e-3


def _scalar(value: Any) -> Any:
    """A one-element array or tensor as a 0-d array (the codec sends 0-d tensors as (1,))."""
    if isinstance(value, (TensorData, np.ndarray)):
        array = as_array(value)
        if array is not None and array.size == 1:
            return array.reshape(())
    return value


def _loss_values(got: Any) -> np.ndarray | None:
    """The losses as a 1-D float array: from a list of numbers/one-element tensors, or a tensor."""
    if isinstance(got, TensorData):
        return as_array(got)
    if not isinstance(got, (list, tuple)):
        return None
    return as_array([_scalar(v) for v in got])


def _trajectory(got: Any, want: Any, label, rtol: float = LOSS_RTOL):
    have = _loss_values(got)
    if have is None:
        return failed(t("losses_not_list", got=kind_of(got)))
    if have.ndim != 1:
        return failed(t("wrong_shape", label=label, expected=(len(want),), got=have.shape))
    if have.size == 0:
        return failed(t("no_losses"))
    if have.size != len(want):
        return failed(t("wrong_length", label=label, expected=len(want), got=have.size))
    problems = compare(label, have, list(want), rtol)
    return failed(*problems) if problems else passed()


def _initial(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    """The weights a probe's model started from, as float32 held them (widened exactly)."""
    return {name: np.asarray(inputs[prefix + name], dtype=np.float32).astype(np.float64)
            for name in PARAMS}


def _moved(params: Any, start: dict[str, np.ndarray]) -> dict[str, Any]:
    """How far each weight moved from `start` (as is where it cannot be subtracted)."""
    params = params if isinstance(params, dict) else {}
    moved = {}
    for name, origin in start.items():
        have = as_array(params.get(name))
        moved[name] = have - origin if have is not None and have.shape == origin.shape \
            else params.get(name)
    return moved


def _moved_problems(got: dict, want: dict, rtol: float, when) -> list:
    """How far each weight moved against the reference, as one relative error per weight
    (over all its elements, in norm): rounding scatters at random across the elements, a
    penalty or a decay pulls every one of them the same way, so the norm tells them apart
    best (see the tolerances)."""
    problems = []
    for name, expected in want.items():
        label = t("label_moved", when=when, name=name)
        have, wanted = as_array(got.get(name)), as_array(expected)
        if have is None or wanted is None or have.shape != wanted.shape:
            problems += compare(label, got.get(name), expected)
            continue
        if not np.all(np.isfinite(have)):
            problems.append(t("nonfinite", label=label))
            continue
        size = float(np.linalg.norm(wanted))
        error = float(np.linalg.norm(have - wanted))
        if error > rtol * size + 1e-12:
            problems.append(t("moved_off", label=label, rel=error / (size or 1.0)))
    return problems


def _departure(got: Any, want: Any, rtol: float) -> int | None:
    """The first step whose loss is off the expected one (None: none, or not comparable)."""
    have, expected = _loss_values(got), as_array(list(want))
    if have is None or expected is None or have.shape != expected.shape:
        return None
    for index in range(expected.size):
        if compare("", have[index], expected[index], rtol):
            return index
    return None


def train_losses(ctx):
    return _trajectory(ctx.out["losses"], ctx.ref["losses"], "losses")


def train_momentum(ctx):
    return _trajectory(ctx.out["losses"], ctx.ref["losses"],
                       t("label_losses_momentum", momentum=MOMENTUM))


def train_weights(ctx):
    start = _initial(ctx.inputs)
    problems = _moved_problems(_moved(ctx.out["params"], start),
                               _moved(ctx.ref["params"], start), MOVED_RTOL,
                               t("when_after_train"))
    return failed(*problems) if problems else passed()


def train_defaults(ctx):
    """train(model, x, y): the whole default run, its losses and where the weights end."""
    declared = ctx.out.get("declared") or {}
    wrong = {name: value for name, value in declared.items() if value != DEFAULTS[name]}
    lines = [t("defaults_differ", got=", ".join(f"{k}={v}" for k, v in sorted(wrong.items())),
               expected="steps=500, learning_rate=1e-4, momentum=0.0")] if wrong else []
    verdict = _trajectory(ctx.out["losses"], ctx.ref["losses"], t("label_losses_defaults"),
                          DEFAULT_LOSS_RTOL)
    if not verdict.passed:
        step = _departure(ctx.out["losses"], ctx.ref["losses"], DEFAULT_LOSS_RTOL)
        if step is not None and step >= 3:
            lines.append(t("departs_late", step=step))
        return failed(t("defaults_run"), *verdict.lines, *lines)
    start = _initial(ctx.inputs, "long.")
    problems = _moved_problems(_moved(ctx.out["params"], start),
                               _moved(ctx.ref["params"], start), DEFAULT_MOVED_RTOL,
                               t("when_after_defaults"))
    if problems:
        unchanged = all(as_array(v) is not None and not np.any(as_array(v))
                        for v in _moved(ctx.out["params"], start).values())
        why = t("weights_unchanged") if unchanged else t("weights_drift")
        return failed(t("defaults_run"), *problems, why, *lines)
    return passed()


def train_large(ctx):
    """A few steps at the tutorial's sizes or larger, N beyond 64 rows."""
    verdict = _trajectory(ctx.out["losses"], ctx.ref["losses"], t("label_losses_large"),
                          LARGE_LOSS_RTOL)
    if not verdict.passed:
        return failed(_large_run(ctx), *verdict.lines)
    problems = _moved_problems(ctx.out["moved"] if isinstance(ctx.out["moved"], dict) else {},
                               ctx.ref["moved"], LARGE_MOVED_RTOL, t("when_after_large"))
    return failed(_large_run(ctx), *problems) if problems else passed()


def _large_run(ctx):
    n, d_in, h, d_out = ctx.ref["sizes"]
    return t("large_run", what=f"N={n}, D_in={d_in}, H={h}, D_out={d_out}")


def losses_are_floats(ctx):
    losses = ctx.out["losses"]
    if not isinstance(losses, (list, tuple)):
        return failed(t("losses_not_list", got=kind_of(losses)))
    if not losses:
        return failed(t("no_losses"))
    for index, value in enumerate(losses):
        if isinstance(value, float):
            continue
        if isinstance(value, TensorData):
            return failed(t("losses_tensors", index=index, got=kind_of(value)),
                          misconception="losses_keep_graph" if value.has_grad_fn else None)
        return failed(t("losses_not_floats", index=index, got=kind_of(value)))
    return passed()


def evaluate_loss(ctx):
    value = ctx.out["value"]
    problems = compare("evaluate(model, x, y)", _scalar(value), ctx.ref["value"],
                       EVALUATE_RTOL) + \
        compare(t("label_evaluate_large"), _scalar(ctx.out["value_large"]),
                ctx.ref["value_large"], EVALUATE_RTOL)
    if problems:
        return failed(*problems)
    if not is_real_number(value):
        return failed(t("evaluate_not_float", got=kind_of(value)), fraction=0.5)
    return passed()


def evaluate_eval_mode(ctx):
    records = ctx.out["records"]
    if not records:
        return failed(t("model_not_called"))
    if any(r.get("training") for r in records):
        return failed(t("evaluate_training_mode"), misconception="evaluate_no_eval")
    return passed()


def evaluate_inference_mode(ctx):
    records = ctx.out["records"]
    if not records:
        return failed(t("model_not_called"))
    if all(r.get("inference") for r in records):
        return passed()
    if not any(r.get("grad") for r in records):
        return failed(t("no_grad_not_inference"), fraction=0.5)
    return failed(t("evaluate_builds_graph"))


def _differs(before: Any, after: Any) -> bool:
    if before is None or after is None:
        return (before is None) != (after is None)
    a, b = as_array(before), as_array(after)
    return a is None or b is None or a.shape != b.shape or not np.array_equal(a, b)


def evaluate_leaves_model(ctx):
    before, after = ctx.out["before"], ctx.out["after"]
    names = sorted(before["params"])
    moved = [n for n in names if _differs(before["params"][n], after["params"].get(n))]
    if moved:
        return failed(t("evaluate_changed_params", names=", ".join(moved)),
                      misconception="evaluate_trains")
    touched = [n for n in names if _differs(before["grads"][n], after["grads"].get(n))]
    if touched:
        return failed(t("evaluate_changed_grads", names=", ".join(touched)))
    frozen = [n for n in names if not ctx.out["requires_grad"].get(n, False)]
    if frozen:
        return failed(t("evaluate_changed_requires_grad", names=", ".join(frozen)))
    return passed()


def device_choice(ctx):
    """pick_device follows torch.cuda.is_available() (asked both ways), and train runs where
    the model is when CUDA is around (a model on the CPU stays there): the devices part of
    the exercise, judged the same on a machine with a GPU and on one without."""
    out = ctx.out
    if not out["is_device"]:
        return failed(t("device_not_device", got=f"{out['text']} ({out['kind']})"))
    expected = "cuda" if out["cuda"] else "cpu"
    other = out.get("simulated")
    same_both_ways = isinstance(other, dict) and bool(other.get("is_device")) \
        and other.get("type") == out["type"]
    if out["type"] != expected:
        return failed(t("device_wrong", got=out["text"], available=out["cuda"],
                        expected=expected), *([t("device_hard_coded")] if same_both_ways else []))
    if isinstance(other, dict) and other.get("is_device"):
        expected = "cpu" if out["cuda"] else "cuda"
        if other.get("type") != expected:
            return failed(t("device_ignores_cuda", got=other["text"],
                            available=not out["cuda"], expected=expected),
                          t("device_hard_coded"))
    run = (out.get("train") or {}).get("with")
    if isinstance(run, dict) and run.get("error"):
        return failed(t("train_fails_with_cuda", error=run["error"]),
                      misconception="device_not_from_model")
    if isinstance(run, dict) and run.get("devices") not in (None, ["cpu"]):
        return failed(t("train_moves_model", devices=", ".join(run["devices"])),
                      misconception="device_not_from_model")
    return passed()


def train_on_cuda(ctx):
    if not str(ctx.out["device"]).startswith("cuda"):
        return failed(t("model_left_device", device=ctx.out["device"]))
    verdict = _trajectory(ctx.out["losses"], ctx.ref["losses"], "losses on CUDA", CUDA_RTOL)
    if not verdict.passed:
        return verdict
    problems = compare_named(ctx.out["params"], ctx.ref["params"], CUDA_RTOL,
                             t("when_after_train_cuda")) + \
        compare("evaluate on CUDA", _scalar(ctx.out["value"]), ctx.ref["value"], CUDA_RTOL)
    return failed(*problems) if problems else passed()


# ------------------------------------------------------------------ misconceptions (detected)

def trained_a_copy(ctx) -> bool:
    """Right losses, but the given model still holds its initial weights."""
    if not _trajectory(ctx.out["losses"], ctx.ref["losses"], "losses").passed:
        return False
    initial = {name: ctx.inputs[name] for name in ctx.ref["params"]}
    return not compare_named(ctx.out["params"], initial, 1e-7)


def length_differs(ctx) -> bool:
    have, want = _loss_values(ctx.out["losses"]), ctx.ref["losses"]
    return have is not None and have.ndim == 1 and 0 < have.size != len(want)


def wrong_default(ctx) -> bool:
    """The signature declares another default, or the call without arguments does not run
    500 steps."""
    declared = ctx.out.get("declared") or {}
    return any(value != DEFAULTS[name] for name, value in declared.items()) or \
        length_differs(ctx)


def learning_rate_changes(ctx) -> bool:
    """The first steps are right (so are the loss and the starting rate), and later the
    losses part far beyond round-off: the rate changed during the run."""
    step = _departure(ctx.out["losses"], ctx.ref["losses"], DEFAULT_LOSS_RTOL)
    return step is not None and step >= 3 and \
        bool(compare("", _loss_values(ctx.out["losses"]), ctx.ref["losses"],
                     100 * DEFAULT_LOSS_RTOL))
