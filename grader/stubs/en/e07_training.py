"""Exercise 7: a training loop with an optimizer, evaluation, and devices.

Each step runs in this order: forward (y_pred = model(x)), loss, optimizer.zero_grad(),
loss.backward(), optimizer.step(). Record each loss as a Python float with
loss.item() (keeping tensors would keep their graphs alive).

evaluate switches to model.eval() (dropout/batch-norm behave for inference) and runs
under torch.inference_mode(), so no graph is built and no gradient changes.

Write device-agnostic code: take the device from the model's parameters and move
x and y there, so the same code runs on CPU or GPU.
"""
import torch


def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
    """Train with SGD on MSELoss(reduction="sum"); return each step's loss (before its update)."""
    raise NotImplementedError(
        "TODO: move x, y to the model's device, build loss_fn and torch.optim.SGD, model.train(), "
        "then per step: forward, loss, losses.append(loss.item()), zero_grad, backward, step"
    )


def evaluate(model, x, y):
    """Return the sum-of-squared-errors loss on (x, y) as a float, without changing the model."""
    raise NotImplementedError(
        "TODO: move x, y to the model's device, model.eval(), compute the loss under torch.inference_mode()"
    )


def pick_device():
    """Return torch.device("cuda") when CUDA is available, else torch.device("cpu")."""
    raise NotImplementedError("TODO: check torch.cuda.is_available()")
