"""e07's probes (the student's and the reference's workers): each runs the submitted
train / evaluate / pick_device on the grader's own reference model (`training.models`),
loaded with the seeded weights, and returns what came back.

Defined in the order they run (`Exercise.load_worker_code`): training_large last.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import traceback
import types
from typing import Any

import numpy as np
import torch

from grader.checks.e07_training.inputs import (DEFAULTS, LARGE_LEARNING_RATE, LARGE_MOMENTUM,
                                               LARGE_STEPS, LEARNING_RATE, MOMENTUM, STEPS,
                                               draw_large_inputs)
from grader.checks.training import models
from grader.exercise import Skip


#: The large data by seed, drawn once per worker (a plain dict and function: a student's
#: worker keeps only the check code its probes reach, `grader.strip`).
_LARGE: dict[int, dict[str, np.ndarray]] = {}


def _large_inputs(seed: int) -> dict[str, np.ndarray]:
    if seed not in _LARGE:
        _LARGE.clear()
        _LARGE[seed] = draw_large_inputs(seed)
    return _LARGE[seed]


def _part(inputs, prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix):]: value for key, value in inputs.items() if key.startswith(prefix)}


def _as_list(losses: Any) -> Any:
    return list(losses) if isinstance(losses, (list, tuple)) else losses


def _run_train(sub, inputs, momentum: float | None) -> dict:
    model = models.build(inputs)          # fresh: parameters require grad, no .grad yet
    x, y = models.tensors(inputs)
    kwargs = {"steps": STEPS, "learning_rate": LEARNING_RATE}
    if momentum is not None:
        kwargs["momentum"] = momentum
    losses = sub.train(model, x, y, **kwargs)
    return {"losses": _as_list(losses), "params": models.params(model)}


def training(sub, inputs):
    return _run_train(sub, inputs, None)       # momentum left at its default, 0.0


def training_momentum(sub, inputs):
    return _run_train(sub, inputs, MOMENTUM)


def _declared_defaults(function) -> dict[str, Any]:
    """train's own default arguments, as its signature declares them (for the feedback
    only: the verdict comes from what the call with no arguments does)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    return {name: parameters[name].default for name in DEFAULTS
            if name in parameters and parameters[name].default is not inspect.Parameter.empty
            and isinstance(parameters[name].default, (int, float))}


def training_defaults(sub, inputs):
    """train(model, x, y) with every default left out: 500 steps at learning_rate 1e-4."""
    long = _part(inputs, "long.")
    model = models.build(long)
    x, y = models.tensors(long)
    losses = sub.train(model, x, y)
    return {"losses": _as_list(losses), "params": models.params(model),
            "declared": _declared_defaults(sub.train)}


def evaluation(sub, inputs):
    model = models.build(inputs)
    x, y = models.tensors(inputs)
    ((model(x) - y) ** 2).sum().backward()     # gradients evaluate must leave alone
    before = {"params": models.params(model), "grads": models.grads(model)}
    value = sub.evaluate(model, x, y)
    found = {"value": value, "before": before,
             "after": {"params": models.params(model), "grads": models.grads(model)},
             "requires_grad": {n: bool(p.requires_grad) for n, p in model.named_parameters()}}
    large = _large_inputs(int(inputs["seed"]))   # N beyond 64: no size known in advance
    model = models.build(large)
    found["value_large"] = sub.evaluate(model, *models.tensors(large))
    return found


def evaluation_modes(sub, inputs):
    model = models.build(inputs, recording=True)   # in training mode, Dropout(p=0.5) inside
    x, y = models.tensors(inputs)
    models.RECORDS.clear()
    value = sub.evaluate(model, x, y)
    return {"value": value, "records": list(models.RECORDS)}


def _describe_device(chosen) -> dict:
    is_device = isinstance(chosen, torch.device)
    return {"is_device": is_device, "type": chosen.type if is_device else None,
            "text": repr(chosen)[:80], "kind": type(chosen).__name__}


@contextlib.contextmanager
def _cuda_reported(available: bool, accelerator: bool = True):
    """torch.cuda.is_available(), torch.cuda.device_count() (and, with `accelerator`,
    torch.accelerator) say `available`, also through names imported before (`from
    torch.cuda import is_available`): the functions' code is swapped, not the module
    attributes. torch's own optimizers consult torch.accelerator (Adam does), so runs of
    train leave it alone."""
    swapped = []
    stand_ins = ((torch.cuda.is_available, (lambda: True) if available else (lambda: False)),
                 (torch.cuda.device_count, (lambda: 1) if available else (lambda: 0)))
    for function, stand_in in stand_ins:
        if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
            swapped.append((function, function.__code__))
            function.__code__ = stand_in.__code__
    accelerator = getattr(torch._C, "_accelerator_getAccelerator", None) if accelerator else None
    if accelerator is not None:
        torch._C._accelerator_getAccelerator = (
            (lambda: torch.device("cuda")) if available else (lambda: None))
    try:
        if torch.cuda.is_available() is not available:
            raise CannotSimulate("torch.cuda.is_available could not be replaced")
        yield
    finally:
        for function, code in swapped:
            function.__code__ = code
        if accelerator is not None:
            torch._C._accelerator_getAccelerator = accelerator


class CannotSimulate(Exception):
    """This torch's CUDA queries cannot be made to answer otherwise: no verdict then."""


def device(sub, inputs):
    """pick_device on this machine, and with CUDA reported the other way round: the
    verdict must not depend on the machine that grades (a hard-coded "cpu" is right on a
    machine without CUDA only)."""
    cuda = bool(torch.cuda.is_available())
    chosen = sub.pick_device()
    found = {**_describe_device(chosen), "cuda": cuda, "simulated": None,
             "train": _train_where_the_model_is(sub, inputs)}
    if sub.pick_device() is chosen:
        # the very same object again: an answer stored earlier (DEVICE = ... at import,
        # functools.cache), which asking again cannot change
        return found
    try:
        with _cuda_reported(not cuda):
            found["simulated"] = _describe_device(sub.pick_device())
    except Exception:  # noqa: BLE001 - e.g. torch.cuda.current_device() with no CUDA
        found["simulated"] = None
    return found


#: A line of the student's that puts a tensor or a module on a device.
_PLACES_ON_DEVICE = re.compile(r"\.(to|cuda)\s*\(|device\s*=")


def _moved_to_cuda(exc: BaseException, files: set[str]) -> bool:
    """Whether an error under simulated CUDA (no real GPU) comes from the student's own
    code putting something on the GPU (x.to(device), model.cuda(), device=...), and not
    from a harmless CUDA call (torch.cuda.synchronize()) that would work on a real GPU."""
    if "cuda" not in str(exc).lower():
        return False
    own = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
    return bool(own) and bool(_PLACES_ON_DEVICE.search(own[-1].line or ""))


def _train_where_the_model_is(sub, inputs) -> dict | None:
    """train on a CPU model, with CUDA reported absent and then present (for real where
    there is a GPU): it must work both ways and leave the model on the CPU. None when
    train does not even run without CUDA (the training checks say why)."""
    cuda = bool(torch.cuda.is_available())
    files = {getattr(getattr(sub.train, "__code__", None), "co_filename", None)}
    runs = {}
    for label, available in (("without", False), ("with", True)):
        model = models.build(inputs)
        x, y = models.tensors(inputs)
        try:
            with (_cuda_reported(available, accelerator=False) if available != cuda
                  else contextlib.nullcontext()):
                sub.train(model, x, y, steps=2, learning_rate=LEARNING_RATE)
        except CannotSimulate:
            return None
        except Exception as exc:  # noqa: BLE001 - the verdict
            if label == "without":
                return None
            if not cuda and not _moved_to_cuda(exc, files):
                return None   # not a GPU here, and not clearly a device mistake: no verdict
            text = " ".join(str(exc).split())[:160]
            runs[label] = {"error": f"{type(exc).__name__}: {text}"}
            continue
        runs[label] = {"devices": sorted({str(p.device) for p in model.parameters()})}
    return runs


def on_cuda(sub, inputs):
    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    model = models.build(inputs, device="cuda")
    x, y = models.tensors(inputs)                  # on the CPU: train moves them
    losses = sub.train(model, x, y, steps=STEPS, learning_rate=LEARNING_RATE,
                       momentum=MOMENTUM)
    where = str(next(model.parameters()).device)
    value = sub.evaluate(model, x, y)
    return {"losses": _as_list(losses), "params": models.params(model), "device": where,
            "value": value}


# Last: a submission that ignores `steps` runs 500 steps here, at the tutorial's sizes, and
# may run out of time; every other probe has given its result by then.
def training_large(sub, inputs):
    large = _large_inputs(int(inputs["seed"]))
    model = models.build(large)
    x, y = models.tensors(large)
    losses = sub.train(model, x, y, steps=LARGE_STEPS, learning_rate=LARGE_LEARNING_RATE,
                       momentum=LARGE_MOMENTUM)
    # how far each weight moved, taken here: the grader does not draw the large data
    return {"losses": _as_list(losses), "moved": _moved_in_worker(model, large),
            "sizes": [int(n) for n in (*large["x"].shape, *large["linear1.weight"].shape[:1],
                                          large["y"].shape[1])]}


def _moved_in_worker(model, initial) -> dict[str, Any]:
    return {name: param.detach().cpu() - torch.tensor(initial[name], dtype=torch.float32)
            for name, param in model.named_parameters()}
