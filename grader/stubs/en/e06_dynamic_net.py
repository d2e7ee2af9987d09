"""Exercise 6: a network whose depth changes on every forward pass.

forward is ordinary Python, so it may use loops and conditionals: autograd
records whatever actually ran. Here the depth is drawn anew with
random.randint(0, 3) on every call, and the hidden layer is the *same*
self.middle_linear each time (weight sharing): reusing one module reuses its
parameters, and their gradients add up over all the uses.
"""
import random

import torch
from torch import nn


class DynamicNet(nn.Module):
    """Input layer, 0-3 reuses of one shared middle layer, output layer."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)

    def forward(self, x):
        """relu(input_linear), then relu(middle_linear) random.randint(0, 3) times, then output_linear."""
        raise NotImplementedError(
            "TODO: h = relu(input_linear(x)); repeat h = relu(middle_linear(h)) "
            "random.randint(0, 3) times; return output_linear(h)"
        )
