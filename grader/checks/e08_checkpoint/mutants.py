"""e08's misconception mutants (the reference worker only): each takes the submitted
(reference) names and returns small buggy versions of save_checkpoint / load_checkpoint.
A student whose outputs match a mutant's on every check its misconception lists is told
that idea.
"""

from __future__ import annotations

import copy

import torch


def optimizer_state_missing(submitted) -> dict:
    """The model and the epoch are saved and restored; the optimizer's state is not."""
    def save_checkpoint(path, model, optimizer, epoch):
        torch.save({"model": model.state_dict(), "epoch": int(epoch)}, path)

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        return int(checkpoint["epoch"])
    return {"save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint}


def load_not_in_place(submitted) -> dict:
    """load_checkpoint loads into a copy of the model, not into the one it is given."""
    def save_checkpoint(path, model, optimizer, epoch):
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": int(epoch)}, path)

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        restored = copy.deepcopy(model)          # a new model; the caller's stays as it was
        restored.load_state_dict(checkpoint["model"])
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer"])
        return int(checkpoint["epoch"])
    return {"save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint}


def model_only_with_optimizer(submitted) -> dict:
    """load_checkpoint restores the model only when it is given an optimizer too."""
    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        if optimizer is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        return int(checkpoint["epoch"])
    return {"load_checkpoint": load_checkpoint}

