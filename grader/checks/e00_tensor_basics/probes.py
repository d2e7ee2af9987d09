"""e00's probes (the student's and the reference's workers): each calls the submitted
functions on the grader's inputs and returns what came back, as it was when returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from grader.checks.e00_tensor_basics.inputs import normal_shape

MARKER_TENSOR, MARKER_ARRAY = 1234.5, -678.25   # written through one side, read on the other


def _copy(value: Any) -> Any:
    """What a result held when it was returned (a later write through a view must not
    reach what the judge sees)."""
    if hasattr(value, "detach") and callable(value.detach):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _tensor(array: np.ndarray, dtype: str = "float32"):
    return torch.tensor(np.array(array), dtype=getattr(torch, dtype))


def normal(sub, inputs):
    seeds = [int(s) for s in inputs["normal_seeds"]]
    values = [_copy(sub.seeded_normal(seed, normal_shape(inputs, i)))
              for i, seed in enumerate(seeds)]
    again = _copy(sub.seeded_normal(seeds[0], normal_shape(inputs, 0)))
    # the first seed with another call's shape: an answer kept by seed alone shows
    reshaped = _copy(sub.seeded_normal(seeds[0], normal_shape(inputs, 1)))
    return {"values": values, "again": again, "reshaped": reshaped}


def global_state(sub, inputs):
    """The global generator's next draws after one call: an untouched generator's."""
    torch.manual_seed(int(inputs["global_seed"][0]))
    before = torch.randn(4)
    sub.seeded_normal(int(inputs["normal_seeds"][1]), normal_shape(inputs, 1))
    return {"before": before, "next": torch.randn(8)}


def flatten(sub, inputs):
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


def channels(sub, inputs):
    return {"value": _copy(sub.channels_last(_tensor(inputs["chw"])))}


def stacking(sub, inputs):
    columns = [_tensor(column) for column in inputs["columns"]]
    return {"value": _copy(sub.stack_columns(columns))}


def rows(sub, inputs):
    return {"value": _copy(sub.positive_rows(_tensor(inputs["rows"])))}


def rows_none(sub, inputs):
    x = -np.abs(np.asarray(inputs["rows"])) - 1.0          # every row sums to less than 0
    found = {"value": _copy(sub.positive_rows(_tensor(x)))}
    # one row only sums to more than 0: still (1, D) back (an index squeezed to a scalar
    # returned the row alone, shape (D,), red team round 4)
    x[len(x) // 2] = -x[len(x) // 2]
    found["one"] = _copy(sub.positive_rows(_tensor(x)))
    return found


def _first_and_last(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(0 for _ in shape), tuple(n - 1 for n in shape)


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


def to_tensor(sub, inputs):
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
