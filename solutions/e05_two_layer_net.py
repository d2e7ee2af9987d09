"""Reference: the two-layer network as an nn.Module."""
import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """y_pred = linear2(relu(linear1(x)))."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        return self.linear2(torch.relu(self.linear1(x)))
