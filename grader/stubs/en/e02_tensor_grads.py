"""Exercise 2: the same gradients by hand with torch tensors (no autograd).

Tensors work like NumPy arrays (x.mm(w) or x @ w, .clamp(min=0), .t(), .clone()),
but can live on a GPU. Shapes and model are as in exercise 1:
x (N, D_in), w1 (D_in, H), w2 (H, D_out), y_pred = relu(x @ w1) @ w2,
loss = sum of squared errors, and the backward pass:
    grad_y_pred = 2 * (y_pred - y)
    grad_w2     = h_relu.T @ grad_y_pred
    grad_h      = grad_y_pred @ w2.T, set to 0 where h < 0
    grad_w1     = x.T @ grad_h

poly_grads fits a cubic y ≈ a + b*x + c*x**2 + d*x**3 to 1-D tensors x, y with
coeffs = tensor([a, b, c, d]). With g = 2 * (y_pred - y) the loss's derivatives are
    dL/da = sum(g),  dL/db = sum(g * x),  dL/dc = sum(g * x**2),  dL/dd = sum(g * x**3).
"""
import torch


def tensor_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) for y_pred = relu(x @ w1) @ w2, by hand.

    Do not call .backward() and do not modify the input tensors.
    """
    raise NotImplementedError(
        "TODO: forward pass with mm/clamp, loss via .item(), then the four backward steps"
    )


def poly_grads(x, y, coeffs):
    """Return (loss, grads) for the cubic fit; grads has shape (4,), like coeffs."""
    raise NotImplementedError(
        "TODO: compute y_pred from a, b, c, d, the loss, and the four sums into one tensor"
    )
