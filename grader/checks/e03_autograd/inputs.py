"""Grader: e03's seeded data (two_layer.inputs.training_inputs), NumPy only.

Also read by the probes (worker): the short run's LEARNING_RATE, STEPS and OTHER_LEARNING_RATE.
"""

from __future__ import annotations

import functools

import numpy as np

from grader.checks.two_layer.inputs import fresh, training_inputs

# On this float32 data each step changes the loss by 5% or more (the first by about half),
# so a shifted, accumulated or missing update shows; a second run at another rate tells
# whether learning_rate is used at all.
LEARNING_RATE, STEPS = 3e-3, 8
OTHER_LEARNING_RATE = 1e-3


@functools.lru_cache(maxsize=4)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    return training_inputs(seed, LEARNING_RATE, STEPS)


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return fresh(_inputs(seed))
