"""Reference: the PyTorch workflow on a straight line (data, split, model, fit), and
gradient descent by hand with NumPy."""
import numpy as np
import torch
from torch import nn


def make_line_data(weight=0.7, bias=0.3, start=0.0, end=1.0, step=0.02):
    """X = arange(start, end, step) as a float32 column (N, 1); y = weight * X + bias."""
    X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(dim=1)
    y = weight * X + bias
    return X, y


def split_data(X, y, train_fraction=0.8):
    """The first int(train_fraction * len(X)) rows train, the rest test, in order."""
    split = int(train_fraction * len(X))
    return X[:split], y[:split], X[split:], y[split:]


class LinearRegressionModel(nn.Module):
    """weights * x + bias, both learned, both starting from torch.randn(1)."""

    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(1, dtype=torch.float32))
        self.bias = nn.Parameter(torch.randn(1, dtype=torch.float32))

    def forward(self, x):
        return self.weights * x + self.bias


def fit(model, X_train, y_train, X_test, y_test, *, epochs=100, learning_rate=0.01):
    """One full-batch SGD step on the L1 loss per epoch, then the test loss; both per epoch."""
    loss_fn = nn.L1Loss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    train_losses, test_losses = [], []
    for _ in range(epochs):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        train_losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        model.eval()
        with torch.inference_mode():
            test_losses.append(loss_fn(model(X_test), y_test).item())
    return train_losses, test_losses


def manual_gradient_descent(x, y, *, learning_rate=0.01, steps=20):
    """Fit f = w * x by hand: mean squared error, its derivative, w from 0.0."""
    w = 0.0
    losses = []
    for _ in range(steps):
        y_pred = w * x
        losses.append(float(np.mean((y_pred - y) ** 2)))
        gradient = np.mean(2 * x * (y_pred - y))
        w -= learning_rate * gradient
    return float(w), losses
