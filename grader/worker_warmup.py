"""The workers' warm start, made once in the nursery: torch imported and exercised.

Two lazy imports of torch cost as much as importing torch itself, and eager code
only ever calls trivial functions of them: every optimizer step runs
`import torch._dynamo; torch._dynamo.graph_break()`, and every backward with an
explicit gradient imports sympy through `symbolic_shapes` for `sym_eq`. In the
workers these modules are stood in for by fast eager versions of those few
functions; any other use (torch.compile, a submodule, a symbolic value) loads
the real module first, so behaviour is unchanged.
"""

from __future__ import annotations

import os
import random
import sys
import types
from typing import Any


def warm_up() -> None:
    """Import and exercise torch once in the zygote, so each worker starts warm."""
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    _defer_imports()
    # What nearly every worker needs, once; rarer imports (gradcheck's sympy) stay lazy
    # so that they run in parallel workers rather than before the first fork.
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = torch.nn.functional.mse_loss(model(torch.randn(5, 4)), torch.randn(5, 2),
                                        reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    reseed(0)  # numpy.random is imported lazily (8 ms in every worker otherwise)


def reseed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _real(name: str) -> types.ModuleType:
    import importlib

    module = sys.modules.get(name)
    if isinstance(module, _Deferred):
        del sys.modules[name]
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
    return module if module is not None else importlib.import_module(name)


class _Deferred(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


class _LoadRealParent:
    """Meta path hook: importing a submodule of a stand-in loads the real package first."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> None:
        parent = fullname.rpartition(".")[0]
        if isinstance(sys.modules.get(parent), _Deferred):
            _real(parent)
        return None


def _sym_eq(x: Any, y: Any) -> Any:
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return len(x) == len(y) and all(_sym_eq(a, b) for a, b in zip(x, y))
    if type(x) is int and type(y) is int:
        return x == y
    return _real("torch.fx.experimental.symbolic_shapes").sym_eq(x, y)


def _expect_true(a: Any, skip: int = 0) -> Any:
    if type(a) is bool:
        return a
    return _real("torch.fx.experimental.symbolic_shapes").expect_true(a, skip + 1)


def _disable(fn: Any = None, recursive: bool = True, **kwargs: Any) -> Any:
    return (lambda f: f) if fn is None else fn


STAND_INS = {
    "torch._dynamo": {"graph_break": lambda *a, **k: None, "disable": _disable},
    "torch.fx.experimental.symbolic_shapes": {"sym_eq": _sym_eq, "expect_true": _expect_true},
}


def _defer_imports() -> None:
    import importlib.util

    if os.environ.get("GRADER_NO_STAND_INS"):
        return
    for name, functions in STAND_INS.items():
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__dict__.update(functions)
        if spec.submodule_search_locations is not None:
            stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, stand_in)
    sys.meta_path.insert(0, _LoadRealParent)
