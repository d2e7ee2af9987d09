"""Exercise 1: a two-layer ReLU network, forward and backward by hand with NumPy.

Shapes: x is (N, D_in), y is (N, D_out), w1 is (D_in, H), w2 is (H, D_out).
Forward:  h = x @ w1;  h_relu = relu(h);  y_pred = h_relu @ w2
Loss:     loss = sum((y_pred - y) ** 2)   (the sum, not the mean)

Backward, one chain-rule step at a time (each gradient has its tensor's shape):
    grad_y_pred = 2 * (y_pred - y)             # (N, D_out)
    grad_w2     = h_relu.T @ grad_y_pred        # (H, D_out)
    grad_h      = grad_y_pred @ w2.T            # (N, H), then set to 0 where h < 0
    grad_w1     = x.T @ grad_h                  # (D_in, H)
Gradient descent then moves each weight a small step against its gradient.
"""
import numpy as np


def numpy_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) for y_pred = relu(x @ w1) @ w2.

    Use NumPy only, and do not modify x, y, w1 or w2 (copy before masking).
    """
    raise NotImplementedError(
        "TODO: compute h, h_relu, y_pred and the loss, then grad_y_pred, grad_w2, "
        "grad_h (zeroed where h < 0) and grad_w1"
    )


def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """Run `steps` gradient-descent updates; return (w1, w2, losses).

    losses[t] is the loss (a float) before update t; the update is
    w -= learning_rate * grad_w for both weights.
    """
    raise NotImplementedError(
        "TODO: loop `steps` times: call numpy_two_layer_grads, append the loss, "
        "update w1 and w2"
    )
