"""Exercise 5: the two-layer network as an nn.Module.

Layers assigned as attributes in __init__ (self.linear1 = nn.Linear(...)) are
registered as submodules, so their weights show up in model.parameters() (for the
optimizer), in model.state_dict() (for saving) and move with model.to(device).
A layer kept only in a local variable or a plain list would be invisible to all of these.
"""
import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """y_pred = linear2(relu(linear1(x)))."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        # TODO: create self.linear1 = nn.Linear(D_in, H) and self.linear2 = nn.Linear(H, D_out)
        raise NotImplementedError("TODO: create the attributes linear1 and linear2")

    def forward(self, x):
        """Return linear2(relu(linear1(x)))."""
        raise NotImplementedError("TODO: apply linear1, relu, then linear2")
