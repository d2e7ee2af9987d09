"""Reference: the two-layer network's gradients through autograd."""
import torch


def autograd_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) computed by loss.backward(); inputs untouched."""
    w1 = w1.detach().clone().requires_grad_(True)
    w2 = w2.detach().clone().requires_grad_(True)
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    return loss.item(), w1.grad, w2.grad


def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """Run `steps` gradient-descent updates with autograd; losses[t] is before update t."""
    w1 = w1.detach().requires_grad_(True)
    w2 = w2.detach().requires_grad_(True)
    losses = []
    for _ in range(steps):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return w1.detach(), w2.detach(), losses
