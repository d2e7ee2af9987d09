"""Exercise 4: ReLU as a custom torch.autograd.Function.

forward computes the output and may stash tensors it will need later with
ctx.save_for_backward(...); backward reads them back from ctx.saved_tensors and
turns the gradient of the loss w.r.t. the output (grad_output) into the gradient
w.r.t. the input. For ReLU that gradient passes through where input > 0 and is 0
where input < 0.

Do not modify grad_output in place: autograd may reuse that tensor elsewhere in
the graph. Clone it first.
"""
import torch


class MyReLU(torch.autograd.Function):
    """ReLU with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        """Return the gradient w.r.t. input, given the gradient w.r.t. the output."""
        raise NotImplementedError(
            "TODO: read input from ctx.saved_tensors, clone grad_output, zero it where input < 0"
        )


my_relu = MyReLU.apply
