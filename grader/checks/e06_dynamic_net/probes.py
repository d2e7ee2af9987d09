"""Worker: e06's probes, run on the student's DynamicNet and on the reference's.

Every count is fixed (INSTANCES x CALLS calls, DRAWS passes, LARGE_CALLS large calls):
a verdict never depends on how fast the model is.
"""

from __future__ import annotations

import inspect

import torch

from grader.checks.e06_dynamic_net.inputs import (CALLS, D_IN, D_OUT, DRAWS, EXPECTED, H,
                                                  INSTANCES, LARGE_CALLS, N, weights_of)
from grader.checks.modules.inputs import LARGE, sizes_of
from grader.checks.modules.probes import describe_parameters, gradients, load_weights


def _signature_mismatch(cls) -> str | None:
    """The signature of `cls` when it cannot be called as cls(D_in, H, D_out), else None."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to read: just try to build one
        return None
    try:
        signature.bind(D_IN, H, D_OUT)
    except TypeError:
        return str(signature)[:120]
    return None


def calls(sub, inputs):
    """INSTANCES fresh models with the grader's weights, each called CALLS times on one x,
    then DRAWS forward passes of one more model (how often each depth comes up)."""
    signature = _signature_mismatch(sub.DynamicNet)
    if signature is not None:
        return {"signature": signature}
    x = torch.tensor(inputs["x"], dtype=torch.float32)
    upstream = torch.tensor(inputs["upstream"], dtype=torch.float32)
    models, structure = [], None
    for _ in range(INSTANCES):
        model = sub.DynamicNet(D_IN, H, D_OUT)
        structure = structure or describe_parameters(model, x)
        load = load_weights(model, weights_of(inputs))
        if load["error"] or load["unexpected"]:
            return {"structure": structure, "load": load}
        results = []
        for _ in range(CALLS):
            for param in model.parameters():
                param.grad = None
            out = model(x)
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == (N, D_OUT):
                (out * upstream).sum().backward()
            results.append({"out": out, "grads": gradients(model, EXPECTED)})
        models.append(results)
    model = sub.DynamicNet(D_IN, H, D_OUT)
    load_weights(model, weights_of(inputs))
    draws = []
    with torch.no_grad():
        for index in range(DRAWS):   # always all of them: a verdict never depends on speed
            if index == DRAWS // 2:
                model.eval()  # the depth is drawn anew in eval mode too (it is no dropout)
            out = model(x)
            if not isinstance(out, torch.Tensor) or out.shape != (N, D_OUT):
                break
            draws.append(out.detach().to(device="cpu", dtype=torch.float32))
    return {"structure": structure, "load": load, "models": models,
            "draws": torch.stack(draws) if draws else None}


def large(sub, inputs):
    """LARGE_CALLS calls with backward of one model at the large sizes."""
    signature = _signature_mismatch(sub.DynamicNet)
    if signature is not None:
        return {"signature": signature}
    about = sizes_of(inputs, LARGE, "input_linear", "output_linear")
    try:
        model = sub.DynamicNet(about["d_in"], about["h"], about["d_out"])
        load = load_weights(model, weights_of(inputs, LARGE))
        if load["error"] or load["unexpected"]:
            return {"load": load}
        x = torch.tensor(inputs[LARGE + "x"], dtype=torch.float32)
        upstream = torch.tensor(inputs[LARGE + "upstream"], dtype=torch.float32)
        results = []
        for _ in range(LARGE_CALLS):
            for param in model.parameters():
                param.grad = None
            out = model(x)
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == upstream.shape:
                (out * upstream).sum().backward()
            results.append({"out": out, "grads": gradients(model, EXPECTED)})
        with torch.no_grad():
            one = model(x[:1])  # a batch of one row keeps its shape (1, D_out)
    except Exception as exc:  # noqa: BLE001 - reported with the sizes it happened at
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"load": load, "calls": results, "one": one}
