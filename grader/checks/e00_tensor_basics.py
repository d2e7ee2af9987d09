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

from typing import Any

import numpy as np

from grader import hookimpl
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


EXERCISE = Exercise(
    name="e00_tensor_basics",
    title={"en": "Tensor basics: seeds, views, shapes, indexing, NumPy",
           "ko": "텐서 기초: 시드, 뷰, 모양, 인덱싱, NumPy"},
    names=("seeded_normal", "flatten_images", "channels_last", "stack_columns",
           "positive_rows", "numpy_view", "tensor_view"),
    make_inputs=make_inputs,
    messages={
        "not_repeatable_seed": {
            "en": "seeded_normal gave other values when called again with the same seed: "
                  "seed a fresh generator on every call.",
            "ko": "같은 시드로 다시 호출했더니 seeded_normal의 값이 달랐습니다: 호출할 때마다 "
                  "새 생성기를 시드로 초기화하세요.",
        },
        "global_rng_changed": {
            "en": "After seeded_normal, the global random generator draws other numbers than "
                  "it would have: the call changed the global random state.",
            "ko": "seeded_normal을 호출한 뒤 전역 난수 생성기가 원래와 다른 수를 뽑습니다: "
                  "호출이 전역 난수 상태를 바꿨습니다.",
        },
        "flatten_copies": {
            "en": "flatten_images returned a copy of a contiguous x: writing into the result "
                  "did not change x. For a contiguous tensor the result must be a view (no "
                  "clone(), no torch.tensor(...), no numpy round trip).",
            "ko": "연속(contiguous)인 x에 대해 flatten_images가 복사본을 반환했습니다: 결과에 "
                  "쓴 값이 x에 나타나지 않았습니다. 연속 텐서라면 결과는 뷰여야 합니다 "
                  "(clone(), torch.tensor(...), NumPy 왕복 없이).",
        },
        "flatten_raised": {
            "en": "On a non-contiguous x ({case}), flatten_images raised {error}",
            "ko": "연속이 아닌 x({case})에서 flatten_images가 {error} 오류를 냈습니다",
        },
        "case_permuted": {"en": "a permuted (N, H, W, C) batch",
                          "ko": "permute한 (N, H, W, C) 배치"},
        "case_sliced": {"en": "every other row of the images, x[:, :, ::2, :]",
                        "ko": "이미지의 한 줄 건너 한 줄, x[:, :, ::2, :]"},
        "rows_wrong": {
            "en": "positive_rows kept {got} rows, expected {expected} (those whose sum is > 0).",
            "ko": "positive_rows가 {got}개 행을 남겼는데, 합이 0보다 큰 {expected}개 행이어야 "
                  "합니다.",
        },
        "not_ndarray": {
            "en": "{label} should be a NumPy array, got {got}.",
            "ko": "{label}은(는) NumPy 배열이어야 하는데 {got}이(가) 나왔습니다.",
        },
        "not_a_tensor": {
            "en": "{label} should be a torch tensor, got {got}.",
            "ko": "{label}은(는) torch 텐서여야 하는데 {got}이(가) 나왔습니다.",
        },
        "no_sharing": {
            "en": "{label}: a change in {source} did not show in {target}, so they do not "
                  "share memory.",
            "ko": "{label}: {source}의 변경이 {target}에 나타나지 않았습니다. 메모리를 공유하지 "
                  "않습니다.",
        },
        "side_tensor": {"en": "the tensor", "ko": "텐서"},
        "side_array": {"en": "the array", "ko": "배열"},
        "dtype_changed": {
            "en": "{label}: the dtype changed from {source} to {target}; a new dtype always "
                  "means new memory.",
            "ko": "{label}: dtype이 {source}에서 {target}(으)로 바뀌었습니다. dtype이 바뀌면 "
                  "언제나 새 메모리가 됩니다.",
        },
        # misconceptions
        "global_seed": {
            "en": "torch.manual_seed(seed) reseeds the ONE global generator that all of the "
                  "program's random numbers come from. Draw from a generator of your own: "
                  "g = torch.Generator().manual_seed(seed); torch.randn(shape, generator=g).",
            "ko": "torch.manual_seed(seed)는 프로그램의 모든 난수가 나오는 단 하나의 전역 "
                  "생성기를 다시 시드합니다. 자기만의 생성기에서 뽑으세요: g = torch.Generator()"
                  ".manual_seed(seed); torch.randn(shape, generator=g).",
        },
        "view_not_reshape": {
            "en": "x.view(...) only makes views, and a non-contiguous tensor (after permute, "
                  "transpose or a strided slice) cannot be viewed with merged axes. "
                  "x.reshape(...) (or x.flatten(1)) gives a view when it can and a copy when "
                  "it must.",
            "ko": "x.view(...)는 뷰만 만들 수 있는데, 연속이 아닌 텐서(permute, transpose, "
                  "간격 있는 슬라이스 후)는 축을 합친 뷰를 만들 수 없습니다. x.reshape(...)"
                  "(또는 x.flatten(1))는 가능하면 뷰를, 필요하면 복사본을 만듭니다.",
        },
        "reshape_not_permute": {
            "en": "reshape/view keep the elements in memory order and only regroup them, so "
                  "the values of one channel end up spread over pixels. Moving an axis needs "
                  "x.permute(0, 2, 3, 1).",
            "ko": "reshape/view는 원소를 메모리 순서대로 두고 묶음만 바꾸므로, 한 채널의 값이 "
                  "여러 픽셀에 흩어집니다. 축을 옮기려면 x.permute(0, 2, 3, 1)이 필요합니다.",
        },
        "transpose_not_permute": {
            "en": "x.transpose(1, 3) swaps C and W, which also swaps H and W: (N, W, H, C). "
                  "Channels last keeps H before W: x.permute(0, 2, 3, 1).",
            "ko": "x.transpose(1, 3)은 C와 W를 맞바꿔서 H와 W의 순서까지 바뀝니다: "
                  "(N, W, H, C). 채널을 마지막으로 보낼 때는 H가 W 앞에 남아야 합니다: "
                  "x.permute(0, 2, 3, 1).",
        },
        "stack_wrong_axis": {
            "en": "torch.stack(columns) stacks along a new axis 0: the columns become rows, "
                  "(K, N). Stack along axis 1: torch.stack(columns, dim=1).",
            "ko": "torch.stack(columns)는 새 축 0을 따라 쌓아서 열이 행이 됩니다: (K, N). "
                  "축 1을 따라 쌓으세요: torch.stack(columns, dim=1).",
        },
        "cat_not_stack": {
            "en": "torch.cat joins the tensors end to end along an existing axis (one long "
                  "vector); torch.stack adds a new axis: torch.stack(columns, dim=1).",
            "ko": "torch.cat은 기존 축을 따라 이어 붙여 긴 벡터 하나를 만듭니다. torch.stack은 "
                  "새 축을 추가합니다: torch.stack(columns, dim=1).",
        },
        "zero_sum_kept": {
            "en": "rows whose sum is exactly 0 are kept: the condition is sum > 0, not >= 0.",
            "ko": "합이 정확히 0인 행이 남았습니다: 조건은 >= 0이 아니라 sum > 0입니다.",
        },
        "mask_per_element": {
            "en": "x[x > 0] picks single positive ELEMENTS (a flat 1-D result); the mask must "
                  "have one value per row: x[x.sum(dim=1) > 0].",
            "ko": "x[x > 0]는 양수인 원소 하나하나를 골라 1차원 결과를 만듭니다. 마스크는 행마다 "
                  "값 하나여야 합니다: x[x.sum(dim=1) > 0].",
        },
        "numpy_copies": {
            "en": "np.array(t) (and .copy(), .tolist()) copies the data; t.numpy() gives an "
                  "array that shares the tensor's memory.",
            "ko": "np.array(t)(그리고 .copy(), .tolist())는 데이터를 복사합니다. t.numpy()는 "
                  "텐서와 메모리를 공유하는 배열을 돌려줍니다.",
        },
        "tensor_copies": {
            "en": "torch.tensor(a) always copies; torch.from_numpy(a) (or torch.as_tensor(a)) "
                  "gives a tensor that shares the array's memory.",
            "ko": "torch.tensor(a)는 언제나 복사합니다. torch.from_numpy(a)(또는 "
                  "torch.as_tensor(a))는 배열과 메모리를 공유하는 텐서를 돌려줍니다.",
        },
        "dtype_conversion_copies": {
            "en": "converting the dtype (.float(), .type(torch.float32), .to(...)) makes a "
                  "copy: a NumPy float64 array becomes a new float32 tensor that no longer "
                  "shares memory. Keep the array's dtype: torch.from_numpy(a).",
            "ko": "dtype 변환(.float(), .type(torch.float32), .to(...))은 복사본을 만듭니다: "
                  "NumPy float64 배열이 메모리를 공유하지 않는 새 float32 텐서가 됩니다. 배열의 "
                  "dtype을 그대로 두세요: torch.from_numpy(a).",
        },
    },
    hints={
        "en": ("Each function is one or two lines of torch. Ask for each: does it copy or "
               "share memory, and which axes move? A generator of your own leaves the global "
               "random state alone.",
               "seeded_normal: a torch.Generator seeded with manual_seed, passed as "
               "generator=. flatten_images: reshape (not view) keeping axis 0. channels_last: "
               "permute the axes. stack_columns: torch.stack along axis 1. positive_rows: a "
               "mask from the row sums. numpy_view / tensor_view: .numpy() and "
               "torch.from_numpy, with no dtype change."),
        "ko": ("각 함수는 torch 한두 줄입니다. 각각에 대해 물어보세요: 메모리를 복사하는가, "
               "공유하는가? 어떤 축이 움직이는가? 자기만의 생성기를 쓰면 전역 난수 상태는 그대로 "
               "남습니다.",
               "seeded_normal: manual_seed로 시드한 torch.Generator를 generator=로 넘기세요. "
               "flatten_images: 축 0을 남기고 (view가 아니라) reshape. channels_last: 축을 "
               "permute. stack_columns: 축 1을 따라 torch.stack. positive_rows: 행의 합으로 "
               "만든 마스크. numpy_view / tensor_view: .numpy()와 torch.from_numpy, dtype은 "
               "바꾸지 않기."),
    },
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
