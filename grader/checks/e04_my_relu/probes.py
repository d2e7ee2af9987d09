"""Worker: e04's probes, run on the student's MyReLU and on the reference's."""

from __future__ import annotations

import numpy as np
import torch
from torch.autograd.gradcheck import GradcheckError

from grader.checks.e04_my_relu.inputs import LARGE_CASES, twice_upstreams


def _tensor(array, dtype="float32", requires_grad=False):
    return torch.tensor(np.asarray(array), dtype=getattr(torch, dtype),
                        requires_grad=requires_grad)


def _backward_with(y, upstream):
    """y.backward(upstream), with `upstream` itself (this very tensor) handed to y's backward.

    A scalar backward through a pass-through Function: the same tensor object reaches
    MyReLU.backward as grad_output (so an in-place change shows in the caller's copy),
    and torch's first non-scalar backward (which imports sympy, ~0.7 s) is avoided.
    """
    class Feed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            return value.sum()

        @staticmethod
        def backward(ctx, _):
            return upstream

    Feed.apply(y).backward()


def backward(sub, inputs):
    """Forward, then backward() with a given upstream gradient that the caller keeps."""
    x = _tensor(inputs["x"], requires_grad=True)
    upstream = _tensor(inputs["grad_output"])
    kept = upstream.clone()
    y = sub.MyReLU.apply(x)
    out = y.detach().clone()
    _backward_with(y, upstream)
    grad = x.grad.detach().clone() if x.grad is not None else None
    return {"out": out, "grad": grad, "upstream_after": upstream.detach().clone(),
            "upstream": kept, "x_after": x.detach().clone(), "twice": _twice(sub, inputs)}


def _twice(sub, inputs):
    """MyReLU used twice in one graph (on x and on -x) before one backward: each backward
    must read its own forward's input (from ctx), not state the later forward overwrote."""
    x1 = _tensor(inputs["x"], requires_grad=True)
    x2 = _tensor(-inputs["x"], requires_grad=True)
    up1, up2 = (_tensor(u) for u in twice_upstreams(inputs))
    try:
        y1, y2 = sub.MyReLU.apply(x1), sub.MyReLU.apply(x2)
        ((y1 * up1).sum() + (y2 * up2).sum()).backward()
    except Exception as exc:  # noqa: BLE001 - reported by the judge, next to the single use
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"grads": [None if x.grad is None else x.grad.detach().clone() for x in (x1, x2)]}


def gradcheck(sub, inputs):
    x = _tensor(inputs["x_far"], "float64", requires_grad=True)
    try:
        return {"ok": bool(torch.autograd.gradcheck(sub.MyReLU.apply, (x,), eps=1e-6,
                                                    atol=1e-5, rtol=1e-3)), "detail": ""}
    except GradcheckError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"ok": False, "detail": first.rstrip(" ,.:")[:200]}


def large(sub, inputs):
    """Forward and backward on the large float32 and float64 inputs (each on its own:
    one that fails still lets the other report)."""
    found = {}
    for dtype in LARGE_CASES:
        x = _tensor(inputs[f"large_x_{dtype}"], dtype, requires_grad=True)
        try:
            y = sub.MyReLU.apply(x)
            out = y.detach().clone()
            _backward_with(y, _tensor(inputs[f"large_upstream_{dtype}"], dtype))
        except Exception as exc:  # noqa: BLE001 - reported by the judge
            found[dtype] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            continue
        found[dtype] = {"out": out,
                        "grad": None if x.grad is None else x.grad.detach().clone()}
    return found


def alias(sub, inputs):
    """my_relu(x) forward and backward: it must be MyReLU's (its grad_fn is MyReLU's)."""
    x = _tensor(inputs["x"], requires_grad=True)
    y = sub.my_relu(x)
    backward_cls = getattr(sub.MyReLU, "_backward_cls", None)
    grad_fn = getattr(y, "grad_fn", None)
    custom = grad_fn is not None and backward_cls is not None and type(grad_fn) is backward_cls
    if custom:
        _backward_with(y, _tensor(inputs["grad_output"]))
    return {"out": y, "custom": custom,
            "grad_fn": type(grad_fn).__name__ if grad_fn is not None else "None"}
