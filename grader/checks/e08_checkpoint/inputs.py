"""e08's inputs (grader process): make_inputs(seed), NumPy only, and the fixed values of
the probes' runs (learning rate, momentum, steps, epoch, how the original moves on).
"""

from __future__ import annotations

import numpy as np

from grader.checks.training.inputs import PARAMS, make_data

LEARNING_RATE, MOMENTUM = 3e-3, 0.9
K = 3          # steps after the checkpoint
#: The epoch handed to save_checkpoint is drawn from the seed in this range (any int; never
#: K, to tell them apart), so that no fixed number returned by load_checkpoint passes.
EPOCHS = (10, 1000)
MOVE_ON = (-0.5, 0.25)   # after saving, every parameter p of the original becomes -0.5 p + 0.25
#: The momentum buffers are drawn at the size of a real step's gradient (|grad| is 20-50
#: here), so that a lost or rounded buffer changes the next steps clearly.
BUFFER_SCALE = 3.0


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """Sizes, data, two sets of weights (saved / fresh), the saved momentum buffers, the
    epoch to save and a tag for the checkpoint files' names (drawn last, so that the rest
    stays what it was for a seed)."""
    rng = np.random.default_rng([seed, 8])
    n, d_in, h, d_out = (int(rng.integers(12, 25)), int(rng.integers(4, 9)),
                         int(rng.integers(6, 11)), int(rng.integers(2, 5)))
    data = make_data(seed, n, d_in, h, d_out)
    for name in PARAMS:
        data["momentum." + name] = rng.standard_normal(data[name].shape) * BUFFER_SCALE
    data["epoch"] = np.array(int(rng.integers(*EPOCHS)))
    # the files' names: a save_checkpoint that ignores its path and writes "checkpoint.pt"
    # (or any fixed name) must not find the grader reading that very file
    data["file_tag"] = np.array(int(rng.integers(10**8, 10**9)))
    return data
