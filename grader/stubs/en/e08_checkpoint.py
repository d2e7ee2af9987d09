"""Exercise 8: save and restore a training checkpoint.

Save state dicts (dicts of tensors), not the pickled model object: a pickled model
is tied to its class's code and module path, while a state dict loads into any
model with the same layers, and torch.load(path, weights_only=True) can read it
without running arbitrary pickled code.

Save the optimizer's state_dict too: SGD with momentum keeps a momentum buffer per
parameter, and training resumed without it would not continue as if never stopped.
Save the epoch alongside, so training knows where to pick up.
"""
import torch


def save_checkpoint(path, model, optimizer, epoch):
    """Save model and optimizer state dicts and the epoch to one file at `path`."""
    raise NotImplementedError(
        'TODO: torch.save({"model": ..., "optimizer": ..., "epoch": int(epoch)}, path)'
    )


def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
    """Restore model (and optimizer, if given) in place from `path`; return the saved epoch as an int."""
    raise NotImplementedError(
        "TODO: torch.load(path, map_location=map_location, weights_only=True), "
        "load_state_dict into model (and optimizer), return the epoch"
    )
