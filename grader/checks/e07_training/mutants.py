"""e07's misconception mutants (the reference worker only): each takes the submitted
(reference) names and returns small buggy versions of train (and evaluate). A student
whose outputs match a mutant's on every check its misconception lists is told that idea.

`train` and `evaluate` here are e07's answer when `bug` is None: they live nowhere a
student's worker can reach (`grader.strip` drops this module there).
"""

from __future__ import annotations

import torch


def train(model, x, y, *, steps: int = 500, learning_rate: float = 1e-4, momentum: float = 0.0,
          bug: str | None = None) -> list[float]:
    """e07's train, correct when `bug` is None, else with one typical mistake.

    bug: "accumulate" (never zero the gradients), "zero_before_step" (zero them between
    backward and step), "rebuild_optimizer" (a new SGD every step), "loss_after_update",
    "mean" (MSELoss's default reduction), "mean_times_rows" (that mean times len(x), which
    is the sum only when y has one column), "fixed_lr" (learning_rate ignored, 1e-4 used).
    """
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
        if bug == "mean_times_rows":
            loss = torch.nn.functional.mse_loss(model(x), y) * len(x)
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
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    model.eval()
    with torch.inference_mode():
        return torch.nn.functional.mse_loss(model(x), y,
                                            reduction="mean" if bug == "mean" else "sum").item()


def _with_bug(bug: str, evaluate_too: bool = False):
    """The mutant whose train (and, with `evaluate_too`, evaluate) has `bug`."""
    def mutant(submitted) -> dict:
        def wrong_train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            return train(model, x, y, steps=steps, learning_rate=learning_rate,
                         momentum=momentum, bug=bug)

        def wrong_evaluate(model, x, y):
            return evaluate(model, x, y, bug=bug)
        return {"train": wrong_train, **({"evaluate": wrong_evaluate} if evaluate_too else {})}
    return mutant


grads_accumulate = _with_bug("accumulate")
no_update = _with_bug("zero_before_step")
loss_after_update = _with_bug("loss_after_update")
mean_loss = _with_bug("mean", evaluate_too=True)
train_mean_loss = _with_bug("mean")
mean_times_rows = _with_bug("mean_times_rows")
ignores_learning_rate = _with_bug("fixed_lr")
momentum_lost = _with_bug("rebuild_optimizer")


def evaluate_mean(submitted) -> dict:
    """evaluate with MSELoss's default reduction, the mean (train may be right)."""
    def wrong_evaluate(model, x, y):
        return evaluate(model, x, y, bug="mean")
    return {"evaluate": wrong_evaluate}


def half_sse(submitted) -> dict:
    """The 1/2 convention: loss = 0.5 * sum of squares (half the losses, half the steps)."""
    def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
        device = next(model.parameters()).device
        x, y = x.to(device), y.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
        losses = []
        for _ in range(steps):
            loss = 0.5 * ((model(x) - y) ** 2).sum()
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses
    return {"train": train}
