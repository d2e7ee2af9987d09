"""Helpers for judges: compare outputs with the reference, in the grader's own numpy.

Tolerances are scaled to the values: an element may be off by `rtol` times
its own size plus `floor` (5% by default) of the largest expected magnitude (so
float32 arithmetic inside always passes, while any real bug, typically off by 1%
or more, fails). A check may pass its own `rtol`, measured on the reference: a
small factor above how far float32-vs-float64 and other orders of the same
arithmetic move its values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.codec import Opaque, TensorData
from grader.i18n import Text, t

DEFAULT_RTOL = 1e-4
DEFAULT_FLOOR = 0.05


def as_array(value: Any) -> np.ndarray | None:
    """Values of an array, tensor, number, or list of numbers as float64; None otherwise."""
    if isinstance(value, TensorData):
        value = value.array
    if type(value) is np.ndarray:     # the usual case, first: judges call this thousands of times
        return value.astype(np.float64) if value.dtype.kind in "biuf" else None
    if isinstance(value, bool) or value is None or isinstance(value, (Opaque, str, dict)):
        return None
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, (int, float, np.generic, np.ndarray, TensorData))
                   and not isinstance(v, bool) for v in value):
            return None
        parts = [as_array(v) for v in value]
        if any(p is None for p in parts):
            return None
        try:
            return np.array(parts, dtype=np.float64)
        except ValueError:
            return None
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            return None
        return array.astype(np.float64)
    except (TypeError, ValueError):
        return None


def kind_of(value: Any) -> Text:
    """How a value is described to a student: 'a torch tensor (float32, cpu)' and so on."""
    if isinstance(value, TensorData):
        shape = "x".join(map(str, value.shape)) or "0-d"
        return t("kind_tensor", dtype=value.dtype, shape=shape, device=value.device)
    if isinstance(value, np.ndarray):
        return t("kind_ndarray", dtype=str(value.dtype), shape=tuple(value.shape))
    if isinstance(value, np.generic):
        return t("kind_npscalar", dtype=str(value.dtype))
    if isinstance(value, Opaque):   # a class's name is the submission's to choose
        name = value.type_name if len(value.type_name) <= 80 else value.type_name[:79] + "…"
        return t("kind_object", type=name)
    if value is None:
        return t("kind_none")
    if isinstance(value, tuple):
        return t("kind_tuple", size=len(value))
    if isinstance(value, list):
        return t("kind_list", size=len(value))
    return t("kind_python", type=type(value).__name__)


def is_real_number(value: Any) -> bool:
    """A Python float or int, a NumPy scalar, or a 0-d NumPy array; not a tensor, not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, np.generic):
        return value.dtype.kind in "iuf"
    if isinstance(value, np.ndarray):
        return value.shape == () and value.dtype.kind in "iuf"
    return False


def tolerance(expected: np.ndarray, rtol: float, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """How far each element may be off: rtol times its own size plus `floor` times the
    largest size (an element near 0 gets the rounding error of the large ones)."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return rtol * (np.abs(expected) + floor * scale) + 1e-9


def close(got: Any, expected: Any, rtol: float = DEFAULT_RTOL) -> bool:
    """True when `got` has the expected shape and values (within the scaled tolerance)."""
    return not compare("", got, expected, rtol)


def compare(label: str | Text, got: Any, expected: Any, rtol: float = DEFAULT_RTOL,
            floor: float = DEFAULT_FLOOR) -> list[Text]:
    """What is wrong with `got`, in plain words: type and shape first, then values."""
    want = as_array(expected)
    if want is None:
        raise TypeError(f"reference value for {label} is not numeric: {expected!r}")
    have = as_array(got)
    if have is None:
        return [t("wrong_type", label=label, expected=kind_of(expected), got=kind_of(got))]
    if have.shape != want.shape:
        lines = [t("wrong_shape", label=label, expected=tuple(want.shape), got=tuple(have.shape))]
        if have.ndim == 2 and have.shape == want.T.shape and have.shape != want.shape:
            lines.append(t("transposed", label=label))
        return lines
    if not np.isfinite(have).all():
        return [t("nonfinite", label=label)]
    with np.errstate(all="ignore"):   # a reference that overflowed (a diverging mutant)
        error = np.abs(have - want)
        excess = error - tolerance(want, rtol, floor)
    if (excess <= 0).all():
        return []
    index = np.unravel_index(int(np.argmax(excess)), want.shape) if want.shape else ()
    scale = float(np.max(np.abs(want))) or 1.0
    if index:
        lines = [t("wrong_values", label=label, err=float(error[index]),
                   rel=float(error[index]) / scale, index=tuple(int(i) for i in index),
                   got=float(have[index]), expected=float(want[index]))]
    else:
        lines = [t("wrong_value", label=label, err=float(error), got=float(have),
                   expected=float(want))]
    # "off by a constant factor" says something only of several values (one number is
    # always some factor of another), and only of a factor that is not about 1
    ratio = scalar_ratio(have, want) if want.size > 1 else None
    if ratio is not None and abs(ratio - 1.0) > 1e-2:
        lines.append(t("ratio", label=label, ratio=ratio))
    return lines


def compare_named(got: Any, want: dict[str, Any], rtol: float = DEFAULT_RTOL,
                  when: Text | None = None) -> list[Text]:
    """`compare` for each named array of `want` (a state_dict, say); `when` tells at what
    moment, e.g. t("when_after_loading"), and prefixes each label."""
    got = got if isinstance(got, dict) else {}
    problems: list[Text] = []
    for name in want:
        label: Text | str = t("label_when", when=when, name=name) if when else name
        problems += compare(label, got.get(name), want[name], rtol)
    return problems


def scalar_ratio(have: np.ndarray, want: np.ndarray, rtol: float = 1e-3) -> float | None:
    """The factor c when have == c * want everywhere (c != 0), else None."""
    denominator = float(np.vdot(want, want))
    if denominator == 0.0:
        return None
    ratio = float(np.vdot(have, want)) / denominator
    if ratio == 0.0:
        return None
    if np.all(np.abs(have - ratio * want) <= tolerance(ratio * want, rtol)):
        return ratio
    return None
