"""e09's probes (the student's and the reference's workers): each calls the submitted
code on the grader's inputs and returns what came back.

`fit` is run on the grader's own line model (`_line_model`, parameters `weights` and
`bias`, which notes the mode of every forward call), never on the student's
`LinearRegressionModel`: a broken model costs only its own checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from grader.checks.e09_linear_regression.inputs import FIT_DATA


def _tensor(array: np.ndarray):
    return torch.tensor(np.array(array), dtype=torch.float32)


def _copy(value: Any) -> Any:
    if hasattr(value, "detach") and callable(value.detach):
        return value.detach().clone()
    if type(value) in (tuple, list):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def line(sub, inputs):
    weight, bias, start, end, step = (float(v) for v in inputs["line"])
    partial_weight, partial_end = (float(v) for v in inputs["line_partial"])
    return {"default": _copy(sub.make_line_data()),
            "keywords": _copy(sub.make_line_data(weight=weight, bias=bias, start=start,
                                                 end=end, step=step)),
            "positional": _copy(sub.make_line_data(weight, bias, start, end, step)),
            "partial": _copy(sub.make_line_data(weight=partial_weight, end=partial_end))}


def split(sub, inputs):
    return {"default": _copy(sub.split_data(_tensor(inputs["split_X"]),
                                            _tensor(inputs["split_y"])))}


def split_fraction(sub, inputs):
    fraction = float(inputs["split_fraction"][0])
    return {"keyword": _copy(sub.split_data(_tensor(inputs["split_X2"]),
                                            _tensor(inputs["split_y2"]),
                                            train_fraction=fraction))}


def model(sub, inputs):
    seed = int(inputs["model_seed"][0])
    torch.manual_seed(seed)
    draws = [torch.randn(1).item(), torch.randn(1).item()]
    torch.manual_seed(seed)
    built = sub.LinearRegressionModel()
    is_module = isinstance(built, torch.nn.Module)
    params = {name: p.detach().clone() for name, p in built.named_parameters()} \
        if is_module else {}
    attributes = {name: type(getattr(built, name, None)).__name__
                  for name in ("weights", "bias")}
    trainable = {name: bool(p.requires_grad) for name, p in built.named_parameters()} \
        if is_module else {}
    return {"is_module": is_module, "kind": type(built).__name__, "params": params,
            "attributes": attributes, "draws": draws, "trainable": trainable}


def model_forward(sub, inputs):
    built = sub.LinearRegressionModel()
    with torch.no_grad():
        for name, value in zip(("weights", "bias"), inputs["model_values"]):
            getattr(built, name).copy_(torch.full((1,), float(value)))
    return {"value": _copy(built(_tensor(inputs["model_x"])))}


#: What the grader's line model saw on each forward call (module level, so that it also
#: fills when a student's fit works on a deep copy).
RECORDS: list[dict[str, Any]] = []
_CLASSES: dict[str, Any] = {}


def _line_model(init: np.ndarray):
    """The grader's own model for fit: weights * x + bias, noting each call's modes."""
    if "GraderLine" not in _CLASSES:
        class GraderLine(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn.Parameter(torch.zeros(1))
                self.bias = nn.Parameter(torch.zeros(1))

            def forward(self, x):
                RECORDS.append({"rows": int(x.shape[0]), "training": bool(self.training),
                                "inference": bool(torch.is_inference_mode_enabled()),
                                "grad": bool(torch.is_grad_enabled())})
                return self.weights * x + self.bias
        _CLASSES["GraderLine"] = GraderLine
    line_model = _CLASSES["GraderLine"]()
    with torch.no_grad():
        line_model.weights.fill_(float(init[0]))
        line_model.bias.fill_(float(init[1]))
    return line_model


def _as_lists(returned: Any) -> Any:
    if isinstance(returned, (tuple, list)) and len(returned) == 2:
        return tuple(list(part) if isinstance(part, (tuple, list)) else _copy(part)
                     for part in returned)
    return _copy(returned)


def _run_fit(fit, inputs, **kwargs) -> dict:
    line_model = _line_model(inputs["fit_init"])
    data = [_tensor(inputs[key]) for key in FIT_DATA]
    RECORDS.clear()
    returned = fit(line_model, *data, **kwargs)
    return {"returned": _as_lists(returned),
            "params": {name: p.detach().cpu().clone()
                       for name, p in line_model.named_parameters()},
            "records": list(RECORDS)}


def fitting(sub, inputs):
    return _run_fit(sub.fit, inputs)        # every default left out: 100 epochs at 0.01


def fitting_other(sub, inputs):
    rate, epochs = float(inputs["fit_other"][0]), int(inputs["fit_other"][1])
    found = _run_fit(sub.fit, inputs, epochs=epochs, learning_rate=rate)
    del found["records"]
    return found


def descent(sub, inputs):
    x, y = (np.array(inputs[k], dtype=np.float32) for k in ("gd_x", "gd_y"))
    return {"returned": _copy(sub.manual_gradient_descent(x, y))}


def descent_other(sub, inputs):
    rate, steps = float(inputs["gd_other"][0]), int(inputs["gd_other"][1])
    x, y = (np.array(inputs[k], dtype=np.float64) for k in ("gd_x2", "gd_y2"))
    return {"returned": _copy(sub.manual_gradient_descent(x, y, learning_rate=rate,
                                                          steps=steps))}
