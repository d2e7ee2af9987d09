"""Grader: e05's seeded inputs (NumPy only), and the sizes and layer names its probes use."""

from __future__ import annotations

import numpy as np

from grader.checks.modules.inputs import (LARGE, LARGE_X_SCALE, clear_of_kinks, large_sizes,
                                          linear_weights, prefixed, reaches)

N, D_IN, H, D_OUT = 6, 5, 7, 3     # all different, so swapped sizes always show
LAYERS = (("linear1", D_IN, H), ("linear2", H, D_OUT))
EXPECTED = {"linear1.weight": (H, D_IN), "linear1.bias": (H,),
            "linear2.weight": (D_OUT, H), "linear2.bias": (D_OUT,)}
STEPS = (("linear1", "relu"), ("linear2", None))


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    while True:  # deterministic: the first draw with no ReLU input within rounding of 0
        weights = linear_weights(rng, LAYERS, gain=1.5)
        small = {"x": rng.standard_normal((N, D_IN)),
                 "upstream": rng.standard_normal((N, D_OUT)), **weights}
        if clear_of_kinks(small["x"], STEPS, weights):
            break
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 5])
    n, d_in, h, d_out = large_sizes(large)
    while True:  # deterministic: the first draw clear of kinks whose ReLU gets inputs > 6
        big = {"x": large.standard_normal((n, d_in)) * LARGE_X_SCALE,
               "upstream": large.standard_normal((n, d_out)),
               **linear_weights(large, (("linear1", d_in, h), ("linear2", h, d_out)),
                                gain=1.5)}
        if clear_of_kinks(big["x"], STEPS, big) and reaches(big["x"], STEPS, big):
            return {**small, **prefixed(LARGE, big)}


#: After the forward probe's calls every parameter is multiplied by this in place (the
#: hidden units' signs flip: another output), and forward runs again on the same x.
REWEIGHT = -0.5


def weights_of(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    return {k: inputs[prefix + k] for k in EXPECTED}
