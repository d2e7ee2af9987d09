"""e07: a training loop with an optimizer, evaluation, and devices.

Everything runs on the grader's own reference model (`reference_models`), with
the same seeded weights loaded through `load_state_dict` for the student and the
reference, so a broken student `TwoLayerNet` costs only e05.

PROBE PLAN (every size and value drawn from the grader's seed; none is a tutorial
constant, so code that rebuilds the tutorial's tensors or hard-codes a size fails):
- training, training_momentum: small data (N 12-24), 8 steps at explicit arguments, with
  and without momentum: fast, detailed feedback (and the misconceptions' mutants).
- training_defaults: train(model, x, y) with every default left out: the full 500 steps
  at learning_rate 1e-4, momentum 0. The data (N 40-63 rows, so more than 32; inputs of
  very different scales) make the loss fall through all 500 steps without diverging, so a
  learning-rate schedule or decay, a weight-decay / L2 penalty, gradient clipping or a
  wrong default shows.
- training_large: the tutorial's sizes or larger (N 65-127 rows, beyond 64 and never a
  power of two; D_in 1000-1040, H 100-110, D_out 10-12), 3 steps: mini-batching,
  hard-coded sizes and the tutorial's own data show.
- evaluation: evaluate on the small data and on the large data (N beyond 64);
  evaluation_modes: eval() and inference_mode; device, on_cuda: devices.
Tolerances (`*_RTOL`) are measured, not guessed: see the figures next to each.
"""

from __future__ import annotations

from pathlib import Path

import contextlib
import inspect
import re
import traceback
import types
from typing import Any

import numpy as np

from grader import course, hookimpl
from grader.checks import reference_models as models
from grader.codec import TensorData
from grader.exercise import Exercise, Skip, failed, passed, t
from grader.judging import as_array, compare, compare_named, is_real_number, kind_of

# Small probes: each step changes the loss by 2.5% or more, and momentum changes the path
# from step 3 on: a shifted, accumulated or momentum-less trajectory is far outside the
# tolerance.
LEARNING_RATE, STEPS, MOMENTUM = 3e-3, 8, 0.9
#: The defaults the contract fixes: train(model, x, y, *, steps=500, learning_rate=1e-4,
#: momentum=0.0).
DEFAULTS = {"steps": 500, "learning_rate": 1e-4, "momentum": 0.0}
LARGE_STEPS, LARGE_LEARNING_RATE, LARGE_MOMENTUM = 3, 3e-5, 0.5

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


def _sizes(rng: np.random.Generator, *ranges: tuple[int, int]) -> list[int]:
    return [int(rng.integers(low, high + 1)) for low, high in ranges]


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """Small data and weights (unprefixed), and the defaults run's ("long."); the large
    data are drawn in the probes that need them (`_large_inputs`)."""
    rng = np.random.default_rng([seed, 7])
    n, d_in, h, d_out = _sizes(rng, (12, 24), (4, 8), (6, 10), (2, 4))
    data = models.make_data(seed, n, d_in, h, d_out)
    n, d_in, h, d_out = _sizes(rng, (40, 63), (6, 10), (12, 20), (3, 5))
    long = models.make_data(int(rng.integers(2**31)), n, d_in, h, d_out)
    # inputs whose scales span a factor 10: fast and slow directions, so that the loss
    # still falls late in the run (by 2-10% over the last 100 steps, measured on 60 seeds)
    long["x"] = long["x"] * rng.permutation(np.geomspace(0.3, 3.0, d_in))
    data.update({"long." + key: value for key, value in long.items()})
    data["seed"] = np.array(seed)
    return data


#: The large data by seed, drawn once per worker (a plain dict and function: a student's
#: worker keeps only the check code its probes reach, `grader.strip`).
_LARGE: dict[int, dict[str, np.ndarray]] = {}


def _large_inputs(seed: int) -> dict[str, np.ndarray]:
    if seed not in _LARGE:
        _LARGE.clear()
        _LARGE[seed] = _draw_large_inputs(seed)
    return _LARGE[seed]


def _draw_large_inputs(seed: int) -> dict[str, np.ndarray]:
    """The tutorial's sizes or larger, N beyond 64."""
    rng = np.random.default_rng([seed, 7, 2])
    n, d_in, h, d_out = _sizes(rng, (65, 127), (1000, 1040), (100, 110), (10, 12))
    data = {"x": rng.standard_normal((n, d_in), dtype=np.float32),
            "y": rng.standard_normal((n, d_out), dtype=np.float32)}
    for prefix in ("", "other_"):
        data[prefix + "linear1.weight"] = \
            rng.standard_normal((h, d_in), dtype=np.float32) / np.float32(np.sqrt(d_in))
        data[prefix + "linear1.bias"] = rng.standard_normal(h, dtype=np.float32) * 0.1
        data[prefix + "linear2.weight"] = \
            rng.standard_normal((d_out, h), dtype=np.float32) / np.float32(np.sqrt(h))
        data[prefix + "linear2.bias"] = rng.standard_normal(d_out, dtype=np.float32) * 0.1
    return data


def _part(inputs, prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix):]: value for key, value in inputs.items() if key.startswith(prefix)}


ENTRY = course.entry("e07_training")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker side)

def _as_list(losses: Any) -> Any:
    return list(losses) if isinstance(losses, (list, tuple)) else losses


def _run_train(sub, inputs, momentum: float | None) -> dict:
    model = models.build(inputs)          # fresh: parameters require grad, no .grad yet
    x, y = models.tensors(inputs)
    kwargs = {"steps": STEPS, "learning_rate": LEARNING_RATE}
    if momentum is not None:
        kwargs["momentum"] = momentum
    losses = sub.train(model, x, y, **kwargs)
    return {"losses": _as_list(losses), "params": models.params(model)}


@EXERCISE.probe
def training(sub, inputs):
    return _run_train(sub, inputs, None)       # momentum left at its default, 0.0


@EXERCISE.probe
def training_momentum(sub, inputs):
    return _run_train(sub, inputs, MOMENTUM)


def _declared_defaults(function) -> dict[str, Any]:
    """train's own default arguments, as its signature declares them (for the feedback
    only: the verdict comes from what the call with no arguments does)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    return {name: parameters[name].default for name in DEFAULTS
            if name in parameters and parameters[name].default is not inspect.Parameter.empty
            and isinstance(parameters[name].default, (int, float))}


@EXERCISE.probe
def training_defaults(sub, inputs):
    """train(model, x, y) with every default left out: 500 steps at learning_rate 1e-4."""
    long = _part(inputs, "long.")
    model = models.build(long)
    x, y = models.tensors(long)
    losses = sub.train(model, x, y)
    return {"losses": _as_list(losses), "params": models.params(model),
            "declared": _declared_defaults(sub.train)}


@EXERCISE.probe
def evaluation(sub, inputs):
    model = models.build(inputs)
    x, y = models.tensors(inputs)
    ((model(x) - y) ** 2).sum().backward()     # gradients evaluate must leave alone
    before = {"params": models.params(model), "grads": models.grads(model)}
    value = sub.evaluate(model, x, y)
    found = {"value": value, "before": before,
             "after": {"params": models.params(model), "grads": models.grads(model)},
             "requires_grad": {n: bool(p.requires_grad) for n, p in model.named_parameters()}}
    large = _large_inputs(int(inputs["seed"]))   # N beyond 64: no size known in advance
    model = models.build(large)
    found["value_large"] = sub.evaluate(model, *models.tensors(large))
    return found


@EXERCISE.probe
def evaluation_modes(sub, inputs):
    model = models.build(inputs, recording=True)   # in training mode, Dropout(p=0.5) inside
    x, y = models.tensors(inputs)
    models.RECORDS.clear()
    value = sub.evaluate(model, x, y)
    return {"value": value, "records": list(models.RECORDS)}


def _describe_device(chosen) -> dict:
    import torch

    is_device = isinstance(chosen, torch.device)
    return {"is_device": is_device, "type": chosen.type if is_device else None,
            "text": repr(chosen)[:80], "kind": type(chosen).__name__}


@contextlib.contextmanager
def _cuda_reported(available: bool, accelerator: bool = True):
    """torch.cuda.is_available(), torch.cuda.device_count() (and, with `accelerator`,
    torch.accelerator) say `available`, also through names imported before (`from
    torch.cuda import is_available`): the functions' code is swapped, not the module
    attributes. torch's own optimizers consult torch.accelerator (Adam does), so runs of
    train leave it alone."""
    import torch

    swapped = []
    stand_ins = ((torch.cuda.is_available, (lambda: True) if available else (lambda: False)),
                 (torch.cuda.device_count, (lambda: 1) if available else (lambda: 0)))
    for function, stand_in in stand_ins:
        if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
            swapped.append((function, function.__code__))
            function.__code__ = stand_in.__code__
    accelerator = getattr(torch._C, "_accelerator_getAccelerator", None) if accelerator else None
    if accelerator is not None:
        torch._C._accelerator_getAccelerator = (
            (lambda: torch.device("cuda")) if available else (lambda: None))
    try:
        if torch.cuda.is_available() is not available:
            raise CannotSimulate("torch.cuda.is_available could not be replaced")
        yield
    finally:
        for function, code in swapped:
            function.__code__ = code
        if accelerator is not None:
            torch._C._accelerator_getAccelerator = accelerator


class CannotSimulate(Exception):
    """This torch's CUDA queries cannot be made to answer otherwise: no verdict then."""


@EXERCISE.probe
def device(sub, inputs):
    """pick_device on this machine, and with CUDA reported the other way round: the
    verdict must not depend on the machine that grades (a hard-coded "cpu" is right on a
    machine without CUDA only)."""
    import torch

    cuda = bool(torch.cuda.is_available())
    chosen = sub.pick_device()
    found = {**_describe_device(chosen), "cuda": cuda, "simulated": None,
             "train": _train_where_the_model_is(sub, inputs)}
    if sub.pick_device() is chosen:
        # the very same object again: an answer stored earlier (DEVICE = ... at import,
        # functools.cache), which asking again cannot change
        return found
    try:
        with _cuda_reported(not cuda):
            found["simulated"] = _describe_device(sub.pick_device())
    except Exception:  # noqa: BLE001 - e.g. torch.cuda.current_device() with no CUDA
        found["simulated"] = None
    return found


#: A line of the student's that puts a tensor or a module on a device.
_PLACES_ON_DEVICE = re.compile(r"\.(to|cuda)\s*\(|device\s*=")


def _moved_to_cuda(exc: BaseException, files: set[str]) -> bool:
    """Whether an error under simulated CUDA (no real GPU) comes from the student's own
    code putting something on the GPU (x.to(device), model.cuda(), device=...), and not
    from a harmless CUDA call (torch.cuda.synchronize()) that would work on a real GPU."""
    if "cuda" not in str(exc).lower():
        return False
    own = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
    return bool(own) and bool(_PLACES_ON_DEVICE.search(own[-1].line or ""))


def _train_where_the_model_is(sub, inputs) -> dict | None:
    """train on a CPU model, with CUDA reported absent and then present (for real where
    there is a GPU): it must work both ways and leave the model on the CPU. None when
    train does not even run without CUDA (the training checks say why)."""
    import torch

    cuda = bool(torch.cuda.is_available())
    files = {getattr(getattr(sub.train, "__code__", None), "co_filename", None)}
    runs = {}
    for label, available in (("without", False), ("with", True)):
        model = models.build(inputs)
        x, y = models.tensors(inputs)
        try:
            with (_cuda_reported(available, accelerator=False) if available != cuda
                  else contextlib.nullcontext()):
                sub.train(model, x, y, steps=2, learning_rate=LEARNING_RATE)
        except CannotSimulate:
            return None
        except Exception as exc:  # noqa: BLE001 - the verdict
            if label == "without":
                return None
            if not cuda and not _moved_to_cuda(exc, files):
                return None   # not a GPU here, and not clearly a device mistake: no verdict
            text = " ".join(str(exc).split())[:160]
            runs[label] = {"error": f"{type(exc).__name__}: {text}"}
            continue
        runs[label] = {"devices": sorted({str(p.device) for p in model.parameters()})}
    return runs


@EXERCISE.probe
def on_cuda(sub, inputs):
    import torch

    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    model = models.build(inputs, device="cuda")
    x, y = models.tensors(inputs)                  # on the CPU: train moves them
    losses = sub.train(model, x, y, steps=STEPS, learning_rate=LEARNING_RATE,
                       momentum=MOMENTUM)
    where = str(next(model.parameters()).device)
    value = sub.evaluate(model, x, y)
    return {"losses": _as_list(losses), "params": models.params(model), "device": where,
            "value": value}


# Last: a submission that ignores `steps` runs 500 steps here, at the tutorial's sizes, and
# may run out of time; every other probe has given its result by then.
@EXERCISE.probe
def training_large(sub, inputs):
    large = _large_inputs(int(inputs["seed"]))
    model = models.build(large)
    x, y = models.tensors(large)
    losses = sub.train(model, x, y, steps=LARGE_STEPS, learning_rate=LARGE_LEARNING_RATE,
                       momentum=LARGE_MOMENTUM)
    # how far each weight moved, taken here: the grader does not draw the large data
    return {"losses": _as_list(losses), "moved": _moved_in_worker(model, large),
            "sizes": [int(n) for n in (*large["x"].shape, *large["linear1.weight"].shape[:1],
                                          large["y"].shape[1])]}


def _moved_in_worker(model, initial) -> dict[str, Any]:
    import torch

    return {name: param.detach().cpu() - torch.tensor(initial[name], dtype=torch.float32)
            for name, param in model.named_parameters()}


# ------------------------------------------------------------------ judges (grader side)

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
            for name in ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")}


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


@EXERCISE.check(points=2, probe="training")
def train_losses(ctx):
    return _trajectory(ctx.out["losses"], ctx.ref["losses"], "losses")


@EXERCISE.check(points=2, probe="training_momentum")
def train_momentum(ctx):
    return _trajectory(ctx.out["losses"], ctx.ref["losses"],
                       t("label_losses_momentum", momentum=MOMENTUM))


@EXERCISE.check(points=1, probe="training")
def train_weights(ctx):
    start = _initial(ctx.inputs)
    problems = _moved_problems(_moved(ctx.out["params"], start),
                               _moved(ctx.ref["params"], start), MOVED_RTOL,
                               t("when_after_train"))
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=2, probe="training_defaults")
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
        return failed(t("defaults_run"), *problems, t("weights_drift"), *lines)
    return passed()


@EXERCISE.check(points=1, probe="training_large")
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


@EXERCISE.check(points=1, probe="training")
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


@EXERCISE.check(points=1, probe="evaluation")
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


@EXERCISE.check(points=1, probe="evaluation_modes")
def evaluate_eval_mode(ctx):
    records = ctx.out["records"]
    if not records:
        return failed(t("model_not_called"))
    if any(r.get("training") for r in records):
        return failed(t("evaluate_training_mode"), misconception="evaluate_no_eval")
    return passed()


@EXERCISE.check(points=0.5, probe="evaluation_modes")
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


@EXERCISE.check(points=0.5, probe="evaluation")
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


@EXERCISE.check(points=0.5, probe="device")
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


@EXERCISE.check(points=0.5, probe="on_cuda", needs_cuda=True)
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


# ------------------------------------------------------------------ misconceptions

TRAIN_CHECKS = ("train_losses", "train_momentum", "train_weights")


def _train_mutant(key: str, bug: str, checks: tuple[str, ...], evaluate_too: bool = False):
    def mutant(ref: dict) -> dict:
        def wrong_train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            return models.train(model, x, y, steps=steps, learning_rate=learning_rate,
                                momentum=momentum, bug=bug)

        def wrong_evaluate(model, x, y):
            return models.evaluate(model, x, y, bug=bug)
        return {"train": wrong_train, **({"evaluate": wrong_evaluate} if evaluate_too else {})}
    EXERCISE.misconception(key, checks=checks)(mutant)


def _trained_a_copy(ctx) -> bool:
    """Right losses, but the given model still holds its initial weights."""
    if not _trajectory(ctx.out["losses"], ctx.ref["losses"], "losses").passed:
        return False
    initial = {name: ctx.inputs[name] for name in ctx.ref["params"]}
    return not compare_named(ctx.out["params"], initial, 1e-7)


# Before "no_update": both leave the given model unchanged; only a copy gets the right losses.
EXERCISE.misconception("trains_a_copy", checks=("train_weights",), detect=_trained_a_copy)(None)
_train_mutant("grads_accumulate", "accumulate", TRAIN_CHECKS)
_train_mutant("no_update", "zero_before_step", TRAIN_CHECKS)
_train_mutant("loss_after_update", "loss_after_update", ("train_losses", "train_momentum"))
_train_mutant("mean_loss", "mean", TRAIN_CHECKS + ("evaluate_loss",), evaluate_too=True)
_train_mutant("ignores_learning_rate", "fixed_lr", TRAIN_CHECKS)
_train_mutant("momentum_lost", "rebuild_optimizer", ("train_momentum",))


def _half_sse(ref: dict) -> dict:
    """The 1/2 convention: loss = 0.5 * sum of squares (half the losses, half the steps)."""
    import torch

    def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
        device = next(model.parameters()).device
        x, y = x.to(device), y.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
        losses = []
        for _ in range(steps):
            loss = 0.5 * ((model(x) - y) ** 2).sum()
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses
    return {"train": train}


EXERCISE.misconception("half_sse", checks=TRAIN_CHECKS)(_half_sse)


def _length_differs(ctx) -> bool:
    have, want = _loss_values(ctx.out["losses"]), ctx.ref["losses"]
    return have is not None and have.ndim == 1 and 0 < have.size != len(want)


EXERCISE.misconception("ignores_steps", checks=("train_losses", "train_momentum"),
                       detect=_length_differs)(None)


def _wrong_default(ctx) -> bool:
    """The signature declares another default, or the call without arguments does not run
    500 steps."""
    declared = ctx.out.get("declared") or {}
    return any(value != DEFAULTS[name] for name, value in declared.items()) or \
        _length_differs(ctx)


def _learning_rate_changes(ctx) -> bool:
    """The first steps are right (so are the loss and the starting rate), and later the
    losses part far beyond round-off: the rate changed during the run."""
    step = _departure(ctx.out["losses"], ctx.ref["losses"], DEFAULT_LOSS_RTOL)
    return step is not None and step >= 3 and \
        bool(compare("", _loss_values(ctx.out["losses"]), ctx.ref["losses"],
                     100 * DEFAULT_LOSS_RTOL))


EXERCISE.misconception("wrong_default", checks=("train_defaults",), detect=_wrong_default)(None)
EXERCISE.misconception("learning_rate_changes", checks=("train_defaults",),
                       detect=_learning_rate_changes)(None)


@hookimpl
def grader_exercises():
    return [EXERCISE]
