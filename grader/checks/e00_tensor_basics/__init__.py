"""e00: tensor basics: a generator of one's own, views and copies, permute, stack,
boolean indexing, and memory shared with NumPy.

PROBE PLAN (every input drawn from the grader's seed; no function here has defaults):
- seeded_normal: three seeded random seeds with random 1-D, 2-D and 3-D shapes, and the
  first again (repeatable); then, in a probe of its own, draws from the global generator
  before and after a call (those after must be an untouched generator's).
- flatten_images: a contiguous (N, C, H, W) batch (N up to 70), values, and whether
  writing through the result reaches x (a view); two non-contiguous batches (the
  permuted view of an (N, H, W, C) batch, a strided slice), where `view` raises.
- channels_last: (N, C, H, W) with H != W and C apart from both, so that reshape and
  transpose(1, 3) give other shapes or other values.
- stack_columns: K seeded columns of length N != K.
- positive_rows: rows of multiples of 1/8 (exact sums) with rows summing to exactly 0,
  to just under and just over 0, and more; and a batch with no positive row at all
  ((0, D) back).
- numpy_view / tensor_view: float32 and float64, a marker written on each side.
Tolerances: every value here is a copy, a permutation or a selection of the input, or
the generator's own draws, so results are compared exactly (measured difference between
correct variants: 0).
"""

from __future__ import annotations

from pathlib import Path

from typing import Any

import numpy as np

from grader import course, hookimpl
from grader.codec import TensorData
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare, kind_of

EXACT = 0.0        # compare()'s rtol: what remains is its 1e-9 absolute floor
MARKER_TENSOR, MARKER_ARRAY = 1234.5, -678.25   # written through one side, read on the other


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {
        "normal_seeds": rng.integers(0, 2**31 - 1, size=3),
        "normal_shape_0": rng.integers(3, 41, size=1),
        "normal_shape_1": rng.integers(2, 10, size=2),
        "normal_shape_2": rng.integers(2, 6, size=3),
        "global_seed": rng.integers(0, 2**31 - 1, size=1),
    }
    n, c, h, w = (int(rng.integers(3, 71)), int(rng.integers(1, 5)),
                  int(rng.integers(2, 10)), int(rng.integers(2, 10)))
    data["images"] = rng.standard_normal((n, c, h, w))
    data["images_nhwc"] = rng.standard_normal((int(rng.integers(3, 71)), h, w, c + 1))
    # channels_last: H != W, and C different from both, so a wrong axis order shows
    h2 = int(rng.integers(2, 8))
    w2 = h2 + int(rng.integers(1, 4))
    c2 = w2 + int(rng.integers(1, 3))
    data["chw"] = rng.standard_normal((int(rng.integers(2, 40)), c2, h2, w2))
    k = int(rng.integers(2, 7))
    data["columns"] = rng.standard_normal((k, k + int(rng.integers(1, 60))))
    data["rows"] = _rows(rng)
    data["t32"] = rng.standard_normal((int(rng.integers(2, 9)), int(rng.integers(2, 9))))
    data["t64"] = rng.standard_normal(int(rng.integers(3, 30)))
    data["a32"] = rng.standard_normal((int(rng.integers(2, 9)), int(rng.integers(2, 9))))
    data["a64"] = rng.standard_normal(int(rng.integers(3, 30)))
    return data


def _rows(rng: np.random.Generator) -> np.ndarray:
    """Rows of multiples of 1/8 (sums exact in float32, in any order): two summing to
    exactly 0, others to -1/8, -1, 1/8 and 2 (so that a threshold other than 0, > 0.5
    say, shows), the rest at random, in random order; D != N."""
    n, d = int(rng.integers(12, 70)), int(rng.integers(3, 8))
    rows = rng.integers(-40, 41, size=(n, d)) / 8.0
    for i, total in enumerate((0.0, 0.0, -0.125, -1.0, 0.125, 2.0)):
        rows[i, -1] += total - rows[i].sum()
    return rows[rng.permutation(n)]


ENTRY = course.entry("e00_tensor_basics")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker side)

def _copy(value: Any) -> Any:
    """What a result held when it was returned (a later write through a view must not
    reach what the judge sees)."""
    if hasattr(value, "detach") and callable(value.detach):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _tensor(array: np.ndarray, dtype: str = "float32"):
    import torch

    return torch.tensor(np.array(array), dtype=getattr(torch, dtype))


def _shape(inputs, index: int) -> tuple[int, ...]:
    return tuple(int(n) for n in inputs[f"normal_shape_{index}"])


@EXERCISE.probe
def normal(sub, inputs):
    seeds = [int(s) for s in inputs["normal_seeds"]]
    values = [_copy(sub.seeded_normal(seed, _shape(inputs, i))) for i, seed in enumerate(seeds)]
    again = _copy(sub.seeded_normal(seeds[0], _shape(inputs, 0)))
    return {"values": values, "again": again}


@EXERCISE.probe
def global_state(sub, inputs):
    """The global generator's next draws after one call: an untouched generator's."""
    import torch

    torch.manual_seed(int(inputs["global_seed"][0]))
    before = torch.randn(4)
    sub.seeded_normal(int(inputs["normal_seeds"][1]), _shape(inputs, 1))
    return {"before": before, "next": torch.randn(8)}


@EXERCISE.probe
def flatten(sub, inputs):
    import torch

    x = _tensor(inputs["images"])
    out = sub.flatten_images(x)
    result = {"value": _copy(out), "shares": False}
    if isinstance(out, torch.Tensor) and out.numel() == x.numel() > 0:
        try:
            with torch.no_grad():
                out.zero_()
            result["shares"] = bool((x == 0).all())
        except RuntimeError:
            pass
    return result


@EXERCISE.probe
def flatten_strided(sub, inputs):
    cases = {"permuted": _tensor(inputs["images_nhwc"]).permute(0, 3, 1, 2),
             "sliced": _tensor(inputs["images"])[:, :, ::2, :]}
    found = {}
    for name, x in cases.items():
        try:
            found[name] = {"value": _copy(sub.flatten_images(x))}
        except NotImplementedError:   # a RuntimeError too: the stub's, reported as a TODO
            raise
        except RuntimeError as exc:   # what x.view(...) raises here; anything else propagates
            found[name] = {"raised": f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"}
    return found


@EXERCISE.probe
def channels(sub, inputs):
    return {"value": _copy(sub.channels_last(_tensor(inputs["chw"])))}


@EXERCISE.probe
def stacking(sub, inputs):
    columns = [_tensor(column) for column in inputs["columns"]]
    return {"value": _copy(sub.stack_columns(columns))}


@EXERCISE.probe
def rows(sub, inputs):
    return {"value": _copy(sub.positive_rows(_tensor(inputs["rows"])))}


@EXERCISE.probe
def rows_none(sub, inputs):
    x = -np.abs(np.asarray(inputs["rows"])) - 1.0          # every row sums to less than 0
    return {"value": _copy(sub.positive_rows(_tensor(x)))}


def _first_and_last(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(0 for _ in shape), tuple(n - 1 for n in shape)


@EXERCISE.probe
def to_numpy(sub, inputs):
    found = {}
    for key, dtype in (("t32", "float32"), ("t64", "float64")):
        tensor = _tensor(inputs[key], dtype)
        array = sub.numpy_view(tensor)
        entry = {"value": _copy(array), "is_ndarray": isinstance(array, np.ndarray),
                 "dtype": str(getattr(array, "dtype", "")), "from_tensor": False,
                 "to_tensor": False}
        if isinstance(array, np.ndarray) and array.shape == tuple(tensor.shape):
            first, last = _first_and_last(tuple(tensor.shape))
            tensor[last] = MARKER_TENSOR
            entry["from_tensor"] = bool(array[last] == MARKER_TENSOR)
            try:
                array[first] = MARKER_ARRAY
                entry["to_tensor"] = bool(tensor[first].item() == MARKER_ARRAY)
            except (ValueError, TypeError):   # a read-only array
                pass
        found[key] = entry
    return found


@EXERCISE.probe
def to_tensor(sub, inputs):
    import torch

    found = {}
    for key, dtype in (("a32", np.float32), ("a64", np.float64)):
        array = np.array(inputs[key], dtype=dtype)
        tensor = sub.tensor_view(array)
        entry = {"value": _copy(tensor), "is_tensor": isinstance(tensor, torch.Tensor),
                 "dtype": str(getattr(tensor, "dtype", "")).replace("torch.", ""),
                 "from_array": False, "to_array": False}
        if isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == array.shape:
            first, last = _first_and_last(array.shape)
            array[last] = MARKER_ARRAY
            entry["from_array"] = bool(tensor[last].item() == MARKER_ARRAY)
            with torch.no_grad():
                tensor[first] = MARKER_TENSOR
            entry["to_array"] = bool(array[first] == MARKER_TENSOR)
        found[key] = entry
    return found


# ------------------------------------------------------------------ judges (grader side)

def _exact(label: str, got: Any, want: Any) -> list:
    return compare(label, got, want, EXACT)


def _tensor_or_problem(label: str, value: Any) -> list:
    return [] if isinstance(value, TensorData) else [t("not_a_tensor", label=label,
                                                       got=kind_of(value))]


@EXERCISE.check(points=1.5, probe="normal")
def seeded_normal_values(ctx):
    seeds = [int(s) for s in ctx.inputs["normal_seeds"]]
    for i, (got, want) in enumerate(zip(ctx.out["values"], ctx.ref["values"])):
        label = f"seeded_normal({seeds[i]}, {_shape(ctx.inputs, i)})"
        problems = _tensor_or_problem(label, got) or _exact(label, got, want)
        if problems:
            return failed(*problems)
    if _exact("", ctx.out["again"], ctx.out["values"][0]):
        return failed(t("not_repeatable_seed"))
    return passed()


@EXERCISE.check(points=1, probe="global_state")
def seeded_normal_keeps_global_state(ctx):
    if _exact("", ctx.out["next"], ctx.ref["next"]):
        return failed(t("global_rng_changed"))
    return passed()


def _flatten_values(ctx) -> list:
    label = "flatten_images(x)"
    got = ctx.out["value"]
    return _tensor_or_problem(label, got) or _exact(label, got, ctx.ref["value"])


@EXERCISE.check(points=1, probe="flatten")
def flatten_values(ctx):
    problems = _flatten_values(ctx)
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1, probe="flatten")
def flatten_is_view(ctx):
    problems = _flatten_values(ctx)
    if problems:
        return failed(*problems)
    if ctx.out["shares"] != ctx.ref["shares"]:
        return failed(t("flatten_copies"))
    return passed()


@EXERCISE.check(points=1, probe="flatten_strided")
def flatten_non_contiguous(ctx):
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


def _value_check(ctx, label: str) -> Any:
    got = ctx.out["value"]
    problems = _tensor_or_problem(label, got) or _exact(label, got, ctx.ref["value"])
    return failed(*problems) if problems else passed()


@EXERCISE.check(points=1.5, probe="channels")
def channels_last_values(ctx):
    return _value_check(ctx, "channels_last(x)")


@EXERCISE.check(points=1, probe="stacking")
def stack_columns_values(ctx):
    return _value_check(ctx, "stack_columns(columns)")


@EXERCISE.check(points=1.5, probe="rows")
def positive_rows_values(ctx):
    got, want = as_array(ctx.out["value"]), as_array(ctx.ref["value"])
    verdict = _value_check(ctx, "positive_rows(x)")
    if not verdict.passed and got is not None and got.ndim == 2 and \
            got.shape[1:] == want.shape[1:] and got.shape[0] != want.shape[0]:
        return failed(t("rows_wrong", got=got.shape[0], expected=want.shape[0]),
                      *verdict.lines)
    return verdict


@EXERCISE.check(points=0.5, probe="rows_none")
def positive_rows_none(ctx):
    return _value_check(ctx, "positive_rows(x) (no row sums to more than 0)")


def _shares(ctx, flags: tuple[str, str], sides: tuple[str, str], label_of: str) -> Any:
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


@EXERCISE.check(points=0.5, probe="to_numpy")
def numpy_view_values(ctx):
    for key in sorted(ctx.ref):
        got = ctx.out[key]
        label = f"numpy_view(t) ({ctx.ref[key]['dtype']})"
        if not got["is_ndarray"]:
            return failed(t("not_ndarray", label=label, got=kind_of(got["value"])))
        problems = _exact(label, got["value"], ctx.ref[key]["value"])
        if problems:
            return failed(*problems)
    return passed()


@EXERCISE.check(points=1, probe="to_numpy")
def numpy_view_shares(ctx):
    return _shares(ctx, ("from_tensor", "to_tensor"), ("side_tensor", "side_array"),
                   "numpy_view(t)")


@EXERCISE.check(points=0.5, probe="to_tensor")
def tensor_view_values(ctx):
    for key in sorted(ctx.ref):
        got = ctx.out[key]
        label = f"tensor_view(a) ({ctx.ref[key]['dtype']})"
        problems = _tensor_or_problem(label, got["value"]) or \
            _exact(label, got["value"], ctx.ref[key]["value"])
        if problems:
            return failed(*problems)
    return passed()


@EXERCISE.check(points=1, probe="to_tensor")
def tensor_view_shares(ctx):
    return _shares(ctx, ("from_array", "to_array"), ("side_array", "side_tensor"),
                   "tensor_view(a)")


# ------------------------------------------------------------------ misconceptions

def _mutant(key: str, checks: tuple[str, ...], name: str, body) -> None:
    """A misconception whose mutant replaces the one-argument public function `name` by
    body(torch, argument) (torch imported in the worker only)."""
    def mutant(ref):
        import torch

        return {name: lambda value: body(torch, value)}
    EXERCISE.misconception(key, checks=checks)(mutant)


def _reshape_channels(torch, x):
    n, c, h, w = x.shape
    return x.reshape(n, h, w, c)


def _seeding_globally(ref):
    import torch

    def seeded_normal(seed, shape):
        torch.manual_seed(seed)
        return torch.randn(shape)
    return {"seeded_normal": seeded_normal}


EXERCISE.misconception("global_seed", checks=("seeded_normal_keeps_global_state",))(
    _seeding_globally)
_mutant("reshape_not_permute", ("channels_last_values",), "channels_last", _reshape_channels)
_mutant("transpose_not_permute", ("channels_last_values",), "channels_last",
        lambda torch, x: x.transpose(1, 3))
_mutant("stack_wrong_axis", ("stack_columns_values",), "stack_columns",
        lambda torch, columns: torch.stack(columns))
_mutant("cat_not_stack", ("stack_columns_values",), "stack_columns",
        lambda torch, columns: torch.cat(columns))
_mutant("zero_sum_kept", ("positive_rows_values",), "positive_rows",
        lambda torch, x: x[x.sum(dim=1) >= 0])
_mutant("mask_per_element", ("positive_rows_values",), "positive_rows",
        lambda torch, x: x[x > 0])
_mutant("numpy_copies", ("numpy_view_shares",), "numpy_view",
        lambda torch, tensor: np.array(tensor))
_mutant("dtype_conversion_copies", ("tensor_view_shares",), "tensor_view",
        lambda torch, array: torch.from_numpy(array).float())
_mutant("tensor_copies", ("tensor_view_shares",), "tensor_view",
        lambda torch, array: torch.tensor(array))


@hookimpl
def grader_exercises():
    return [EXERCISE]
