"""Grader: the judge's own NumPy model and the verdicts the nn.Module exercises share.

NumPy only (float64): every expected output and gradient is recomputed here from the
seeded weights, whatever the student's layers look like inside.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from grader.codec import TensorData
from grader.i18n import Text, t
from grader.judging import as_array, compare, kind_of, tolerance

#: rtol for module outputs and gradients (judging.compare's units: an element may be off
#: by rtol * (its size + 5% of the largest)). Measured against the judge's float64 model,
#: 40 seeds, small and large probes, e05 and e06 at depths 0..3, forward and every
#: gradient: float32 nn.Linear / F.linear 8.6e-6, addmm 8.6e-6, einsum 7.7e-6, float64
#: inside 1.7e-6 (the large inputs keep every ReLU input KINK_MARGIN away from 0).
#: About 6x the worst of those; half precision (~1e-3) fails.
MODULE_RTOL = 5e-5


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


# ------------------------------------------------------------------ structure and loading

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
    # a parameter is extra when none of its names is an expected one (aliases are fine)
    aliases = info.get("params") or [[name] for name in info.get("named", [])]
    extra = [str(names[0]) for names in aliases
             if isinstance(names, list) and names and not any(n in expected for n in names)]
    if missing and count == len(expected) and len(extra) == len(missing):
        # as many parameters as asked, under other names (an nn.ModuleList, say): one
        # line says so, not "lacks linear1.weight" and "has layers.0.weight" apart
        registration.append(t("renamed_parameters", got=", ".join(extra), modules=modules,
                              example=example))
        extra = []
    elif missing and count:
        if missing_only_biases(info, expected):
            registration.append(t("missing_biases", keys=", ".join(missing)))
        else:
            registration.append(t("missing_keys", keys=", ".join(missing), modules=modules))
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
    """The likely cause when the grader's weights did not go in: a missing bias, sizes,
    layers that are not registered."""
    if not isinstance(load, dict):
        return None
    unexpected = [str(k) for k in load.get("unexpected") or []]
    if unexpected and all(k.endswith(".bias") for k in unexpected) and not any(
            k[:-len("bias")] + "weight" in unexpected for k in unexpected):
        return "bias_missing"
    if "size mismatch" in str(load.get("error")):
        return "swapped_sizes"
    if unexpected and not load.get("missing"):
        # none of the model's own parameters was left out: the layers the grader's
        # weights are for are not there at all (a plain list, a layer made in forward).
        # Layers registered under other names (an nn.ModuleList) leave theirs out.
        return "layers_not_registered"
    return None


def missing_only_biases(info: Any, expected: Mapping[str, Any]) -> bool:
    """Whether a `describe_parameters` result lacks some biases and nothing else."""
    state = info.get("state") if isinstance(info, dict) else None
    if not isinstance(state, dict):
        return False
    missing = [k for k in expected if k not in state]
    return bool(missing) and all(k.endswith(".bias") and k[:-4] + "weight" in state
                                 for k in missing)


# ------------------------------------------------------------------ outputs and gradients

def matches_many(stack: Any, expected: np.ndarray, rtol: float = MODULE_RTOL) -> np.ndarray:
    """For each output in a stacked (calls, *shape) array: does it match `expected`?

    The same tolerance as `compare` (so the same verdict as `matches`), vectorised.
    """
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
        return [t("output_not_tensor", shape=tuple(expected.shape), got=kind_of(got))]
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
