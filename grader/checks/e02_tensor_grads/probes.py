"""Worker: e02's probes, on float32 (and float64) tensor copies of the grader's data."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.autograd.variable import Variable

from grader.checks.e02_tensor_grads.inputs import DTYPES, POLY_ORDER
from grader.checks.two_layer.inputs import ORDER
from grader.checks.two_layer.probes import as_tensors, probe_pure_grads, snapshot


def _fresh(inputs: dict, keys: tuple[str, ...], dtype: str = "float32") -> list:
    copy = as_tensors(inputs, dtype)
    return [copy(inputs[k]) for k in keys]


def grads(sub, inputs):
    return probe_pure_grads(sub.tensor_two_layer_grads, inputs, as_tensors(inputs))


class _CountingEngine:
    """Stands in for autograd's engine: counts every backward pass it runs. Every way into
    autograd (loss.backward(), torch.autograd.grad / backward, torch.func, a name imported
    before the probe started, `from torch.autograd import grad`) ends in its run_backward."""

    def __init__(self, engine: Any, calls: list) -> None:
        self._engine, self._calls = engine, calls

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        self._calls.append("run_backward")
        return self._engine.run_backward(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _forward_mode_entries() -> list[tuple[Any, str]]:
    """Where forward-mode autodiff starts (torch.func.jvp / jacfwd, forward_ad's dual_level
    and make_dual all go through torch._functorch.predispatch, whose names they look up at
    each call; torch._C's for a direct call): no backward pass runs there, so the engine
    never sees it (red team: jacfwd passed as gradients by hand)."""
    import torch._functorch.predispatch as predispatch

    entries = [(predispatch, name) for name in ("_enter_dual_level", "_enter_dual_level_impl",
                                                "_make_dual")]
    entries.append((torch._C, "_enter_dual_level"))
    return [(owner, name) for owner, name in entries if callable(getattr(owner, name, None))]


def _autograd_use(fn: Callable, make_args: Callable[[], list]) -> dict[str, Any]:
    """Call fn normally, then under torch.no_grad(), counting autograd's backward passes
    and its forward-mode entries."""
    calls = []
    saved = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    engine = getattr(Variable, "_execution_engine", None)
    forward_mode = [(owner, name, getattr(owner, name)) for owner, name in _forward_mode_entries()]

    def counted(original):
        def wrapper(*args, **kwargs):
            calls.append(original.__name__)
            return original(*args, **kwargs)
        return wrapper

    def run(no_grad: bool) -> None:
        torch.Tensor.backward = counted(saved[0])
        torch.autograd.backward = counted(saved[1])
        torch.autograd.grad = counted(saved[2])
        if engine is not None:
            Variable._execution_engine = _CountingEngine(engine, calls)
        for owner, name, original in forward_mode:
            setattr(owner, name, counted(original))
        try:
            if no_grad:
                with torch.no_grad():
                    fn(*make_args())
            else:
                fn(*make_args())
        finally:
            torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = saved
            if engine is not None:
                Variable._execution_engine = engine
            for owner, name, original in forward_mode:
                setattr(owner, name, original)

    run(no_grad=False)
    try:
        run(no_grad=True)
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        return {"calls": len(calls), "no_grad_error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"calls": len(calls), "no_grad_error": None}


def by_hand(sub, inputs):
    result = {"tensor_two_layer_grads": _autograd_use(
        sub.tensor_two_layer_grads, lambda: _fresh(inputs, ORDER))}
    try:
        sub.poly_grads(*_fresh(inputs, POLY_ORDER))
    except Exception:  # noqa: BLE001 - a missing or failing poly_grads is its own checks' business
        return result
    result["poly_grads"] = _autograd_use(sub.poly_grads, lambda: _fresh(inputs, POLY_ORDER))
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
