"""e07's inputs (grader process): make_inputs(seed), NumPy only; also the large data,
which the probes draw themselves in the worker (`draw_large_inputs`), and the arguments
every probe's run of train is given.
"""

from __future__ import annotations

import numpy as np

from grader.checks.training.inputs import make_data

# Small probes: each step changes the loss by 2.5% or more, and momentum changes the path
# from step 3 on: a shifted, accumulated or momentum-less trajectory is far outside the
# tolerance.
LEARNING_RATE, STEPS, MOMENTUM = 3e-3, 8, 0.9
#: The defaults the contract fixes: train(model, x, y, *, steps=500, learning_rate=1e-4,
#: momentum=0.0).
DEFAULTS = {"steps": 500, "learning_rate": 1e-4, "momentum": 0.0}
LARGE_STEPS, LARGE_LEARNING_RATE, LARGE_MOMENTUM = 3, 3e-5, 0.5


def _sizes(rng: np.random.Generator, *ranges: tuple[int, int]) -> list[int]:
    return [int(rng.integers(low, high + 1)) for low, high in ranges]


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """Small data and weights (unprefixed), and the defaults run's ("long."); the large
    data are drawn in the probes that need them (`draw_large_inputs`)."""
    rng = np.random.default_rng([seed, 7])
    n, d_in, h, d_out = _sizes(rng, (12, 24), (4, 8), (6, 10), (2, 4))
    data = make_data(seed, n, d_in, h, d_out)
    n, d_in, h, d_out = _sizes(rng, (40, 63), (6, 10), (12, 20), (3, 5))
    long = make_data(int(rng.integers(2**31)), n, d_in, h, d_out)
    # inputs whose scales span a factor 10: fast and slow directions, so that the loss
    # still falls late in the run (by 2-10% over the last 100 steps, measured on 60 seeds)
    long["x"] = long["x"] * rng.permutation(np.geomspace(0.3, 3.0, d_in))
    data.update({"long." + key: value for key, value in long.items()})
    data["seed"] = np.array(seed)
    return data


def draw_large_inputs(seed: int) -> dict[str, np.ndarray]:
    """The tutorial's sizes or larger, N beyond 64 (drawn in the worker, by the probes that
    need them: the grader never draws them)."""
    rng = np.random.default_rng([seed, 7, 2])
    n, d_in, h, d_out = _sizes(rng, (65, 127), (1000, 1040), (100, 110), (10, 12))
    data = {"x": rng.standard_normal((n, d_in), dtype=np.float32),
            "y": rng.standard_normal((n, d_out), dtype=np.float32)}
    for prefix in ("", "other_"):
        data[prefix + "linear1.weight"] = \
            rng.standard_normal((h, d_in), dtype=np.float32) / np.float32(np.sqrt(d_in))
        data[prefix + "linear1.bias"] = rng.standard_normal(h, dtype=np.float32) * 0.1
        data[prefix + "linear2.weight"] = \
            rng.standard_normal((d_out, h), dtype=np.float32) / np.float32(np.sqrt(h))
        data[prefix + "linear2.bias"] = rng.standard_normal(d_out, dtype=np.float32) * 0.1
    return data

