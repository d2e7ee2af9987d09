"""Grader: the two-layer exercises' seeded data (e01-e03), NumPy only.

Also read by the probes (worker) for the data's layout: `ORDER`, `part`, `LARGE_STEPS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks.two_layer.variants import buggy_grads

#: The order of a *_two_layer_grads or *_train function's arguments, and of a data set's keys.
ORDER = ("x", "y", "w1", "w2")

#: How far from 0 every pre-activation h = x @ w1 stays, at the start and along the
#: reference's training run: float32 arithmetic (the student's or the reference's) moves h
#: by about 1e-6, and a ReLU mask flipped by rounding changes a gradient by far more than
#: the judges' tolerance. A seed whose data come closer than this draws again.
KINK_MARGIN = 1e-4


@dataclass(frozen=True)
class Sizes:
    """Where a data set's shapes are drawn from (inclusive ranges), and its weights' scale."""

    n: tuple[int, int]
    d_in: tuple[int, int]
    h: tuple[int, int]
    d_out: tuple[int, int]
    weight_scale: float = 1.0


#: Small data for the detailed, fast probes.
SMALL = Sizes(n=(10, 24), d_in=(8, 16), h=(6, 12), d_out=(2, 5), weight_scale=0.5)
#: The tutorial's sizes or larger (N=64, D_in=1000, H=100, D_out=10 there), never equal.
LARGE = Sizes(n=(67, 130), d_in=(1001, 1200), h=(101, 128), d_out=(11, 16))
#: The run with the contract's defaults (500 steps at 1e-6): more rows than 64, at a
#: scale where 1e-6 trains measurably to the last step (the loss falls to about 5% of
#: its start, still by 10-30% over the last 100 steps) and stays stable; narrow enough
#: that 500 steps cost little.
DEFAULT_RUN = Sizes(n=(67, 130), d_in=(24, 40), h=(16, 28), d_out=(3, 6))
#: Training on LARGE data: a few steps, at a rate drawn from this range (1e-6 is the edge
#: of stability at the tutorial's own sizes; more rows and inputs need less).
LARGE_LEARNING_RATE, LARGE_STEPS = (1e-7, 2e-7), 3


def _draw(rng: np.random.Generator, bounds: tuple[int, int], avoid_powers_of_two: bool) -> int:
    value = int(rng.integers(bounds[0], bounds[1] + 1))
    while avoid_powers_of_two and value & (value - 1) == 0:   # 64, 128: a batch size
        value = int(rng.integers(bounds[0], bounds[1] + 1))
    return value


def two_layer_data(seed: int | tuple[int, ...], sizes: Sizes = SMALL,
                   learning_rate: float | None = None, steps: int = 0,
                   prefix: str = "") -> dict[str, np.ndarray]:
    """Random x, y, w1, w2 (float64) of shapes drawn from `sizes`, with every h = x @ w1 at
    least KINK_MARGIN from 0, also along `steps` gradient-descent updates at `learning_rate`
    (the training probe's run), so that no correct answer's ReLU mask depends on rounding.
    Keys are prefixed with `prefix` ("large_x", ...)."""
    rng = np.random.default_rng(seed)
    while True:
        n = _draw(rng, sizes.n, avoid_powers_of_two=sizes.n[1] > 32)
        d_in, h, d_out = (_draw(rng, b, False) for b in (sizes.d_in, sizes.h, sizes.d_out))
        data = {"x": rng.standard_normal((n, d_in)), "y": rng.standard_normal((n, d_out)),
                "w1": rng.standard_normal((d_in, h)) * sizes.weight_scale,
                "w2": rng.standard_normal((h, d_out)) * sizes.weight_scale}
        if _clear_of_kinks(data, learning_rate, steps):
            return {prefix + key: value for key, value in data.items()}


def _clear_of_kinks(data: dict[str, np.ndarray], learning_rate: float | None,
                    steps: int) -> bool:
    x, y, w1, w2 = (data[k] for k in ORDER)
    for step in range(steps + 1):
        if np.min(np.abs(x @ w1)) < KINK_MARGIN:
            return False
        if step == steps or learning_rate is None:
            return True
        _, grad_w1, grad_w2 = buggy_grads(x, y, w1, w2)
        w1, w2 = w1 - learning_rate * grad_w1, w2 - learning_rate * grad_w2
    return True


MINIMUM_INPUT_SCALE = 0.1


def at_minimum(seed: int | tuple[int, ...], sizes: Sizes = SMALL) -> dict[str, np.ndarray]:
    """Random x, w1, w2 and y = relu(x @ w1) @ w2 exactly: the loss is 0, and so is every
    gradient, keys "min_x", ... An update that moves these weights adds something else."""
    data = two_layer_data(seed, sizes)
    # Small inputs: float32 rounds y_pred by about 1e-7 of its size, and that residual's
    # gradient (what a right float32 answer moves by) scales with x, while weight decay
    # does not.
    data["x"] *= MINIMUM_INPUT_SCALE
    data["y"] = np.maximum(data["x"] @ data["w1"], 0) @ data["w2"]
    return {"min_" + key: value for key, value in data.items()}


def training_inputs(seed: int, learning_rate: float, steps: int) -> dict[str, np.ndarray]:
    """Every data set of e01's and e03's probes (see their PROBE_PLAN), each drawn from its
    own stream of `seed`."""
    inputs = two_layer_data((seed, 0), SMALL, learning_rate, steps)
    large = two_layer_data((seed, 1), LARGE, LARGE_LEARNING_RATE[1], LARGE_STEPS, "large_")
    rng = np.random.default_rng((seed, 2))
    large["large_learning_rate"] = np.array(rng.uniform(*LARGE_LEARNING_RATE))
    inputs.update(large)
    inputs.update(two_layer_data((seed, 3), DEFAULT_RUN, prefix="default_"))
    inputs.update(at_minimum((seed, 4)))
    return inputs


def fresh(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A copy of cached inputs: the grader freezes the arrays it is given."""
    return {key: np.array(value) for key, value in inputs.items()}


def part(inputs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The data set stored under `prefix` ("large_"), with plain keys (x, y, w1, w2)."""
    return {key[len(prefix):]: value for key, value in inputs.items() if key.startswith(prefix)}
