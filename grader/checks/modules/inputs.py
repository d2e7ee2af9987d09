"""Grader: the nn.Module exercises' seeded data (weights, large sizes), NumPy only.

Also read by the probes (worker) for the inputs' layout: `LARGE` and `sizes_of`.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

#: Prefix of the large probes' inputs (the tutorial's sizes or larger).
LARGE = "large_"


def _not_a_power_of_two(rng: np.random.Generator, low: int, high: int) -> int:
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1):
            return value


def large_sizes(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(N, D_in, H, D_out) at the tutorial's sizes (64, 1000, 100, 10) or larger, none a
    power of two: rows beyond any batch size a student might split by."""
    return (_not_a_power_of_two(rng, 65, 140), _not_a_power_of_two(rng, 1000, 1100),
            _not_a_power_of_two(rng, 100, 130), _not_a_power_of_two(rng, 10, 15))


#: No ReLU input of a large probe lies within this of 0. float32 arithmetic moves the
#: inputs of the ReLUs by up to 6e-6 at the large sizes (measured: 12 seeds, depths
#: 0..3; 8.8e-6 over 20 seeds with the inputs scaled by LARGE_X_SCALE); one that crossed
#: 0 would change a gradient far beyond any tolerance.
KINK_MARGIN = 3e-5

#: The large probes' x is drawn at this scale, so that every ReLU gets inputs well beyond
#: 6 (the largest is about 12): at scale 1 the largest ReLU input of the large probe was
#: 5.2-6.6, so a ReLU6 (or a clamp at 5) passed on a third of the seeds (red team).
LARGE_X_SCALE = 2.0
#: Every ReLU of a large probe gets some input at least this large (`reaches`).
RELU6_LEVEL = 7.0


def clear_of_kinks(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
                   weights: Mapping[str, np.ndarray], margin: float = KINK_MARGIN) -> bool:
    """Whether every ReLU along `steps` gets inputs at least `margin` away from 0."""
    a = np.asarray(x, dtype=np.float64)
    for name, act in steps:
        z = a @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        if act == "relu" and np.min(np.abs(z)) < margin:
            return False
        a = np.maximum(z, 0) if act == "relu" else z
    return True


def reaches(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
            weights: Mapping[str, np.ndarray], level: float = RELU6_LEVEL) -> bool:
    """Whether every ReLU along `steps` gets some input of at least `level` (so that a
    ReLU capped at 6, ReLU6, gives another output)."""
    a = np.asarray(x, dtype=np.float64)
    for name, act in steps:
        z = a @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        if act == "relu" and np.max(z) < level:
            return False
        a = np.maximum(z, 0) if act == "relu" else z
    return True


def prefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {prefix + key: value for key, value in arrays.items()}


def sizes_of(inputs: Mapping[str, np.ndarray], prefix: str, first: str, last: str
             ) -> dict[str, int]:
    """n, d_in, h, d_out of the inputs under `prefix` (from x and the first and last layer)."""
    h, d_in = inputs[f"{prefix}{first}.weight"].shape
    return {"n": int(inputs[prefix + "x"].shape[0]), "d_in": int(d_in), "h": int(h),
            "d_out": int(inputs[f"{prefix}{last}.weight"].shape[0])}


def linear_weights(rng: np.random.Generator, layers: Sequence[tuple[str, int, int]],
                   gain: float = 1.0) -> dict[str, np.ndarray]:
    """State-dict arrays for nn.Linear layers given as (name, in_features, out_features)."""
    arrays: dict[str, np.ndarray] = {}
    for name, fan_in, fan_out in layers:
        arrays[f"{name}.weight"] = rng.standard_normal((fan_out, fan_in)) * gain / np.sqrt(fan_in)
        arrays[f"{name}.bias"] = rng.standard_normal(fan_out) * 0.5
    return arrays
