"""The grader's own models and training loop for the e07/e08 probes (worker side only).

e07 and e08 are graded with these, never with the student's `TwoLayerNet`
(a broken e05 costs only e05), and never with anything from `solutions`.

torch is imported lazily: the model classes are built on first access through
the module's `__getattr__`, so importing this module costs nothing and the
grader's own process stays torch-free. The classes still live at module level
(`grader.checks.reference_models.TwoLayerNet`), so a student who pickles a whole
model gets a file that loads with `weights_only=False`: the grader can then say
precisely what went wrong.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

#: What `Recorder` saw on each forward call: training flag, inference mode, grad mode.
#: A module-level list, so that it also fills when the student runs a deep copy.
RECORDS: list[dict[str, bool]] = []

_CLASSES = ("TwoLayerNet", "RecordingNet", "Recorder")


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return model_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_class(name: str) -> Any:
    """One of the classes, defined (once) on first use."""
    if name not in globals():
        _define_classes()
    return globals()[name]


def _define_classes() -> None:
    import torch
    from torch import nn

    class TwoLayerNet(nn.Module):
        """y_pred = linear2(relu(linear1(x)))."""

        def __init__(self, d_in: int, h: int, d_out: int):
            super().__init__()
            self.linear1 = nn.Linear(d_in, h)
            self.linear2 = nn.Linear(h, d_out)

        def forward(self, x):
            return self.linear2(torch.relu(self.linear1(x)))

    class Recorder(nn.Module):
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
            self.dropout = nn.Dropout(p=0.5)
            self.recorder = Recorder()

        def forward(self, x):
            hidden = self.dropout(torch.relu(self.linear1(x)))
            return self.linear2(self.recorder(hidden))

    for cls in (TwoLayerNet, Recorder, RecordingNet):
        cls.__qualname__ = cls.__name__
        cls.__module__ = __name__
    globals().update(TwoLayerNet=TwoLayerNet, Recorder=Recorder, RecordingNet=RecordingNet)


# ------------------------------------------------------------------ data

def make_data(seed: int, n: int, d_in: int, h: int, d_out: int) -> dict[str, np.ndarray]:
    """x, y, and two sets of layer weights (nn.Linear layout: weight is (out, in))."""
    rng = np.random.default_rng(seed)
    data = {"x": rng.standard_normal((n, d_in)), "y": rng.standard_normal((n, d_out))}
    for prefix in ("", "other_"):
        data[prefix + "linear1.weight"] = rng.standard_normal((h, d_in)) / np.sqrt(d_in)
        data[prefix + "linear1.bias"] = rng.standard_normal(h) * 0.1
        data[prefix + "linear2.weight"] = rng.standard_normal((d_out, h)) / np.sqrt(h)
        data[prefix + "linear2.bias"] = rng.standard_normal(d_out) * 0.1
    return data


def build(inputs: Mapping[str, np.ndarray], *, recording: bool = False, other: bool = False,
          device: str = "cpu"):
    """A model with the seeded weights loaded (through load_state_dict), on `device`."""
    import torch

    d_out, h = inputs["linear2.weight"].shape
    d_in = inputs["linear1.weight"].shape[1]
    model = model_class("RecordingNet" if recording else "TwoLayerNet")(d_in, h, d_out)
    prefix = "other_" if other else ""
    state = {k: torch.tensor(inputs[prefix + k], dtype=torch.float32)
             for k in ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")}
    model.load_state_dict(state)
    return model.to(device)


def tensors(inputs: Mapping[str, np.ndarray], device: str = "cpu"):
    """x and y as float32 tensors."""
    import torch

    return (torch.tensor(inputs["x"], dtype=torch.float32, device=device),
            torch.tensor(inputs["y"], dtype=torch.float32, device=device))


def params(model) -> dict[str, Any]:
    """The model's parameters as detached CPU copies (sent back as data)."""
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters()}


def grads(model) -> dict[str, Any]:
    return {name: (None if p.grad is None else p.grad.detach().cpu().clone())
            for name, p in model.named_parameters()}


# ------------------------------------------------------------------ training

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


def train(model, x, y, *, steps: int = 500, learning_rate: float = 1e-4, momentum: float = 0.0,
          bug: str | None = None) -> list[float]:
    """e07's train, correct when `bug` is None, else with one typical mistake.

    bug: "accumulate" (never zero the gradients), "zero_before_step" (zero them between
    backward and step), "rebuild_optimizer" (a new SGD every step), "loss_after_update",
    "mean" (MSELoss's default reduction), "fixed_lr" (learning_rate ignored, 1e-4 used).
    """
    import torch

    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    loss_fn = torch.nn.MSELoss(reduction="mean" if bug == "mean" else "sum")
    lr = 1e-4 if bug == "fixed_lr" else learning_rate

    def new_optimizer():
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    optimizer = new_optimizer()
    model.train()
    losses = []
    for _ in range(steps):
        if bug == "rebuild_optimizer":
            optimizer = new_optimizer()
        loss = loss_fn(model(x), y)
        if bug != "loss_after_update":
            losses.append(loss.item())
        if bug not in ("accumulate", "zero_before_step"):
            optimizer.zero_grad()
        loss.backward()
        if bug == "zero_before_step":
            optimizer.zero_grad()
        optimizer.step()
        if bug == "loss_after_update":
            with torch.no_grad():
                losses.append(loss_fn(model(x), y).item())
    return losses


def evaluate(model, x, y, *, bug: str | None = None) -> float:
    """e07's evaluate, correct when `bug` is None; bug "mean" uses MSELoss's default."""
    import torch

    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    model.eval()
    with torch.inference_mode():
        return torch.nn.functional.mse_loss(model(x), y,
                                            reduction="mean" if bug == "mean" else "sum").item()
