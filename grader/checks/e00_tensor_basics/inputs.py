"""e00's inputs (grader process): make_inputs(seed), NumPy only, and how to read them.

Every input is drawn from the grader's seed; the probes and the judges read them the
same way (`normal_shape`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {
        "normal_seeds": rng.integers(0, 2**31 - 1, size=3),
        "normal_shape_0": rng.integers(3, 41, size=1),
        "normal_shape_1": rng.integers(2, 10, size=2),
        "normal_shape_2": rng.integers(2, 6, size=3),
        "global_seed": rng.integers(0, 2**31 - 1, size=1),
    }
    n, c, h, w = (int(rng.integers(3, 71)), int(rng.integers(1, 5)),
                  int(rng.integers(2, 10)), int(rng.integers(2, 10)))
    data["images"] = rng.standard_normal((n, c, h, w))
    data["images_nhwc"] = rng.standard_normal((int(rng.integers(3, 71)), h, w, c + 1))
    # channels_last: H != W, and C different from both, so a wrong axis order shows
    h2 = int(rng.integers(2, 8))
    w2 = h2 + int(rng.integers(1, 4))
    c2 = w2 + int(rng.integers(1, 3))
    data["chw"] = rng.standard_normal((int(rng.integers(2, 40)), c2, h2, w2))
    k = int(rng.integers(2, 7))
    data["columns"] = rng.standard_normal((k, k + int(rng.integers(1, 60))))
    data["rows"] = _rows(rng)
    data["t32"] = rng.standard_normal((int(rng.integers(2, 9)), int(rng.integers(2, 9))))
    data["t64"] = rng.standard_normal(int(rng.integers(3, 30)))
    data["a32"] = rng.standard_normal((int(rng.integers(2, 9)), int(rng.integers(2, 9))))
    data["a64"] = rng.standard_normal(int(rng.integers(3, 30)))
    return data


#: The smallest row sums drawn, either side of 0: a threshold of 1e-3 or more (> 0.1, say)
#: in place of > 0 drops a positive row (multiples of 1/8 alone let > 0.1 pass, red team).
TINY_SUM = 2.0 ** -10


def _rows(rng: np.random.Generator) -> np.ndarray:
    """Rows of multiples of 1/1024 (sums exact in float32, in any order): two summing to
    exactly 0, others to -1/8, -1, 1/8, 2 and +-TINY_SUM (so that a threshold other than
    0 shows, > 0.5 or > 1e-3 say), the rest (multiples of 1/8) at random, in random
    order; D != N."""
    n, d = int(rng.integers(12, 70)), int(rng.integers(3, 8))
    rows = rng.integers(-40, 41, size=(n, d)) / 8.0
    for i, total in enumerate((0.0, 0.0, -0.125, -1.0, 0.125, 2.0, TINY_SUM, -TINY_SUM)):
        rows[i, -1] += total - rows[i].sum()
    return rows[rng.permutation(n)]


def normal_shape(inputs: Mapping[str, np.ndarray], index: int) -> tuple[int, ...]:
    """The shape of seeded_normal's call number `index`."""
    return tuple(int(n) for n in inputs[f"normal_shape_{index}"])
