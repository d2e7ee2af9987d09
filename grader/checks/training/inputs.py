"""The e07/e08 probes' data (grader process): x, y and two sets of layer weights, drawn
from a seed. NumPy only.
"""

from __future__ import annotations

import numpy as np

#: The reference model's parameters, as nn.Linear names them (weight is (out, in)).
PARAMS = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")


def make_data(seed: int, n: int, d_in: int, h: int, d_out: int) -> dict[str, np.ndarray]:
    """x, y, and two sets of layer weights (nn.Linear layout: weight is (out, in))."""
    rng = np.random.default_rng(seed)
    data = {"x": rng.standard_normal((n, d_in)), "y": rng.standard_normal((n, d_out))}
    for prefix in ("", "other_"):
        data[prefix + "linear1.weight"] = rng.standard_normal((h, d_in)) / np.sqrt(d_in)
        data[prefix + "linear1.bias"] = rng.standard_normal(h) * 0.1
        data[prefix + "linear2.weight"] = rng.standard_normal((d_out, h)) / np.sqrt(h)
        data[prefix + "linear2.bias"] = rng.standard_normal(d_out) * 0.1
    return data
