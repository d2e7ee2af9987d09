"""Reference: save and restore a training checkpoint (model, optimizer, epoch)."""
import torch


def save_checkpoint(path, model, optimizer, epoch):
    """Save model and optimizer state dicts and the epoch to `path`."""
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": int(epoch)},
        path,
    )


def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
    """Restore model (and optimizer) in place from `path`; return the saved epoch."""
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    return int(checkpoint["epoch"])
