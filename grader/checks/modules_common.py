"""Shared by the nn.Module exercises (e05, e06): weights, probes, the judge's own numpy model.

Probes here run in the worker and import torch lazily (the grader's own
process never imports torch). The judge recomputes every expected value in
NumPy (float64) from the seeded weights, so a correct answer never depends on
how the student built or ordered the layers: the weights are loaded with
`load_state_dict`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from grader.codec import TensorData
from grader.i18n import Text, t
from grader.judging import as_array, compare

#: rtol for module outputs and gradients (judging.compare's units: an element may be off
#: by rtol * (its size + 5% of the largest)). Measured against the judge's float64 model,
#: 40 seeds, small and large probes, e05 and e06 at depths 0..3, forward and every
#: gradient: float32 nn.Linear / F.linear 8.6e-6, addmm 8.6e-6, einsum 7.7e-6, float64
#: inside 1.7e-6 (the large inputs keep every ReLU input KINK_MARGIN away from 0).
#: About 6x the worst of those; half precision (~1e-3) fails.
MODULE_RTOL = 5e-5


# ------------------------------------------------------------------ data

#: Prefix of the large probes' inputs (the tutorial's sizes or larger).
LARGE = "large_"


def _not_a_power_of_two(rng: np.random.Generator, low: int, high: int) -> int:
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1):
            return value


def large_sizes(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(N, D_in, H, D_out) at the tutorial's sizes (64, 1000, 100, 10) or larger, none a
    power of two: rows beyond any batch size a student might split by."""
    return (_not_a_power_of_two(rng, 65, 140), _not_a_power_of_two(rng, 1000, 1100),
            _not_a_power_of_two(rng, 100, 130), _not_a_power_of_two(rng, 10, 15))


#: No ReLU input of a large probe lies within this of 0. float32 arithmetic moves the
#: inputs of the ReLUs by up to 6e-6 at the large sizes (measured: 12 seeds, depths
#: 0..3); one that crossed 0 would change a gradient far beyond any tolerance.
KINK_MARGIN = 3e-5


def clear_of_kinks(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
                   weights: Mapping[str, np.ndarray], margin: float = KINK_MARGIN) -> bool:
    """Whether every ReLU along `steps` gets inputs at least `margin` away from 0."""
    a = np.asarray(x, dtype=np.float64)
    for name, act in steps:
        z = a @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        if act == "relu" and np.min(np.abs(z)) < margin:
            return False
        a = np.maximum(z, 0) if act == "relu" else z
    return True


def prefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {prefix + key: value for key, value in arrays.items()}


def sizes_of(inputs: Mapping[str, np.ndarray], prefix: str, first: str, last: str
             ) -> dict[str, int]:
    """n, d_in, h, d_out of the inputs under `prefix` (from x and the first and last layer)."""
    h, d_in = inputs[f"{prefix}{first}.weight"].shape
    return {"n": int(inputs[prefix + "x"].shape[0]), "d_in": int(d_in), "h": int(h),
            "d_out": int(inputs[f"{prefix}{last}.weight"].shape[0])}


def linear_weights(rng: np.random.Generator, layers: Sequence[tuple[str, int, int]],
                   gain: float = 1.0) -> dict[str, np.ndarray]:
    """State-dict arrays for nn.Linear layers given as (name, in_features, out_features)."""
    arrays: dict[str, np.ndarray] = {}
    for name, fan_in, fan_out in layers:
        arrays[f"{name}.weight"] = rng.standard_normal((fan_out, fan_in)) * gain / np.sqrt(fan_in)
        arrays[f"{name}.bias"] = rng.standard_normal(fan_out) * 0.5
    return arrays


# ------------------------------------------------------------------ the judge's numpy model

def chain(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
          weights: Mapping[str, np.ndarray], upstream: np.ndarray | None = None
          ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Apply linear layers `name` (each followed by `act`: "relu", "sigmoid" or None) to x.

    Returns the output and, when `upstream` is given, the gradient of
    sum(output * upstream) for every weight used (shared layers add up).
    """
    steps = list(steps)
    a = np.asarray(x, dtype=np.float64)
    tape = []
    for name, act in steps:
        w, b = weights[f"{name}.weight"], weights[f"{name}.bias"]
        z = a @ w.T + b
        out = np.maximum(z, 0) if act == "relu" else (
            1 / (1 + np.exp(-z)) if act == "sigmoid" else z)
        tape.append((name, act, a, z, out))
        a = out
    grads: dict[str, np.ndarray] = {}
    if upstream is None:
        return a, grads
    grad = np.asarray(upstream, dtype=np.float64)
    for name, act, a_in, z, out in reversed(tape):
        if act == "relu":
            grad = grad * (z > 0)
        elif act == "sigmoid":
            grad = grad * out * (1 - out)
        for suffix, value in (("weight", grad.T @ a_in), ("bias", grad.sum(axis=0))):
            key = f"{name}.{suffix}"
            grads[key] = grads.get(key, 0) + value
        grad = grad @ weights[f"{name}.weight"]
    return a, grads


# ------------------------------------------------------------------ probes (worker)

def tensors(arrays: Mapping[str, np.ndarray], dtype: str = "float32") -> dict[str, Any]:
    import torch

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
    import torch
    from torch.nn.parameter import is_lazy

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


# ------------------------------------------------------------------ judges

def structure_problems(info: Any, expected: Mapping[str, tuple[int, ...]], modules: str,
                       sizes: str, example: str) -> tuple[list[Text], list[Text]]:
    """(registration problems, shape problems) of a `describe_parameters` result."""
    if not isinstance(info, dict) or not isinstance(info.get("state"), dict):
        return [t("not_constructible", cls="model", args="", got=str(info))], []
    state, count = info["state"], info.get("count", 0)
    registration: list[Text] = []
    if count == 0:
        registration.append(t("no_parameters", example=example))
    missing = [k for k in expected if k not in state]
    if missing and count:
        if missing_only_biases(info, expected):
            registration.append(t("missing_biases", keys=", ".join(missing)))
        else:
            registration.append(t("missing_keys", keys=", ".join(missing), modules=modules))
    # a parameter is extra when none of its names is an expected one (aliases are fine)
    aliases = info.get("params") or [[name] for name in info.get("named", [])]
    extra = [str(names[0]) for names in aliases
             if isinstance(names, list) and names and not any(n in expected for n in names)]
    if extra:
        registration.append(t("extra_parameters", keys=", ".join(extra), modules=modules))
    elif count != len(expected) and not registration:
        registration.append(t("parameter_count", got=count, expected=len(expected),
                              modules=modules))
    shapes: list[Text] = []
    for key, shape in expected.items():
        got = state.get(key)
        if isinstance(got, list) and tuple(got) != tuple(shape):
            shapes.append(t("wrong_param_shape", param=key, got=tuple(got), expected=tuple(shape),
                            sizes=sizes))
    if missing:
        shapes.append(t("load_missing", keys=", ".join(missing)))
    return registration, shapes


def load_problems(load: Any) -> list[Text]:
    """Why the grader's weights did not go into the model (empty when they did)."""
    if not isinstance(load, dict):
        return [t("load_failed", detail=str(load))]
    if load.get("error"):
        return [t("load_failed", detail=load["error"])]
    if load.get("unexpected"):
        return [t("load_missing", keys=", ".join(load["unexpected"]))]
    return []


def load_misconception(load: Any) -> str | None:
    """The likely cause when the grader's weights did not go in: a missing bias, sizes."""
    if not isinstance(load, dict):
        return None
    unexpected = [str(k) for k in load.get("unexpected") or []]
    if unexpected and all(k.endswith(".bias") for k in unexpected) and not any(
            k[:-len("bias")] + "weight" in unexpected for k in unexpected):
        return "bias_missing"
    if "size mismatch" in str(load.get("error")):
        return "swapped_sizes"
    return None


def missing_only_biases(info: Any, expected: Mapping[str, Any]) -> bool:
    """Whether a `describe_parameters` result lacks some biases and nothing else."""
    state = info.get("state") if isinstance(info, dict) else None
    if not isinstance(state, dict):
        return False
    missing = [k for k in expected if k not in state]
    return bool(missing) and all(k.endswith(".bias") and k[:-4] + "weight" in state
                                 for k in missing)


def matches_many(stack: Any, expected: np.ndarray, rtol: float = MODULE_RTOL) -> np.ndarray:
    """For each output in a stacked (calls, *shape) array: does it match `expected`?

    The same tolerance as `compare` (so the same verdict as `matches`), vectorised.
    """
    from grader.judging import tolerance

    have = as_array(stack)
    want = np.asarray(expected, dtype=np.float64)
    if have is None or have.ndim != want.ndim + 1 or have.shape[1:] != want.shape:
        return np.zeros(0 if have is None or have.ndim == 0 else len(have), dtype=bool)
    axes = tuple(range(1, have.ndim))
    finite = np.all(np.isfinite(have), axis=axes)
    with np.errstate(invalid="ignore"):
        within = np.all(np.abs(have - want) <= tolerance(want, rtol), axis=axes)
    return finite & within


def rows_hint(got: Any, expected: np.ndarray) -> list[Text]:
    """The large probes' hint when an output's shape is not the expected one."""
    have = as_array(got)
    if have is not None and have.shape != expected.shape:
        return [t("large_rows")]
    return []


def output_problems(label: str, got: Any, expected: np.ndarray) -> list[Text]:
    if not isinstance(got, TensorData):
        return [t("output_not_tensor", shape=tuple(expected.shape), got=_kind(got))]
    return compare(label, got, expected, MODULE_RTOL)


def matches(got: Any, expected: np.ndarray) -> bool:
    have = as_array(got)
    return have is not None and not compare("", have, expected, MODULE_RTOL)


def missing_grads(grads: Any, keys: Iterable[str]) -> list[str]:
    """Parameters whose gradient is None or all zero."""
    grads = grads if isinstance(grads, dict) else {}
    absent = []
    for key in keys:
        value = as_array(grads.get(key))
        if value is None or not np.any(value):
            absent.append(key)
    return absent


def _kind(value: Any) -> str:
    from grader.judging import kind_of
    return kind_of(value)
