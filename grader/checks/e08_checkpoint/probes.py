"""e08's probes (the student's and the reference's workers): each hands the submitted
save_checkpoint / load_checkpoint the grader's own model and SGD-with-momentum optimizer
(`training.models`) in a known state, and returns what came back (file_format: the file's
raw bytes, which the grader reads itself).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np
import torch

from grader.checks.e08_checkpoint.inputs import K, LEARNING_RATE, MOMENTUM, MOVE_ON
from grader.checks.training import models
from grader.checks.training.checkpoint_file import MAX_FILE_BYTES
from grader.exercise import Skip

# Files go to the worker's current directory, a private scratch directory, under absolute
# paths (as a caller would give them: `os.makedirs(os.path.dirname(path))` works too), each
# named with the seed's tag: no fixed name a submission might write instead is the one read.


def _path(inputs, kind: str) -> str:
    return os.path.join(os.getcwd(), _name(inputs, kind))


def _name(inputs, kind: str) -> str:
    return f"{kind}-{int(inputs['file_tag'])}.pt"


def _epoch(inputs) -> int:
    return int(inputs["epoch"])


def _training_goes_on(model, optimizer) -> None:
    """After saving, the original model and optimizer move on (as training does): loading
    must bring back what the file holds, not what the live objects hold now."""
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(MOVE_ON[0]).add_(MOVE_ON[1])
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value) and value.is_floating_point():
                    value.mul_(MOVE_ON[0]).add_(MOVE_ON[1])


def _saved_state(inputs, device: str = "cpu"):
    """The model and SGD-with-momentum optimizer to save: the seeded weights, and the
    seeded momentum buffers in the optimizer's state (as after some steps of training)."""
    model = models.build(inputs, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    for name, param in model.named_parameters():
        optimizer.state[param]["momentum_buffer"] = torch.tensor(
            inputs["momentum." + name], dtype=torch.float32, device=device)
    return model, optimizer


def _fresh(inputs):
    """A model with OTHER weights and an optimizer without state: loading must fix both."""
    model = models.build(inputs, other=True)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


def file_format(sub, inputs):
    """The file's bytes, for the grader to read (see `checkpoint_file`)."""
    path = _path(inputs, "checkpoint")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, _epoch(inputs))
    if not os.path.isfile(path):
        return {"exists": False, "size": 0, "bytes": None}
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        return {"exists": True, "size": size, "bytes": None}
    with open(path, "rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    return {"exists": True, "size": len(raw), "bytes": np.frombuffer(raw, dtype=np.uint8)}


def resume(sub, inputs):
    path = _path(inputs, "resume")
    x, y = models.tensors(inputs)
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, _epoch(inputs))
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh, fresh_optimizer)
    loaded = models.params(fresh)
    losses = models.sgd_steps(fresh, fresh_optimizer, x, y, K)
    return {"epoch": epoch, "loaded": loaded, "losses": losses,
            "params": models.params(fresh)}


def pathlike(sub, inputs):
    path = Path(_name(inputs, "pathlike")).absolute()
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, _epoch(inputs))
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    # map_location given by name, as the signature promises (on every machine, not only
    # where CUDA makes the GPU check run)
    sub.load_checkpoint(path, fresh, fresh_optimizer, map_location="cpu")
    return {"loaded": models.params(fresh)}


def without_optimizer(sub, inputs):
    path = _path(inputs, "model_only")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, _epoch(inputs))
    _training_goes_on(model, optimizer)
    fresh, _ = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh)      # optimizer left at its default, None
    loaded = models.params(fresh)
    # the same file with an optimizer: a return that depends on it shows (returns_epoch
    # judges the value itself)
    try:
        with_optimizer = sub.load_checkpoint(path, *_fresh(inputs))
    except Exception:  # noqa: BLE001 - loading with an optimizer is the resume checks' to judge
        with_optimizer = epoch
    return {"loaded": loaded, "epoch": epoch, "epoch_with_optimizer": with_optimizer,
            "map_location_default": _default_of(sub.load_checkpoint, "map_location")}


def _default_of(function, name: str) -> str | None:
    """repr of a parameter's default ("'cpu'"), or None when it has none or it cannot be
    read (then nothing is said: the calls decide)."""
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return repr(parameter.default)[:80]


def cuda_to_cpu(sub, inputs):
    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    path = _path(inputs, "from_cuda")
    model, optimizer = _saved_state(inputs, device="cuda")
    sub.save_checkpoint(path, model, optimizer, _epoch(inputs))
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh, fresh_optimizer, map_location="cpu")
    loaded = models.params(fresh)
    places = {f"parameter {n}": str(p.device) for n, p in fresh.named_parameters()}
    for index, state in enumerate(fresh_optimizer.state.values()):
        for key, value in state.items():
            if torch.is_tensor(value):
                places[f"optimizer state {index}.{key}"] = str(value.device)
    x, y = models.tensors(inputs)
    losses = models.sgd_steps(fresh, fresh_optimizer, x, y, K)
    return {"epoch": epoch, "loaded": loaded, "places": places, "losses": losses,
            "params": models.params(fresh)}

