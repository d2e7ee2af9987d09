"""Exercise 9: the whole PyTorch workflow on a straight line, and gradient descent by hand.

1. Data: points on a known line, X = arange(start, end, step) as a column of shape
   (N, 1) (unsqueeze(dim=1)) and y = weight * X + bias. The model should find the
   weight and bias again.
2. Split: the first int(train_fraction * len(X)) rows train, the rest test. Keep the
   order: the test rows are the end of the line, the part the model has not seen.
3. Model: an nn.Module whose learned numbers are nn.Parameter attributes (a plain
   tensor is not registered, so model.parameters() and the optimizer never see it):
   weights and bias, each starting from torch.randn(1); forward is weights * x + bias.
4. Fit, once per epoch: model.train(); the forward pass on the training data; the loss
   (nn.L1Loss(): the mean absolute error); record loss.item() before the update;
   optimizer.zero_grad(); loss.backward(); optimizer.step(). Then test: model.eval()
   and, under torch.inference_mode() (no graph, no gradients), the loss on the test
   data.

Gradient descent by hand (NumPy only), for f = w * x with the mean squared error
    J(w) = mean((w * x - y) ** 2),   dJ/dw = mean(2 * x * (w * x - y)),
starts from w = 0.0 and repeats w -= learning_rate * dJ/dw.
"""
import numpy as np
import torch
from torch import nn


def make_line_data(weight=0.7, bias=0.3, start=0.0, end=1.0, step=0.02):
    """Return (X, y): X = arange(start, end, step) as a float32 column (N, 1),
    y = weight * X + bias."""
    raise NotImplementedError(
        "TODO: X = torch.arange(start, end, step) made a column with unsqueeze(dim=1); "
        "y from weight, X and bias"
    )


def split_data(X, y, train_fraction=0.8):
    """Return (X_train, y_train, X_test, y_test): the first int(train_fraction * len(X))
    rows train, the rest test, in their order."""
    raise NotImplementedError("TODO: compute the split index, then slice X and y at it")


class LinearRegressionModel(nn.Module):
    """weights * x + bias, with parameters `weights` and `bias` (each torch.randn(1))."""

    def __init__(self):
        super().__init__()
        raise NotImplementedError(
            "TODO: self.weights and self.bias, each an nn.Parameter made from torch.randn(1)"
        )

    def forward(self, x):
        raise NotImplementedError("TODO: return weights * x + bias")


def fit(model, X_train, y_train, X_test, y_test, *, epochs=100, learning_rate=0.01):
    """Train with nn.L1Loss() and torch.optim.SGD(lr=learning_rate), one full-batch step
    per epoch, and measure the test loss after each; return (train_losses, test_losses),
    Python floats, train_losses[t] taken before update t."""
    raise NotImplementedError(
        "TODO: build the loss and the optimizer once; per epoch: model.train(), forward, "
        "loss, record loss.item(), zero_grad, backward, step; then model.eval() and the "
        "test loss under torch.inference_mode()"
    )


def manual_gradient_descent(x, y, *, learning_rate=0.01, steps=20):
    """Fit f = w * x to the NumPy arrays x, y from w = 0.0; return (w, losses): the final
    w as a float and each step's mean squared error before its update."""
    raise NotImplementedError(
        "TODO: per step: y_pred = w * x, record the loss, compute dJ/dw by hand, "
        "w -= learning_rate * dJ/dw"
    )
