"""Reference: a two-layer ReLU network trained by hand with NumPy."""
import numpy as np


def numpy_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) for y_pred = relu(x @ w1) @ w2."""
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    loss = float(np.square(y_pred - y).sum())

    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h_relu = grad_y_pred.dot(w2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    return loss, grad_w1, grad_w2


def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """Run `steps` gradient-descent updates; losses[t] is the loss before update t."""
    losses = []
    for _ in range(steps):
        loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
        losses.append(loss)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return w1, w2, losses

