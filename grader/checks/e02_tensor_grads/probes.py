"""Worker: e02's probes, on float32 (and float64) tensor copies of the grader's data."""

from __future__ import annotations



from grader.checks.e02_tensor_grads.inputs import DTYPES, POLY_ORDER
from grader.checks.two_layer.inputs import ORDER
from grader.checks.two_layer.probes import (as_tensors, autograd_use, probe_pure_grads,
                                            snapshot)


def _fresh(inputs: dict, keys: tuple[str, ...], dtype: str = "float32") -> list:
    copy = as_tensors(inputs, dtype)
    return [copy(inputs[k]) for k in keys]


def grads(sub, inputs):
    return probe_pure_grads(sub.tensor_two_layer_grads, inputs, as_tensors(inputs))


def by_hand(sub, inputs):
    result = {"tensor_two_layer_grads": autograd_use(
        sub.tensor_two_layer_grads, lambda: _fresh(inputs, ORDER))}
    try:
        sub.poly_grads(*_fresh(inputs, POLY_ORDER))
    except Exception:  # noqa: BLE001 - a missing or failing poly_grads is its own checks' business
        return result
    result["poly_grads"] = autograd_use(sub.poly_grads, lambda: _fresh(inputs, POLY_ORDER))
    return result


def poly(sub, inputs):
    result = {}
    for dtype in DTYPES:
        args = _fresh(inputs, POLY_ORDER, dtype)
        first = snapshot(sub.poly_grads(*args), keep_graph=True)
        after = {k: snapshot(a) for k, a in zip(POLY_ORDER, args)}
        try:
            second = sub.poly_grads(*args)
        except Exception as exc:  # noqa: BLE001 - a second call that fails is not repeatable
            second = {"second_call_raised": f"{type(exc).__name__}: {str(exc)[:200]}"}
        result[dtype] = {"returned": first, "second": second, "after": after,
                         "after_all": dict(zip(POLY_ORDER, args))}
    return result
