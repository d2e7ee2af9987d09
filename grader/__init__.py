"""torchkit's grader: judges PyTorch exercises against the reference, safely and kindly."""

import os
import sys

# `python -m grader` puts the folder it is started from first on sys.path, ahead of the
# standard library and site-packages: started in a course folder (or in a student's), a
# submitted `numpy.py`, or a student's folder named `numpy`, would run in the grader
# itself. Nothing the grader imports comes from there (the kit's own root aside, where
# the kit runs uninstalled). Python >= 3.11's `python -P` does the same for `-m grader`.
_KIT_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
if sys.argv[:1] == ["-m"] and sys.path and sys.path[0] in ("", os.getcwd()) \
        and os.path.realpath(os.getcwd()) != _KIT_ROOT:
    del sys.path[0]

import pluggy  # noqa: E402 - after the start folder is off sys.path

# One BLAS thread per process, as the workers' torch.set_num_threads(1): the grader runs a
# worker per core, and OpenBLAS threads spinning against each other made NumPy code twenty
# times slower on a busy machine (the tutorial's 500 steps: 26 s instead of 1 s). Set
# before anything imports NumPy; the workers inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

#: Marker for hook implementations: ``@grader.hookimpl def grader_exercises(): ...``
hookimpl = pluggy.HookimplMarker("grader")

__all__ = ["hookimpl", "__version__"]
