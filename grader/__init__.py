"""torchkit's grader: judges PyTorch exercises against the reference, safely and kindly."""

import os

import pluggy

# One BLAS thread per process, as the workers' torch.set_num_threads(1): the grader runs a
# worker per core, and OpenBLAS threads spinning against each other made NumPy code twenty
# times slower on a busy machine (the tutorial's 500 steps: 26 s instead of 1 s). Set
# before anything imports NumPy; the workers inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

#: Marker for hook implementations: ``@grader.hookimpl def grader_exercises(): ...``
hookimpl = pluggy.HookimplMarker("grader")

__all__ = ["hookimpl", "__version__"]
