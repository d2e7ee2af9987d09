"""Exercise 3: let autograd compute the gradients.

A tensor with requires_grad=True records the operations applied to it; calling
loss.backward() then fills .grad of every such leaf tensor with d(loss)/d(tensor).
Gradients accumulate: backward adds into .grad, so zero them every step
(w.grad.zero_()) or each update would also use all earlier gradients.
Weight updates must not be recorded themselves, so do them inside
`with torch.no_grad():`.

The *_grads function must be pure: the caller's tensors do not require grad and
must stay that way, so work on detached clones (w1.detach().clone().requires_grad_()).
"""
import torch


def autograd_two_layer_grads(x, y, w1, w2):
    """Return (loss, grad_w1, grad_w2) computed with loss.backward().

    Leave the caller's tensors unchanged (no requires_grad_ on them).
    """
    raise NotImplementedError(
        "TODO: clone w1, w2 with requires_grad, forward, loss.backward(), return loss.item() and the .grad's"
    )


def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """Run `steps` gradient-descent updates with autograd; return (w1, w2, losses).

    losses[t] is the loss before update t, as a float.
    """
    raise NotImplementedError(
        "TODO: make w1, w2 require grad, then per step: forward, loss, backward, "
        "update under torch.no_grad(), zero the grads"
    )
