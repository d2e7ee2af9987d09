"""Grader: e01's own judging rule; the rest is two_layer.judges'."""

from __future__ import annotations

import numpy as np

from grader.exercise import t
from grader.judging import kind_of


def numpy_only(label: str, value) -> list:
    """`extra` for two_layer.judges.judge_grad: a right value that is not a NumPy array."""
    if isinstance(value, np.ndarray):
        return []
    return [t("not_numpy", label=label, got=kind_of(value))]
