"""e09: the PyTorch workflow on a straight line (data, split, model, fit), and gradient
descent by hand with NumPy.

`fit` is graded with the grader's own line model (`_line_model`, parameters `weights`
and `bias`, which notes the mode of every forward call), never with the student's
`LinearRegressionModel`: a broken model costs only its own checks.

PROBE PLAN (every input drawn from the grader's seed, never the tutorial's constants):
- make_line_data: no arguments at all (the contract's defaults); seeded random weight,
  bias, start, end and step by keyword and by position (20 to 90 points, `end` between
  two grid points so the length cannot depend on rounding); and a call giving only
  weight and end (the other defaults must hold).
- split_data: default fraction on N rows where int(0.8 * N) and round(0.8 * N) differ
  (N from 40 to 130); a seeded random fraction on other N.
- LinearRegressionModel: built after torch.manual_seed(s) (its parameters and their
  first values), and its forward pass with seeded weights on seeded x.
- fit: the default call (100 epochs, learning rate 0.01), and a call with seeded random
  epochs (120 to 180: a change after epoch 100 shows) and learning rate, on seeded noisy line data (40 to 100 training
  rows, never a power of two by design). The L1 gradient is a sign: data are redrawn
  until no training residual along either reference run comes within RESIDUAL_MARGIN of
  0, so that no correct answer's trajectory depends on rounding.
- manual_gradient_descent: the default call (20 steps, 0.01) on float32 data scaled so
  that each step shrinks the error by 5-30%, and a call with seeded random steps
  (25 to 80) and learning rate on float64 data; lengths 5 to 130.
Tolerances (compare()'s rtol), each about 4-10x the largest deviation from the reference
measured over 12 seeds for correct variants (in brackets): line data RTOL_LINE 1e-5
[2.5e-6: a float32 grid start + step * arange(n); NumPy's float64 grid], model forward
RTOL_FORWARD 1e-6 [2.0e-7: addcmul, float64 inside], fit losses and weights RTOL_FIT 2e-6
[2.0e-7 losses, 0 weights: float64 loss, sum / N], gradient descent RTOL_GD 4e-6 [4.7e-7
losses, 1.5e-7 w: float32 throughout, float64 with np.dot]. Splits and the model's first
values are compared exactly.
"""

from __future__ import annotations

from pathlib import Path

from typing import Any

import numpy as np

from grader import course, hookimpl
from grader.codec import TensorData
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare, compare_named, is_real_number, kind_of

RTOL_LINE = 1e-5
RTOL_FORWARD = 1e-6
RTOL_FIT = 2e-6
RTOL_GD = 4e-6
EXACT = 0.0
RESIDUAL_MARGIN = 2e-5   # float32 drift along 180 steps is about 1e-6
DEFAULT_EPOCHS, DEFAULT_FIT_LR = 100, 0.01
DEFAULT_STEPS, DEFAULT_GD_LR = 20, 0.01
DEFAULT_LINE = {"weight": 0.7, "bias": 0.3, "start": 0.0, "end": 1.0, "step": 0.02}
FIT_DATA = ("X_train", "y_train", "X_test", "y_test")


# ------------------------------------------------------------------ data

def _between_grid_points(rng, start: float, step: float, count: int) -> float:
    """An `end` that gives `count` points, a quarter of a step or more from the next one."""
    return start + step * (count - 1 + rng.uniform(0.25, 0.75))


def _split_size(rng, low: int, high: int, fraction: float) -> int:
    """A length N whose fraction * N is at least 0.5 past an integer and 0.05 short of the
    next (int, round and ceil all differ; no float rounding can flip int())."""
    while True:
        n = int(rng.integers(low, high))
        if 0.5 <= (fraction * n) % 1 <= 0.95:
            return n


def _l1_margin(X, y, w: float, b: float, learning_rate: float, epochs: int) -> float:
    """The smallest |residual| on the training rows along the reference's fit (float64)."""
    smallest = np.inf
    for _ in range(epochs):
        residual = w * X + b - y
        smallest = min(smallest, float(np.min(np.abs(residual))))
        sign = np.sign(residual)
        w, b = w - learning_rate * float(np.mean(sign * X)), b - learning_rate * float(np.mean(sign))
    return smallest


def _fit_data(rng) -> dict[str, np.ndarray]:
    while True:
        n = int(rng.integers(50, 126))
        low = rng.uniform(-1.0, 0.5)
        X = np.sort(rng.uniform(low, low + rng.uniform(1.0, 2.0), n))[:, None]
        y = rng.uniform(-2, 2) * X + rng.uniform(-1, 1) + rng.normal(0, 0.05, (n, 1))
        cut = int(0.8 * n)
        init = rng.standard_normal(2)
        other = np.array([rng.uniform(0.003, 0.03), int(rng.integers(120, 181))])
        margin = min(_l1_margin(X[:cut], y[:cut], *init, DEFAULT_FIT_LR, DEFAULT_EPOCHS),
                     _l1_margin(X[:cut], y[:cut], *init, other[0], int(other[1])))
        if margin > RESIDUAL_MARGIN:
            return {"X_train": X[:cut], "y_train": y[:cut], "X_test": X[cut:],
                    "y_test": y[cut:], "fit_init": init, "fit_other": other}


def _gd_data(rng, learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y with 2 * learning_rate * mean(x**2) in [0.05, 0.3]: each step shrinks the
    error by 5-30%, so the losses still move at the last step."""
    n = int(rng.integers(5, 131))
    x = rng.uniform(0.5, 3.5, n) * rng.choice([-1.0, 1.0], n)
    x *= np.sqrt(rng.uniform(0.05, 0.3) / (2 * learning_rate) / np.mean(x ** 2))
    slope = rng.uniform(0.5, 3.0) * rng.choice([-1.0, 1.0])
    return x, slope * x + rng.normal(0, 0.3, n)


def _draw_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    step = rng.uniform(0.01, 0.2)
    start = rng.uniform(-2.0, 1.0)
    data = {"line": np.array([rng.uniform(-3, 3), rng.uniform(-2, 2), start,
                              _between_grid_points(rng, start, step, int(rng.integers(20, 91))),
                              step])}
    partial_count = int(rng.integers(20, 91))
    data["line_partial"] = np.array([rng.uniform(-3, 3),
                                     _between_grid_points(rng, 0.0, 0.02, partial_count)])
    n = _split_size(rng, 40, 131, 0.8)
    data["split_X"], data["split_y"] = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    fraction = rng.uniform(0.3, 0.9)
    n = _split_size(rng, 20, 131, fraction)
    data["split_fraction"] = np.array([fraction])
    data["split_X2"], data["split_y2"] = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    data["model_seed"] = rng.integers(0, 2**31 - 1, size=1)
    data["model_values"] = rng.standard_normal(2)
    data["model_x"] = rng.standard_normal((int(rng.integers(10, 71)), 1))
    data.update(_fit_data(rng))
    data["gd_x"], data["gd_y"] = _gd_data(rng, DEFAULT_GD_LR)
    other_lr = rng.uniform(0.002, 0.03)
    data["gd_other"] = np.array([other_lr, int(rng.integers(25, 81))])
    data["gd_x2"], data["gd_y2"] = _gd_data(rng, other_lr)
    return data


#: Inputs by seed: fit's data are redrawn until clear of kinks (a few ms each time), and
#: every probe asks again. A plain dict, not functools.lru_cache: a student's worker keeps
#: only the functions its probes reach (grader/strip.py), and it follows plain functions.
_INPUTS: dict[int, dict[str, np.ndarray]] = {}


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """The inputs of `seed`, as fresh copies."""
    if seed not in _INPUTS:
        _INPUTS.clear()
        _INPUTS[seed] = _draw_inputs(seed)
    return {key: value.copy() for key, value in _INPUTS[seed].items()}


ENTRY = course.entry("e09_linear_regression")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker side)

def _tensor(array: np.ndarray):
    import torch

    return torch.tensor(np.array(array), dtype=torch.float32)


def _copy(value: Any) -> Any:
    if hasattr(value, "detach") and callable(value.detach):
        return value.detach().clone()
    if type(value) in (tuple, list):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


@EXERCISE.probe
def line(sub, inputs):
    weight, bias, start, end, step = (float(v) for v in inputs["line"])
    partial_weight, partial_end = (float(v) for v in inputs["line_partial"])
    return {"default": _copy(sub.make_line_data()),
            "keywords": _copy(sub.make_line_data(weight=weight, bias=bias, start=start,
                                                 end=end, step=step)),
            "positional": _copy(sub.make_line_data(weight, bias, start, end, step)),
            "partial": _copy(sub.make_line_data(weight=partial_weight, end=partial_end))}


@EXERCISE.probe
def split(sub, inputs):
    return {"default": _copy(sub.split_data(_tensor(inputs["split_X"]),
                                            _tensor(inputs["split_y"])))}


@EXERCISE.probe
def split_fraction(sub, inputs):
    fraction = float(inputs["split_fraction"][0])
    return {"keyword": _copy(sub.split_data(_tensor(inputs["split_X2"]),
                                            _tensor(inputs["split_y2"]),
                                            train_fraction=fraction))}


@EXERCISE.probe
def model(sub, inputs):
    import torch

    seed = int(inputs["model_seed"][0])
    torch.manual_seed(seed)
    draws = [torch.randn(1).item(), torch.randn(1).item()]
    torch.manual_seed(seed)
    built = sub.LinearRegressionModel()
    is_module = isinstance(built, torch.nn.Module)
    params = {name: p.detach().clone() for name, p in built.named_parameters()} \
        if is_module else {}
    attributes = {name: type(getattr(built, name, None)).__name__
                  for name in ("weights", "bias")}
    return {"is_module": is_module, "kind": type(built).__name__, "params": params,
            "attributes": attributes, "draws": draws}


@EXERCISE.probe
def model_forward(sub, inputs):
    import torch

    built = sub.LinearRegressionModel()
    with torch.no_grad():
        for name, value in zip(("weights", "bias"), inputs["model_values"]):
            getattr(built, name).copy_(torch.full((1,), float(value)))
    return {"value": _copy(built(_tensor(inputs["model_x"])))}


#: What the grader's line model saw on each forward call (module level, so that it also
#: fills when a student's fit works on a deep copy).
RECORDS: list[dict[str, Any]] = []
_CLASSES: dict[str, Any] = {}


def _line_model(init: np.ndarray):
    """The grader's own model for fit: weights * x + bias, noting each call's modes."""
    import torch
    from torch import nn

    if "GraderLine" not in _CLASSES:
        class GraderLine(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn.Parameter(torch.zeros(1))
                self.bias = nn.Parameter(torch.zeros(1))

            def forward(self, x):
                RECORDS.append({"rows": int(x.shape[0]), "training": bool(self.training),
                                "inference": bool(torch.is_inference_mode_enabled()),
                                "grad": bool(torch.is_grad_enabled())})
                return self.weights * x + self.bias
        _CLASSES["GraderLine"] = GraderLine
    line_model = _CLASSES["GraderLine"]()
    with torch.no_grad():
        line_model.weights.fill_(float(init[0]))
        line_model.bias.fill_(float(init[1]))
    return line_model


def _as_lists(returned: Any) -> Any:
    if isinstance(returned, (tuple, list)) and len(returned) == 2:
        return tuple(list(part) if isinstance(part, (tuple, list)) else _copy(part)
                     for part in returned)
    return _copy(returned)


def _run_fit(fit, inputs, **kwargs) -> dict:
    line_model = _line_model(inputs["fit_init"])
    data = [_tensor(inputs[key]) for key in FIT_DATA]
    RECORDS.clear()
    returned = fit(line_model, *data, **kwargs)
    return {"returned": _as_lists(returned),
            "params": {name: p.detach().cpu().clone()
                       for name, p in line_model.named_parameters()},
            "records": list(RECORDS)}


@EXERCISE.probe
def fitting(sub, inputs):
    return _run_fit(sub.fit, inputs)        # every default left out: 100 epochs at 0.01


@EXERCISE.probe
def fitting_other(sub, inputs):
    rate, epochs = float(inputs["fit_other"][0]), int(inputs["fit_other"][1])
    found = _run_fit(sub.fit, inputs, epochs=epochs, learning_rate=rate)
    del found["records"]
    return found


@EXERCISE.probe
def descent(sub, inputs):
    x, y = (np.array(inputs[k], dtype=np.float32) for k in ("gd_x", "gd_y"))
    return {"returned": _copy(sub.manual_gradient_descent(x, y))}


@EXERCISE.probe
def descent_other(sub, inputs):
    rate, steps = float(inputs["gd_other"][0]), int(inputs["gd_other"][1])
    x, y = (np.array(inputs[k], dtype=np.float64) for k in ("gd_x2", "gd_y2"))
    return {"returned": _copy(sub.manual_gradient_descent(x, y, learning_rate=rate,
                                                          steps=steps))}


# ------------------------------------------------------------------ judges: data and split

def _pair(value: Any) -> tuple | None:
    return tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else None


def _line_problems(got: Any, want: Any, label: str) -> list:
    pair = _pair(got)
    if pair is None:
        return [t("not_a_pair", label=label, what="(X, y)", got=kind_of(got))]
    problems = []
    for name, have, expected in zip(("X", "y"), pair, want):
        problems += compare(f"{label}: {name}", have, expected, RTOL_LINE)
    return problems


def _line_calls(ctx) -> dict[str, str]:
    weight, bias, start, end, step = (float(v) for v in ctx.inputs["line"])
    partial_weight, partial_end = (float(v) for v in ctx.inputs["line_partial"])
    return {"keywords": f"make_line_data(weight={weight:.4g}, bias={bias:.4g}, "
                        f"start={start:.4g}, end={end:.4g}, step={step:.4g})",
            "positional": f"make_line_data({weight:.4g}, {bias:.4g}, {start:.4g}, {end:.4g}, "
                          f"{step:.4g})",
            "partial": f"make_line_data(weight={partial_weight:.4g}, end={partial_end:.4g})"}


def _column_misconception(ctx, calls) -> str | None:
    """X (or y) came back 1-D where a column was expected."""
    for call in calls:
        pair = _pair(ctx.out[call])
        if pair and any(isinstance(v, TensorData) and len(v.shape) == 1 for v in pair):
            return "not_a_column"
    return None


@EXERCISE.check(points=1, probe="line")
def line_default(ctx):
    problems = _line_problems(ctx.out["default"], ctx.ref["default"], "make_line_data()")
    if problems:
        return failed(*problems, misconception=_column_misconception(ctx, ["default"]))
    return passed()


@EXERCISE.check(points=1.5, probe="line")
def line_arguments(ctx):
    for call, label in _line_calls(ctx).items():
        problems = _line_problems(ctx.out[call], ctx.ref[call], label)
        if problems:
            return failed(*problems, misconception=_column_misconception(ctx, [call]))
    return passed()


@EXERCISE.check(points=0.5, probe="line")
def line_float32_column(ctx):
    for call in ("default", "keywords", "positional", "partial"):
        pair = _pair(ctx.out[call])
        if pair is None:
            return failed(t("not_a_pair", label="make_line_data", what="(X, y)",
                            got=kind_of(ctx.out[call])))
        for name, value in zip(("X", "y"), pair):
            if not (isinstance(value, TensorData) and value.dtype == "float32"
                    and len(value.shape) == 2 and value.shape[1] == 1):
                return failed(t("line_dtype", label=name, got=kind_of(value)),
                              misconception=_column_misconception(ctx, [call]))
    return passed()


def _split_problems(got: Any, want: Any, label: str) -> list:
    if not (isinstance(got, (tuple, list)) and len(got) == 4):
        return [t("not_four", got=kind_of(got))]
    problems = []
    for name, have, expected in zip(("X_train", "y_train", "X_test", "y_test"), got, want):
        problems += compare(f"{label}: {name}", have, expected, EXACT)
    return problems


def _split_misconception(ctx, key: str, X: str, y: str) -> str | None:
    """What a wrong split did, seen from its four parts (none when it cannot be said)."""
    got, want = ctx.out[key], ctx.ref[key]
    if not (isinstance(got, (tuple, list)) and len(got) == 4):
        return None
    parts = [as_array(v) for v in got]
    if any(p is None for p in parts):
        return None
    X_all, y_all = (np.asarray(ctx.inputs[k], dtype=np.float32).astype(np.float64)
                    for k in (X, y))
    if not _split_problems([got[0], got[2], got[1], got[3]], want, ""):
        return "split_order_swapped"
    if parts[0].shape[1:] != X_all.shape[1:] or parts[2].shape[1:] != X_all.shape[1:]:
        return None
    joined = np.concatenate([parts[0], parts[2]])
    if joined.shape == X_all.shape and np.array_equal(joined, X_all) and \
            abs(len(parts[0]) - len(as_array(want[0]))) == 1:
        return "split_off_by_one"
    if joined.shape == X_all.shape and not np.array_equal(joined, X_all) and \
            np.array_equal(np.sort(joined, axis=0), np.sort(X_all, axis=0)):
        return "shuffled_split"
    return None


@EXERCISE.check(points=1, probe="split")
def split_default(ctx):
    problems = _split_problems(ctx.out["default"], ctx.ref["default"], "split_data(X, y)")
    if problems:
        return failed(*problems, misconception=_split_misconception(
            ctx, "default", "split_X", "split_y"))
    return passed()


@EXERCISE.check(points=1, probe="split_fraction")
def split_other_fraction(ctx):
    fraction = float(ctx.inputs["split_fraction"][0])
    problems = _split_problems(ctx.out["keyword"], ctx.ref["keyword"],
                               f"split_data(X, y, train_fraction={fraction:.4g})")
    if problems:
        return failed(*problems, misconception=_split_misconception(
            ctx, "keyword", "split_X2", "split_y2"))
    return passed()


# ------------------------------------------------------------------ judges: the model

@EXERCISE.check(points=1, probe="model")
def model_parameters(ctx):
    out = ctx.out
    if not out["is_module"]:
        return failed(t("not_a_module", got=out["kind"]))
    shapes = {name: tuple(getattr(value, "shape", ())) for name, value in out["params"].items()}
    if shapes != {"weights": (1,), "bias": (1,)}:
        plain = not shapes and all(kind == "Tensor" for kind in out["attributes"].values())
        got = ", ".join(f"{n} {s}" for n, s in shapes.items()) or "nothing"
        return failed(t("model_parameters", got=got),
                      misconception="plain_tensor_not_parameter" if plain else None)
    return passed()


@EXERCISE.check(points=0.5, probe="model")
def model_init(ctx):
    params = ctx.out["params"]
    values = [as_array(params.get(name)) for name in ("weights", "bias")]
    if any(v is None or v.shape != (1,) for v in values):
        return failed(t("model_parameters", got=", ".join(sorted(params)) or "nothing"))
    dtypes = sorted({getattr(params.get(name), "dtype", "float32") for name in ("weights", "bias")})
    if dtypes != ["float32"]:
        return failed(t("model_dtype", got=", ".join(dtypes)))
    got = sorted(float(v[0]) for v in values)
    expected = sorted(float(np.float32(v)) for v in ctx.ref["draws"])
    if got != expected:
        return failed(t("model_init", got=[round(v, 4) for v in got],
                        expected=[round(v, 4) for v in expected]))
    return passed()


@EXERCISE.check(points=1, probe="model_forward")
def model_forward_values(ctx):
    problems = compare("model(x)", ctx.out["value"], ctx.ref["value"], RTOL_FORWARD)
    return failed(*problems) if problems else passed()


# ------------------------------------------------------------------ judges: fit

def _loss_list(value: Any) -> np.ndarray | None:
    """Losses as a 1-D float array: from a list of numbers or one-element tensors, or a
    1-D array or tensor (whether they are Python floats is a check of its own)."""
    if isinstance(value, (TensorData, np.ndarray)):
        array = as_array(value)
        return array if array is not None and array.ndim == 1 else None
    if not isinstance(value, (list, tuple)):
        return None
    scalars = [as_array(v) for v in value]
    if any(s is None or s.size != 1 for s in scalars):
        return None
    return np.array([float(s.reshape(())) for s in scalars])


def _fit_problems(got: Any, want: Any, which: tuple[int, ...], label=None) -> list:
    pair, expected = _pair(got), _pair(want)
    if pair is None:
        return [t("not_a_pair", label="fit", what="(train_losses, test_losses)",
                  got=kind_of(got))]
    problems = []
    for index in which:
        name = t("label_train_losses") if index == 0 else t("label_test_losses")
        named = label(name) if label else name
        have = _loss_list(pair[index])
        if have is None:
            return [t("wrong_type", label=named, expected=t("expected_float_list"),
                      got=kind_of(pair[index]))]
        if have.shape != (len(expected[index]),):
            return [t("wrong_length", label=named, expected=len(expected[index]),
                      got=have.size)]
        problems += compare(named, have, list(expected[index]), RTOL_FIT)
    return problems


@EXERCISE.check(points=2, probe="fitting")
def fit_train_losses(ctx):
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (0,))
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1, probe="fitting")
def fit_test_losses(ctx):
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (1,))
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1, probe="fitting")
def fit_weights(ctx):
    problems = compare_named(ctx.out["params"], ctx.ref["params"], RTOL_FIT,
                             t("when_after_fit"))
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1.5, probe="fitting_other")
def fit_arguments(ctx):
    rate, epochs = float(ctx.inputs["fit_other"][0]), int(ctx.inputs["fit_other"][1])

    def label(name):
        return t("label_other_run", epochs=epochs, rate=rate, name=name)
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (0, 1), label)
    problems = problems or compare_named(ctx.out["params"], ctx.ref["params"], RTOL_FIT,
                                         label(t("when_after_fit")))
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="fitting")
def fit_losses_are_floats(ctx):
    pair = _pair(ctx.out["returned"])
    if pair is None:
        return failed(t("not_a_pair", label="fit", what="(train_losses, test_losses)",
                        got=kind_of(ctx.out["returned"])))
    for name, losses in zip(("train_losses", "test_losses"), pair):
        if not isinstance(losses, list) or not losses:
            return failed(t("wrong_type", label=name, expected=t("expected_float_list"),
                            got=kind_of(losses)))
        bad = next((i for i, v in enumerate(losses) if not isinstance(v, float)), None)
        if bad is not None:
            return failed(t("losses_not_floats", label=name, index=bad,
                            got=kind_of(losses[bad])))
    return passed()


def _records(ctx) -> tuple[list, list]:
    """The training forward passes (on X_train, gradients on) and the test passes."""
    train_rows, test_rows = len(ctx.inputs["X_train"]), len(ctx.inputs["X_test"])
    records = ctx.out["records"]
    return ([r for r in records if r["rows"] == train_rows and r["grad"]],
            [r for r in records if r["rows"] == test_rows])


@EXERCISE.check(points=1, probe="fitting")
def fit_modes(ctx):
    training, testing = _records(ctx)
    if not training:
        return failed(t("no_training_forward"))
    if not testing:
        return failed(t("no_test_forward"))
    in_train = [r for r in testing if r["training"]]
    if in_train:
        return failed(t("test_in_train_mode", count=len(in_train), total=len(testing)),
                      misconception="test_loss_in_train_mode")
    in_eval = [r for r in training if not r["training"]]
    if in_eval:
        return failed(t("train_forward_not_train_mode", count=len(in_eval),
                        total=len(training)), misconception="train_mode_not_restored")
    return passed()


@EXERCISE.check(points=1, probe="fitting")
def fit_test_inference_mode(ctx):
    _, testing = _records(ctx)
    if not testing:
        return failed(t("no_test_forward"))
    if all(r["inference"] for r in testing):
        return passed()
    if not any(r["grad"] for r in testing):
        return failed(t("test_no_grad_not_inference"), fraction=0.5)
    return failed(t("test_loss_with_grad"), misconception="test_loss_with_grad")


# ------------------------------------------------------------------ judges: by hand

def _descent_problems(got: Any, want: Any, label: str) -> list:
    pair, expected = _pair(got), _pair(want)
    if pair is None:
        return [t("not_a_pair", label=label, what="(w, losses)", got=kind_of(got))]
    problems = compare(f"{label}: w", pair[0], expected[0], RTOL_GD)
    losses = _loss_list(pair[1])
    if losses is None:
        return problems + [t("wrong_type", label=f"{label}: losses",
                             expected=t("expected_float_list"), got=kind_of(pair[1]))]
    if losses.shape != (len(expected[1]),):
        return problems + [t("wrong_length", label=f"{label}: losses",
                             expected=len(expected[1]), got=losses.size)]
    return problems + compare(f"{label}: losses", losses, list(expected[1]), RTOL_GD)


@EXERCISE.check(points=2, probe="descent")
def descent_default(ctx):
    problems = _descent_problems(ctx.out["returned"], ctx.ref["returned"],
                                 "manual_gradient_descent(x, y)")
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1.5, probe="descent_other")
def descent_arguments(ctx):
    rate, steps = float(ctx.inputs["gd_other"][0]), int(ctx.inputs["gd_other"][1])
    problems = _descent_problems(
        ctx.out["returned"], ctx.ref["returned"],
        f"manual_gradient_descent(x, y, learning_rate={rate:.4g}, steps={steps})")
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="descent")
def descent_types(ctx):
    pair = _pair(ctx.out["returned"])
    if pair is None:
        return failed(t("not_a_pair", label="manual_gradient_descent", what="(w, losses)",
                        got=kind_of(ctx.out["returned"])))
    if not is_real_number(pair[0]):
        return failed(t("w_not_number", got=kind_of(pair[0])))
    if not isinstance(pair[1], list):
        return failed(t("wrong_type", label="losses", expected=t("expected_float_list"),
                        got=kind_of(pair[1])))
    bad = next((i for i, v in enumerate(pair[1]) if not is_real_number(v)), None)
    if bad is not None:
        return failed(t("gd_losses_not_numbers", index=bad, got=kind_of(pair[1][bad])))
    return passed()


# ------------------------------------------------------------------ misconceptions

def reference_fit(model, X_train, y_train, X_test, y_test, *, epochs=DEFAULT_EPOCHS,
                  learning_rate=DEFAULT_FIT_LR, bug: str | None = None):
    """fit, correct when `bug` is None, else with one typical mistake (worker side):
    "mse", "abs_of_mean", "accumulate" (the gradients never zeroed), "fixed_lr"."""
    import torch

    def loss_fn(pred, target):
        if bug == "mse":
            return torch.nn.functional.mse_loss(pred, target)
        if bug == "abs_of_mean":
            return (pred - target).mean().abs()
        return torch.nn.functional.l1_loss(pred, target)

    rate = DEFAULT_FIT_LR if bug == "fixed_lr" else learning_rate
    optimizer = torch.optim.SGD(model.parameters(), lr=rate)
    train_losses, test_losses = [], []

    for _ in range(epochs):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        train_losses.append(loss.item())
        if bug != "accumulate":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            test_losses.append(loss_fn(model(X_test), y_test).item())
    return train_losses, test_losses


def _fit_mutant(key: str, bug: str, checks: tuple[str, ...]) -> None:
    def mutant(ref):
        def wrong_fit(model, X_train, y_train, X_test, y_test, *, epochs=DEFAULT_EPOCHS,
                      learning_rate=DEFAULT_FIT_LR):
            return reference_fit(model, X_train, y_train, X_test, y_test, epochs=epochs,
                                 learning_rate=learning_rate, bug=bug)
        return {"fit": wrong_fit}
    EXERCISE.misconception(key, checks=checks)(mutant)


def _tutorial_line(ref):
    def make_line_data(*args, **kwargs):
        return ref["make_line_data"]()
    return {"make_line_data": make_line_data}


def _fixed_fraction(ref):
    def split_data(X, y, train_fraction=0.8):
        return ref["split_data"](X, y)
    return {"split_data": split_data}


EXERCISE.misconception("tutorial_constants", checks=("line_arguments",))(_tutorial_line)
EXERCISE.misconception("ignores_train_fraction", checks=("split_other_fraction",))(
    _fixed_fraction)
FIT_VALUES = ("fit_train_losses", "fit_test_losses", "fit_weights")
_fit_mutant("mse_not_l1", "mse", FIT_VALUES)
_fit_mutant("abs_of_mean", "abs_of_mean", FIT_VALUES)
_fit_mutant("grads_accumulate", "accumulate", FIT_VALUES)
_fit_mutant("ignores_learning_rate", "fixed_lr", ("fit_arguments",))


# Shifts and a cut-off run are read off the reference's own losses (no extra runs): the
# loss after update t is the loss before update t + 1; the test loss before update t is
# the one after update t - 1; 100 epochs at the given rate are the first 100 of its run.
def _shifted(ctx, index: int, by: int) -> bool:
    """The student's losses[index] are the reference's shifted by `by` epochs."""
    pair, want = _pair(ctx.out["returned"]), _pair(ctx.ref["returned"])
    have = _loss_list(pair[index]) if pair else None
    expected = np.array(want[index], dtype=np.float64)
    if have is None or have.shape != expected.shape or len(expected) < 3:
        return False
    if by > 0:
        return not compare("", have[:-by], expected[by:], RTOL_FIT)
    return not compare("", have[-by:], expected[:by], RTOL_FIT)


def _stopped_at_default_epochs(ctx) -> bool:
    pair, want = _pair(ctx.out["returned"]), _pair(ctx.ref["returned"])
    have = _loss_list(pair[0]) if pair else None
    return have is not None and have.shape == (DEFAULT_EPOCHS,) and \
        len(want[0]) > DEFAULT_EPOCHS and \
        not compare("", have, list(want[0][:DEFAULT_EPOCHS]), RTOL_FIT)


EXERCISE.misconception("loss_after_update", checks=("fit_train_losses",),
                       detect=lambda ctx: _shifted(ctx, 0, 1))(None)
EXERCISE.misconception("test_before_step", checks=("fit_test_losses",),
                       detect=lambda ctx: _shifted(ctx, 1, -1))(None)
EXERCISE.misconception("ignores_epochs", checks=("fit_arguments",),
                       detect=_stopped_at_default_epochs)(None)


def descent_run(x, y, learning_rate: float, steps: int, *, factor: float = 2.0,
                mean: bool = True, after: bool = False, start: float = 0.0
                ) -> tuple[float, list[float]]:
    """manual_gradient_descent in float64, with one idea changeable (grader side)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, losses = start, []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            residual = w * x - y
            gradient = np.sum(factor * x * residual) / (len(x) if mean else 1)
            loss = float(np.mean(residual ** 2))
            w -= learning_rate * gradient
            losses.append(float(np.mean((w * x - y) ** 2)) if after else loss)
    return float(w), losses


def _descent_matches(ctx, other: bool, **change: Any) -> bool:
    """The student's (w, losses) follow manual_gradient_descent with `change`, for as long
    as that run stays finite (a gradient N times too large blows up)."""
    pair = _pair(ctx.out["returned"])
    if pair is None or not is_real_number(pair[0]):
        return False
    losses = _loss_list(pair[1])
    if other:
        x, y = ctx.inputs["gd_x2"], ctx.inputs["gd_y2"]
        rate, steps = float(ctx.inputs["gd_other"][0]), int(ctx.inputs["gd_other"][1])
    else:   # the default call gets float32 arrays
        x, y = (ctx.inputs[k].astype(np.float32) for k in ("gd_x", "gd_y"))
        rate, steps = DEFAULT_GD_LR, DEFAULT_STEPS
    rate = change.pop("rate", rate)
    steps = change.pop("steps", steps)
    if change.pop("start_from_loss", False):
        return losses is not None and _started_elsewhere(x, y, rate, steps, pair[0], losses)
    w, want = descent_run(x, y, rate, steps, **change)
    if losses is None or losses.shape != (len(want),):
        return False
    want = np.array(want)
    usable = np.isfinite(want) & (np.abs(want) < 1e30) & np.isfinite(losses)
    count = int(np.argmin(usable)) if not usable.all() else len(want)
    if count < min(3, len(want)):
        return False
    if count == len(want) and compare("", pair[0], w, RTOL_GD):
        return False
    return not compare("", losses[:count], want[:count], RTOL_GD)


def _started_elsewhere(x, y, rate, steps, w_got, losses) -> bool:
    """The losses are those of a correct run from some w0 != 0 (solved from losses[0])."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b, c = np.mean(x * x), np.mean(x * y), np.mean(y * y)
    discriminant = b * b - a * (c - losses[0])
    if len(losses) < 2 or discriminant < 0 or abs(losses[0] - c) <= RTOL_GD * c:
        return False
    for start in ((b + np.sqrt(discriminant)) / a, (b - np.sqrt(discriminant)) / a):
        w, want = descent_run(x, y, rate, steps, start=start)
        if not compare("", losses, want, 1e-4) and not compare("", w_got, w, 1e-4):
            return True
    return False


for _check, _other in (("descent_default", False), ("descent_arguments", True)):
    for _key, _change in (("gradient_missing_two", {"factor": 1.0}),
                          ("gradient_sum_not_mean", {"mean": False}),
                          ("gd_loss_after_update", {"after": True}),
                          ("w_not_zero", {"start_from_loss": True})):
        EXERCISE.misconception(_key, checks=(_check,), detect=lambda ctx, o=_other, c=_change:
                               _descent_matches(ctx, o, **c))(None)
EXERCISE.misconception("gd_ignores_learning_rate", checks=("descent_arguments",),
                       detect=lambda ctx: _descent_matches(ctx, True, rate=DEFAULT_GD_LR))(None)
EXERCISE.misconception("gd_ignores_steps", checks=("descent_arguments",),
                       detect=lambda ctx: _descent_matches(ctx, True, steps=DEFAULT_STEPS))(None)


@hookimpl
def grader_exercises():
    return [EXERCISE]
