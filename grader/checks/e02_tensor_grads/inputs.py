"""Grader: e02's seeded data (two-layer data sets and a cubic fit's points), NumPy only.

Also read by the probes (worker): POLY_ORDER and DTYPES.
"""

from __future__ import annotations

import functools

import numpy as np

from grader.checks.two_layer.inputs import LARGE, SMALL, fresh, two_layer_data

POLY_POINTS = (300, 3000)       # how many points poly_grads gets, drawn in this range
POLY_HALF_WIDTH = (1.0, 3.5)    # x uniform on [-a, a], a drawn in this range
POLY_ORDER = ("poly_x", "poly_y", "coeffs")
DTYPES = ("float32", "float64")   # poly_grads is called with both; x, y, coeffs share one


@functools.lru_cache(maxsize=4)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    data = two_layer_data((seed, 0), SMALL)
    data.update(two_layer_data((seed, 1), LARGE, prefix="large_"))
    rng = np.random.default_rng((seed, 2))
    half_width = rng.uniform(*POLY_HALF_WIDTH)
    x = rng.uniform(-half_width, half_width, int(rng.integers(*POLY_POINTS)))
    y = rng.uniform(0.5, 2.0) * np.sin(rng.uniform(0.5, 2.0) * x + rng.uniform(0, 2 * np.pi))
    y += 0.1 * rng.standard_normal(x.shape)
    data.update(poly_x=x, poly_y=y, coeffs=rng.standard_normal(4) * 0.5)
    return data


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return fresh(_inputs(seed))
