"""The grader's own models for the e07/e08 probes (the workers: student's and reference's;
never imported in the grader process).

e07 and e08 are graded with these, never with the student's `TwoLayerNet` (a broken e05
costs only e05), and never with anything from `solutions`. The classes live at module
level (`grader.checks.training.models.TwoLayerNet`), so a student who pickles a whole
model gets a file that the grader's checkpoint reader names precisely (e08's
`pickled_model`).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from grader.checks.training.inputs import PARAMS

#: What `Recorder` saw on each forward call: training flag, inference mode, grad mode.
#: A module-level list, so that it also fills when the student runs a deep copy.
RECORDS: list[dict[str, bool]] = []


class TwoLayerNet(torch.nn.Module):
    """y_pred = linear2(relu(linear1(x)))."""

    def __init__(self, d_in: int, h: int, d_out: int):
        super().__init__()
        self.linear1 = torch.nn.Linear(d_in, h)
        self.linear2 = torch.nn.Linear(h, d_out)

    def forward(self, x):
        return self.linear2(torch.relu(self.linear1(x)))


class Recorder(torch.nn.Module):
    """Identity that notes the mode it was called in (see `RECORDS`)."""

    def forward(self, x):
        RECORDS.append({"training": bool(self.training),
                        "inference": bool(torch.is_inference_mode_enabled()),
                        "grad": bool(torch.is_grad_enabled())})
        return x


class RecordingNet(TwoLayerNet):
    """TwoLayerNet with Dropout(p=0.5) on the hidden layer: exact only in eval mode."""

    def __init__(self, d_in: int, h: int, d_out: int):
        super().__init__(d_in, h, d_out)
        self.dropout = torch.nn.Dropout(p=0.5)
        self.recorder = Recorder()

    def forward(self, x):
        hidden = self.dropout(torch.relu(self.linear1(x)))
        return self.linear2(self.recorder(hidden))


def model_class(name: str) -> Any:
    """One of the classes, by name."""
    return {"TwoLayerNet": TwoLayerNet, "RecordingNet": RecordingNet,
            "Recorder": Recorder}[name]


def build(inputs: Mapping[str, np.ndarray], *, recording: bool = False, other: bool = False,
          device: str = "cpu"):
    """A model with the seeded weights loaded (through load_state_dict), on `device`."""
    d_out, h = inputs["linear2.weight"].shape
    d_in = inputs["linear1.weight"].shape[1]
    model = model_class("RecordingNet" if recording else "TwoLayerNet")(d_in, h, d_out)
    prefix = "other_" if other else ""
    state = {k: torch.tensor(inputs[prefix + k], dtype=torch.float32) for k in PARAMS}
    model.load_state_dict(state)
    return model.to(device)


def tensors(inputs: Mapping[str, np.ndarray], device: str = "cpu"):
    """x and y as float32 tensors."""
    return (torch.tensor(inputs["x"], dtype=torch.float32, device=device),
            torch.tensor(inputs["y"], dtype=torch.float32, device=device))


def params(model) -> dict[str, Any]:
    """The model's parameters as detached CPU copies (sent back as data)."""
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters()}


def grads(model) -> dict[str, Any]:
    return {name: (None if p.grad is None else p.grad.detach().cpu().clone())
            for name, p in model.named_parameters()}


def sgd_steps(model, optimizer, x, y, steps: int) -> list[float]:
    """The grader's own loop (e08): forward, sum-of-squares loss, zero_grad, backward, step."""
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).sum()
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
