"""e09's inputs (grader process): make_inputs(seed), NumPy only, and the contract's
defaults that the inputs, the judges and the mutants share.
"""

from __future__ import annotations

import numpy as np

RESIDUAL_MARGIN = 2e-5   # float32 drift along 180 steps is about 1e-6
#: Along both reference fits the line must cross the training data: residuals of both
#: signs (each on MIXED_SHARE of the rows or more) in MIXED_EPOCHS epochs or more. A line
#: that stays on one side of every point makes the L1 loss the mean residual, and then
#: |mean| for mean |.|, or an (N,) prediction broadcast against (N, 1) targets, give the
#: very same run (a third of the seeds did, red team).
MIXED_SHARE, MIXED_EPOCHS = 0.1, 20
DEFAULT_EPOCHS, DEFAULT_FIT_LR = 100, 0.01
DEFAULT_STEPS, DEFAULT_GD_LR = 20, 0.01
DEFAULT_LINE = {"weight": 0.7, "bias": 0.3, "start": 0.0, "end": 1.0, "step": 0.02}
FIT_DATA = ("X_train", "y_train", "X_test", "y_test")


def _between_grid_points(rng, start: float, step: float, count: int) -> float:
    """An `end` that gives `count` points, a quarter of a step or more from the next one."""
    return start + step * (count - 1 + rng.uniform(0.25, 0.75))


def _split_size(rng, low: int, high: int, fraction: float) -> int:
    """A length N whose fraction * N is at least 0.5 past an integer and 0.05 short of the
    next (int, round and ceil all differ; no float rounding can flip int())."""
    while True:
        n = int(rng.integers(low, high))
        if 0.5 <= (fraction * n) % 1 <= 0.95:
            return n


def _l1_run(X, y, w: float, b: float, learning_rate: float, epochs: int) -> tuple[float, int]:
    """Along the reference's fit (float64): the smallest |residual| on the training rows,
    and in how many epochs the residuals have both signs, each on MIXED_SHARE of the rows
    or more."""
    smallest, mixed = np.inf, 0
    for _ in range(epochs):
        residual = w * X + b - y
        smallest = min(smallest, float(np.min(np.abs(residual))))
        if min(np.sum(residual > 0), np.sum(residual < 0)) >= MIXED_SHARE * len(residual):
            mixed += 1
        sign = np.sign(residual)
        w, b = w - learning_rate * float(np.mean(sign * X)), b - learning_rate * float(np.mean(sign))
    return smallest, mixed


def _l1_margin(X, y, w: float, b: float, learning_rate: float, epochs: int) -> float:
    """The smallest |residual| on the training rows along the reference's fit (float64)."""
    return _l1_run(X, y, w, b, learning_rate, epochs)[0]


def _fit_data(rng) -> dict[str, np.ndarray]:
    while True:
        n = int(rng.integers(50, 126))
        low = rng.uniform(-1.0, 0.5)
        X = np.sort(rng.uniform(low, low + rng.uniform(1.0, 2.0), n))[:, None]
        y = rng.uniform(-2, 2) * X + rng.uniform(-1, 1) + rng.normal(0, 0.05, (n, 1))
        cut = int(0.8 * n)
        init = rng.standard_normal(2)
        other = np.array([rng.uniform(0.003, 0.03), int(rng.integers(120, 181))])
        runs = (_l1_run(X[:cut], y[:cut], *init, DEFAULT_FIT_LR, DEFAULT_EPOCHS),
                _l1_run(X[:cut], y[:cut], *init, other[0], int(other[1])))
        if all(margin > RESIDUAL_MARGIN and mixed >= MIXED_EPOCHS for margin, mixed in runs):
            return {"X_train": X[:cut], "y_train": y[:cut], "X_test": X[cut:],
                    "y_test": y[cut:], "fit_init": init, "fit_other": other}


def _gd_data(rng, learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y with 2 * learning_rate * mean(x**2) in [0.05, 0.3]: each step shrinks the
    error by 5-30%, so the losses still move at the last step."""
    n = int(rng.integers(5, 131))
    x = rng.uniform(0.5, 3.5, n) * rng.choice([-1.0, 1.0], n)
    x *= np.sqrt(rng.uniform(0.05, 0.3) / (2 * learning_rate) / np.mean(x ** 2))
    slope = rng.uniform(0.5, 3.0) * rng.choice([-1.0, 1.0])
    return x, slope * x + rng.normal(0, 0.3, n)


def _draw_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    step = rng.uniform(0.01, 0.2)
    start = rng.uniform(-2.0, 1.0)
    data = {"line": np.array([rng.uniform(-3, 3), rng.uniform(-2, 2), start,
                              _between_grid_points(rng, start, step, int(rng.integers(20, 91))),
                              step])}
    partial_count = int(rng.integers(20, 91))
    data["line_partial"] = np.array([rng.uniform(-3, 3),
                                     _between_grid_points(rng, 0.0, 0.02, partial_count)])
    n = _split_size(rng, 40, 131, 0.8)
    data["split_X"], data["split_y"] = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    fraction = rng.uniform(0.3, 0.9)
    n = _split_size(rng, 20, 131, fraction)
    data["split_fraction"] = np.array([fraction])
    data["split_X2"], data["split_y2"] = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    data["model_seed"] = rng.integers(0, 2**31 - 1, size=1)
    data["model_values"] = rng.standard_normal(2)
    data["model_x"] = rng.standard_normal((int(rng.integers(10, 71)), 1))
    data.update(_fit_data(rng))
    data["gd_x"], data["gd_y"] = _gd_data(rng, DEFAULT_GD_LR)
    other_lr = rng.uniform(0.002, 0.03)
    data["gd_other"] = np.array([other_lr, int(rng.integers(25, 81))])
    data["gd_x2"], data["gd_y2"] = _gd_data(rng, other_lr)
    return data


#: Inputs by seed: fit's data are redrawn until clear of kinks (a few ms each time), and
#: a run may ask for the same seed more than once. One seed is kept at a time.
_INPUTS: dict[int, dict[str, np.ndarray]] = {}


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """The inputs of `seed`, as fresh copies."""
    if seed not in _INPUTS:
        _INPUTS.clear()
        _INPUTS[seed] = _draw_inputs(seed)
    return {key: value.copy() for key, value in _INPUTS[seed].items()}
