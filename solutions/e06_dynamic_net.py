"""Reference: a network whose depth is drawn at random on every forward pass."""
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
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(self.middle_linear(h))
        return self.output_linear(h)
