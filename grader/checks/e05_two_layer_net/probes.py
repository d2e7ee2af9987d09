"""Worker: e05's probes, run on the student's TwoLayerNet and on the reference's."""

from __future__ import annotations

import torch

from grader.checks.e05_two_layer_net.inputs import (D_IN, D_OUT, EXPECTED, H, REWEIGHT,
                                                     weights_of)
from grader.checks.modules.inputs import LARGE, sizes_of
from grader.checks.modules.probes import describe_parameters, gradients, load_weights


def structure(sub, inputs):
    sample = torch.tensor(inputs["x"], dtype=torch.float32)
    return describe_parameters(sub.TwoLayerNet(D_IN, H, D_OUT), sample)


def forward(sub, inputs):
    """forward twice on the grader's weights, then backward with a given upstream gradient."""
    return _forward_twice_and_backward(sub, inputs, "")


def large(sub, inputs):
    """The forward probe at the large sizes; an exception is the judge's to explain."""
    try:
        return _forward_twice_and_backward(sub, inputs, LARGE)
    except Exception as exc:  # noqa: BLE001 - reported with the sizes it happened at
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _forward_twice_and_backward(sub, inputs, prefix):
    x = torch.tensor(inputs[prefix + "x"], dtype=torch.float32)
    n, d_in, h, d_out = sizes_of(inputs, prefix, "linear1", "linear2").values()
    model = sub.TwoLayerNet(d_in, h, d_out)
    load = load_weights(model, weights_of(inputs, prefix))
    if load["error"] or load["unexpected"]:
        return {"load": load}
    out = model(x)
    again = model(x)
    one = model(x[:1]).detach().clone()  # a batch of one row keeps its shape (1, D_out)
    # other rows of the same shape (x's in reverse order): an output kept from an earlier
    # call (cached by shape, say) shows here
    other = model(x.flip(0)).detach().clone()
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == (n, d_out):
        (out * torch.tensor(inputs[prefix + "upstream"], dtype=torch.float32)).sum().backward()
    found = {"load": load, "out": out, "again": again, "one": one, "other": other,
             "grads": gradients(model, EXPECTED)}
    if not prefix:
        # the same tensor (same data_ptr and shape) rewritten in place with other rows: an
        # output kept by the tensor's address shows (red team round 4)
        with torch.no_grad():
            x.copy_(x.flip(0))
        found["rewritten"] = model(x).detach().clone()
        # then the weights changed in place (as an optimizer step does), x left alone: an
        # output kept by x's address and version shows
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.mul_(REWEIGHT)
        found["reweighted"] = model(x).detach().clone()
    return found
