"""Grader: e04's seeded inputs (NumPy only), and what of them the probes and judges share."""

from __future__ import annotations

import numpy as np

ROWS, COLS = 6, 5
LARGE_CASES = ("float32", "float64")   # the large probe's two inputs, by dtype


def _not_a_power_of_two(rng, low, high, odd=False):
    """An integer in [low, high] that is no power of two (and odd when asked)."""
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1) and (value % 2 or not odd):
            return value


def _large_input(rng, rows, cols):
    """Normal values scaled by 2..8, with exact zeros and values just beside 0 (1e-12 to
    1e-2: a threshold of 1e-8 in place of 0 showed no more than 0 did from 1e-6 up, red
    team round 4)."""
    x = rng.standard_normal((rows, cols)) * rng.uniform(2.0, 8.0)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, 60, replace=False)
    flat[picks[:20]] = 0.0
    flat[picks[20:]] = rng.choice([-1.0, 1.0], 40) * 10.0 ** rng.uniform(-12, -2, 40)
    return x


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """`x` has exact zeros and values well away from 0; `x_far` has no value near 0;
    `large_*` are the large probe's inputs (see the probe plan in the package's docstring)."""
    rng = np.random.default_rng(seed)

    def away_from_zero(shape):
        magnitude = rng.uniform(0.2, 2.0, shape)
        return magnitude * rng.choice([-1.0, 1.0], shape)

    x = away_from_zero((ROWS, COLS))
    x.flat[rng.choice(x.size, 4, replace=False)] = 0.0
    # both signs in every column, so a swapped or missing mask always shows
    x[0, :], x[1, :] = np.abs(x[0, :]) + 0.2, -np.abs(x[1, :]) - 0.2
    inputs = {"x": x, "x_far": away_from_zero((4, 3)),
              "grad_output": rng.uniform(0.5, 2.0, (ROWS, COLS)) * rng.choice([-1.0, 1.0],
                                                                                (ROWS, COLS))}
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 4])
    shapes = {"float32": (_not_a_power_of_two(large, 65, 140),
                          _not_a_power_of_two(large, 100, 260)),
              "float64": (_not_a_power_of_two(large, 65, 99, odd=True),
                          _not_a_power_of_two(large, 100, 160))}
    for dtype, shape in shapes.items():
        inputs[f"large_x_{dtype}"] = _large_input(large, *shape)
        inputs[f"large_upstream_{dtype}"] = large.standard_normal(shape) * large.uniform(0.5, 4)
    return inputs


def twice_upstreams(inputs):
    """The upstream gradients of MyReLU's two uses in one graph (on x and on -x)."""
    return inputs["grad_output"], np.flip(inputs["grad_output"]).copy()
