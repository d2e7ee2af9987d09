"""e09's judges (grader process): each compares a probe's output with the reference's
(or a mutant's) and returns a Verdict. NumPy only, no torch.

Tolerances (compare()'s rtol), each about 4-10x the largest deviation from the reference
measured over 12 seeds for correct variants (in brackets): line data RTOL_LINE 1e-5
[2.5e-6: a float32 grid start + step * arange(n); NumPy's float64 grid], model forward
RTOL_FORWARD 1e-6 [2.0e-7: addcmul, float64 inside], fit losses and weights RTOL_FIT 2e-6
[2.0e-7 losses, 0 weights: float64 loss, sum / N], gradient descent RTOL_GD 4e-6 [4.7e-7
losses, 1.5e-7 w: float32 throughout, float64 with np.dot]. Splits and the model's first
values are compared exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.codec import TensorData
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare, compare_named, is_real_number, kind_of

RTOL_LINE = 1e-5
RTOL_FORWARD = 1e-6
RTOL_FIT = 2e-6
RTOL_GD = 4e-6
EXACT = 0.0


# ------------------------------------------------------------------ judges: data and split

def pair_of(value: Any) -> tuple | None:
    return tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else None


def _line_problems(got: Any, want: Any, label: str) -> list:
    pair = pair_of(got)
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
        pair = pair_of(ctx.out[call])
        if pair and any(isinstance(v, TensorData) and len(v.shape) == 1 for v in pair):
            return "not_a_column"
    return None


def line_default(ctx):
    problems = _line_problems(ctx.out["default"], ctx.ref["default"], "make_line_data()")
    if problems:
        return failed(*problems, misconception=_column_misconception(ctx, ["default"]))
    return passed()


def line_arguments(ctx):
    for call, label in _line_calls(ctx).items():
        problems = _line_problems(ctx.out[call], ctx.ref[call], label)
        if problems:
            return failed(*problems, misconception=_column_misconception(ctx, [call]))
    return passed()


def line_float32_column(ctx):
    for call in ("default", "keywords", "positional", "partial"):
        pair = pair_of(ctx.out[call])
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


def split_default(ctx):
    problems = _split_problems(ctx.out["default"], ctx.ref["default"], "split_data(X, y)")
    if problems:
        return failed(*problems, misconception=_split_misconception(
            ctx, "default", "split_X", "split_y"))
    return passed()


def split_other_fraction(ctx):
    fraction = float(ctx.inputs["split_fraction"][0])
    problems = _split_problems(ctx.out["keyword"], ctx.ref["keyword"],
                               f"split_data(X, y, train_fraction={fraction:.4g})")
    if problems:
        return failed(*problems, misconception=_split_misconception(
            ctx, "keyword", "split_X2", "split_y2"))
    return passed()


# ------------------------------------------------------------------ judges: the model

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
    # fit is graded on the grader's own model: only here does a frozen parameter show
    frozen = sorted(name for name, trainable in (out.get("trainable") or {}).items()
                    if not trainable)
    if frozen:
        return failed(t("model_frozen", names=", ".join(frozen)))
    return passed()


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


def model_forward_values(ctx):
    problems = compare("model(x)", ctx.out["value"], ctx.ref["value"], RTOL_FORWARD)
    return failed(*problems) if problems else passed()


# ------------------------------------------------------------------ judges: fit

def loss_list(value: Any) -> np.ndarray | None:
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
    pair, expected = pair_of(got), pair_of(want)
    if pair is None:
        return [t("not_a_pair", label="fit", what="(train_losses, test_losses)",
                  got=kind_of(got))]
    problems = []
    for index in which:
        name = t("label_train_losses") if index == 0 else t("label_test_losses")
        named = label(name) if label else name
        have = loss_list(pair[index])
        if have is None:
            return [t("wrong_type", label=named, expected=t("expected_float_list"),
                      got=kind_of(pair[index]))]
        if have.shape != (len(expected[index]),):
            return [t("wrong_length", label=named, expected=len(expected[index]),
                      got=have.size)]
        problems += compare(named, have, list(expected[index]), RTOL_FIT)
    return problems


def fit_train_losses(ctx):
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (0,))
    return failed(*problems) if problems else passed()


def fit_test_losses(ctx):
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (1,))
    return failed(*problems) if problems else passed()


def fit_weights(ctx):
    problems = compare_named(ctx.out["params"], ctx.ref["params"], RTOL_FIT,
                             t("when_after_fit"))
    return failed(*problems) if problems else passed()


def fit_arguments(ctx):
    rate, epochs = float(ctx.inputs["fit_other"][0]), int(ctx.inputs["fit_other"][1])

    def label(name):
        return t("label_other_run", epochs=epochs, rate=rate, name=name)
    problems = _fit_problems(ctx.out["returned"], ctx.ref["returned"], (0, 1), label)
    problems = problems or compare_named(ctx.out["params"], ctx.ref["params"], RTOL_FIT,
                                         label(t("when_after_fit")))
    return failed(*problems) if problems else passed()


def fit_losses_are_floats(ctx):
    pair = pair_of(ctx.out["returned"])
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
    pair, expected = pair_of(got), pair_of(want)
    if pair is None:
        return [t("not_a_pair", label=label, what="(w, losses)", got=kind_of(got))]
    problems = compare(f"{label}: w", pair[0], expected[0], RTOL_GD)
    losses = loss_list(pair[1])
    if losses is None:
        return problems + [t("wrong_type", label=f"{label}: losses",
                             expected=t("expected_float_list"), got=kind_of(pair[1]))]
    if losses.shape != (len(expected[1]),):
        return problems + [t("wrong_length", label=f"{label}: losses",
                             expected=len(expected[1]), got=losses.size)]
    return problems + compare(f"{label}: losses", losses, list(expected[1]), RTOL_GD)


def descent_default(ctx):
    problems = _descent_problems(ctx.out["returned"], ctx.ref["returned"],
                                 "manual_gradient_descent(x, y)")
    return failed(*problems) if problems else passed()


def descent_arguments(ctx):
    rate, steps = float(ctx.inputs["gd_other"][0]), int(ctx.inputs["gd_other"][1])
    problems = _descent_problems(
        ctx.out["returned"], ctx.ref["returned"],
        f"manual_gradient_descent(x, y, learning_rate={rate:.4g}, steps={steps})")
    return failed(*problems) if problems else passed()


def descent_types(ctx):
    pair = pair_of(ctx.out["returned"])
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
