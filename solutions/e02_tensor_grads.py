"""Reference: the same gradients by hand with torch tensors (no autograd)."""
import torch


def tensor_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) for y_pred = relu(x @ w1) @ w2, by hand."""
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - y).pow(2).sum().item()

    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)
    return loss, grad_w1, grad_w2


def poly_grads(x, y, coeffs):
    """Return (loss, grads) for y ≈ a + b x + c x^2 + d x^3, coeffs = [a, b, c, d]."""
    a, b, c, d = coeffs
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()

    grad_y_pred = 2.0 * (y_pred - y)
    grads = torch.stack([
        grad_y_pred.sum(),
        (grad_y_pred * x).sum(),
        (grad_y_pred * x ** 2).sum(),
        (grad_y_pred * x ** 3).sum(),
    ])
    return loss, grads
