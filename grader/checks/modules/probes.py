"""Worker: what the nn.Module exercises' probes do with a student's model (e05, e06).

Describe what a model registered, load the grader's weights into it, read its
gradients. A model that is, or holds, a class of the grader's check code earns nothing.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import torch
from torch.nn.parameter import is_lazy


def tensors(arrays: Mapping[str, np.ndarray], dtype: str = "float32") -> dict[str, Any]:
    return {k: torch.tensor(np.asarray(v), dtype=getattr(torch, dtype)) for k, v in arrays.items()}


def describe_parameters(model: Any, sample: Any = None) -> dict[str, Any]:
    """What a model registered: its state_dict's shapes and its parameters.

    A parameter reachable under several names (a layer assigned as an attribute
    and also held in an nn.Sequential, a ModuleList or a ModuleDict) is one
    parameter: "params" lists every name of each, and "named" the first one.
    Lazy layers (nn.LazyLinear) are materialised by one forward pass on `sample`
    first, so that their shapes are the student's own.
    """
    taken = _grader_made(model)
    if taken:  # no state to describe: the structure checks fail with this as the reason
        return f"the grader's own {taken}, not your code: no credit"  # type: ignore[return-value]
    if sample is not None and any(is_lazy(p) for p in model.parameters()):
        try:
            with torch.no_grad():
                model(sample)
        except Exception:  # noqa: BLE001 - the forward checks report a broken forward
            pass
    state = {}
    for key, value in model.state_dict().items():
        try:
            state[str(key)] = None if is_lazy(value) else list(value.shape)
        except Exception:  # noqa: BLE001 - an odd buffer
            state[str(key)] = None
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(str(name))
    params = list(names.values())
    return {"state": state, "params": params, "named": [n[0] for n in params],
            "count": len(params)}


def _grader_made(model: Any) -> str | None:
    """The name of a class of the grader's check code that the student's model is, or
    holds as a submodule (a notebook's worker keeps e07's reference models for e07's
    probes: `TwoLayerNet = <the grader's>` earns nothing); None when none."""
    try:
        parts = [model, *model.modules()]
    except Exception:  # noqa: BLE001 - not a module: the other checks say so
        parts = [model]
    for part in parts:
        for cls in type(part).__mro__:
            if str(getattr(cls, "__module__", "")).startswith("grader.checks"):
                return cls.__name__
    return None


def load_weights(model: Any, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Load the grader's weights (not strictly); say what could not be loaded."""
    taken = _grader_made(model)
    if taken:
        return {"error": f"the model is (or holds) the grader's own {taken}, not your code: "
                         "no credit", "missing": [], "unexpected": []}
    try:
        result = model.load_state_dict(tensors(arrays), strict=False)
    except Exception as exc:  # noqa: BLE001 - shape mismatches are a verdict, not a crash
        return {"error": " ".join(str(exc).split())[:400], "missing": [], "unexpected": []}
    return {"error": None, "missing": [str(k) for k in result.missing_keys],
            "unexpected": [str(k) for k in result.unexpected_keys]}


def gradients(model: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The .grad of the named parameters (None where there is none)."""
    params = dict(model.named_parameters(remove_duplicate=False))  # aliases too
    found = {}
    for key in keys:
        param = params.get(key)
        grad = getattr(param, "grad", None)
        found[key] = grad.detach().clone() if grad is not None else None
    return found
