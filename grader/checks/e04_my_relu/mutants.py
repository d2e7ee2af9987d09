"""Reference worker: e04's misconception mutants, each a MyReLU with one wrong backward.

A mutant takes the reference's public names (`submitted`) and returns the buggy ones
in their place.
"""

from __future__ import annotations

import torch


def _buggy_relu(backward_rule):
    """A MyReLU whose backward is `backward_rule(input, grad_output)`."""

    class BuggyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return backward_rule(input, grad_output.clone())

    return {"MyReLU": BuggyReLU, "my_relu": BuggyReLU.apply}


def _masked(grad, where):
    grad[where] = 0
    return grad


def mask_missing(submitted):
    return _buggy_relu(lambda input, grad: grad)


def mask_inverted(submitted):
    return _buggy_relu(lambda input, grad: _masked(grad, input > 0))


def mask_not_multiplied(submitted):
    return _buggy_relu(lambda input, grad: (input > 0).to(grad.dtype))


def relu_on_gradient(submitted):
    return _buggy_relu(lambda input, grad: grad.clamp(min=0))
