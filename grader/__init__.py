"""torchkit's grader: judges PyTorch exercises against the reference, safely and kindly."""

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations: ``@grader.hookimpl def grader_exercises(): ...``
hookimpl = pluggy.HookimplMarker("grader")

__all__ = ["hookimpl", "__version__"]
