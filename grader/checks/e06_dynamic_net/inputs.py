"""Grader: e06's seeded inputs (NumPy only), and the sizes, layer names and probe counts
its probes and judges share.

The inputs are drawn until every depth's output is clearly apart from the others (the
judge infers each call's depth from its output), so the judge's NumPy model is used here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from grader.checks.modules.inputs import (KINK_MARGIN, LARGE, LARGE_X_SCALE, clear_of_kinks,
                                          large_sizes, linear_weights, prefixed, reaches)
from grader.checks.modules.judges import chain

N, D_IN, H, D_OUT = 5, 4, 6, 3
LAYERS = (("input_linear", D_IN, H), ("middle_linear", H, H), ("output_linear", H, D_OUT))
EXPECTED = {"input_linear.weight": (H, D_IN), "input_linear.bias": (H,),
            "middle_linear.weight": (H, H), "middle_linear.bias": (H,),
            "output_linear.weight": (D_OUT, H), "output_linear.bias": (D_OUT,)}
DEPTHS = (0, 1, 2, 3)
INSTANCES, CALLS = 6, 20     # 120 calls; a model that fixes its depth once shows per instance
DRAWS = 1600                 # forward passes of one model: the distribution of the depths
LARGE_CALLS = 3
SEPARATION = 0.05            # every two depths' outputs differ by 5% of their size or more


def steps(depth: int, middle_act: str | None = "relu"):
    return ([("input_linear", "relu")] + [("middle_linear", middle_act)] * depth
            + [("output_linear", None)])


def variants(weights, x):
    """Outputs the judge can tell apart: depth 0..5, and 1..3 without the middle ReLU."""
    found = {d: chain(x, steps(d), weights)[0] for d in range(6)}
    found.update({f"{d} without ReLU": chain(x, steps(d, None), weights)[0]
                  for d in (1, 2, 3)})
    return found


def separated(weights, x, upstream) -> bool:
    outs = list(variants(weights, x).values())
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            size = max(np.max(np.abs(a)), np.max(np.abs(b)))
            if np.max(np.abs(a - b)) < SEPARATION * size:
                return False
    for depth in DEPTHS:  # every parameter gets a gradient at every depth
        _, grads = chain(x, steps(depth), weights, upstream)
        if any(not np.all(np.any(g != 0, axis=-1)) for k, g in grads.items()
               if k.endswith("weight")):
            return False
    return True


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    # a copy of the dict (the arrays are only read): both probes of a worker use them
    return dict(_inputs(seed))


@lru_cache(maxsize=2)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    while True:  # deterministic: the first draw whose depths are clearly apart
        weights = linear_weights(rng, LAYERS, gain=1.5)
        x, upstream = rng.standard_normal((N, D_IN)), rng.standard_normal((N, D_OUT))
        if separated(weights, x, upstream) and clear_of_kinks(x, steps(3), weights):
            break
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 6])
    n, d_in, h, d_out = large_sizes(large)
    layers = (("input_linear", d_in, h), ("middle_linear", h, h), ("output_linear", h, d_out))
    while True:  # deterministic: the first draw that passes `depths_apart`
        big = {"x": large.standard_normal((n, d_in)) * LARGE_X_SCALE,
               "upstream": large.standard_normal((n, d_out)),
               **linear_weights(large, layers, gain=1.5)}
        # steps(1): the input layer's ReLU and the middle one's (at every depth from 1)
        if depths_apart(big, big["x"]) and reaches(big["x"], steps(1), big):
            break
    return {"x": x, "upstream": upstream, **weights, **prefixed(LARGE, big)}


def depth_outputs(weights, x) -> tuple[list[np.ndarray], float]:
    """The outputs of depths 0..3, and how close to 0 any ReLU input on the way comes
    (depth 3 passes every ReLU the lower depths pass). One pass through the layers: the
    first one is the costly one at the large sizes."""
    outs, h, closest = [], None, np.inf
    for name, _ in steps(3)[:-1]:
        z = (x if h is None else h) @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        closest = min(closest, float(np.min(np.abs(z))))
        h = np.maximum(z, 0)
        outs.append(h @ weights["output_linear.weight"].T + weights["output_linear.bias"])
    return outs, closest


def depths_apart(weights, x) -> bool:
    """Whether the outputs of depths 0..3 differ clearly and no ReLU input on the way
    lies within KINK_MARGIN of 0."""
    outs, closest = depth_outputs(weights, x)
    return closest >= KINK_MARGIN and all(
        np.max(np.abs(a - b)) >= SEPARATION * max(np.max(np.abs(a)), np.max(np.abs(b)))
        for i, a in enumerate(outs) for b in outs[i + 1:])


def weights_of(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    return {k: inputs[prefix + k] for k in EXPECTED}
