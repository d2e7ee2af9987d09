"""e08: save and restore a training checkpoint (model, optimizer, epoch).

The probes hand the student a model and an SGD-with-momentum optimizer in a known state
(the grader's own reference model, `reference_models`; weights and momentum buffers drawn
from the seed), so the grader knows every saved value exactly, without running torch.

PROBE PLAN (all sizes and values drawn from the grader's seed):
- file_format: save_checkpoint(path, model, optimizer, epoch) with a str path; the probe
  sends back the file's raw bytes (at most `checkpoint_file.MAX_FILE_BYTES`). The grader
  reads them itself, under torch's weights_only rules, without torch
  (`checkpoint_file`): the worker ran student code, so nothing it says about the file is
  trusted. The file must hold the model's weights exactly (bit for bit, so half,
  bfloat16 or rounded copies fail), and the momentum buffers exactly where it holds them.
- resume: save, let the original train on (`MOVE_ON`), load into a FRESH model (other
  weights) and a FRESH optimizer (no momentum buffers), then K more steps with momentum.
  The loaded weights must equal the saved ones exactly; the K steps must match the
  uninterrupted run to float32 round-off (`RESUME_RTOL`), so a lost or rounded optimizer
  state shows.
- pathlike: a pathlib.Path, map_location given by name. without_optimizer:
  load_checkpoint(path, model), optimizer left at its default. cuda_to_cpu (GPU only).
"""

from __future__ import annotations

from pathlib import Path

import os
from typing import Any

import numpy as np

from grader import course, hookimpl
from grader.checks import checkpoint_file
from grader.checks import reference_models as models
from grader.exercise import Exercise, Skip, failed, passed, t
from grader.judging import as_array, compare, compare_named, kind_of

PARAMS = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")
LEARNING_RATE, MOMENTUM = 3e-3, 0.9
K = 3          # steps after the checkpoint
EPOCH = 7      # the epoch handed to save_checkpoint (any int; not K, to tell them apart)
MOVE_ON = (-0.5, 0.25)   # after saving, every parameter p of the original becomes -0.5 p + 0.25
#: The momentum buffers are drawn at the size of a real step's gradient (|grad| is 20-50
#: here), so that a lost or rounded buffer changes the next steps clearly.
BUFFER_SCALE = 3.0
#: Resumed training against the uninterrupted run. Measured on the reference (float32
#: against float64, seeds 0-19): the losses differ by at most 1.3e-7 relative, the distance
#: the K steps move each weight by at most 9.6e-7 (relative, in norm over the weight);
#: momentum buffers stored in half precision move it by 3.1e-5 or more, in bfloat16 by
#: 2.4e-4, a lost optimizer state by 0.16 or more.
RESUME_LOSS_RTOL = 1e-6
RESUME_RTOL = 5e-6
#: The same on a GPU (not measured: no GPU where this was written; CUDA kernels may sum
#: in another order from run to run), kept wider.
CUDA_RTOL = 1e-4
#: For the live-state detector only: the original's weights moved on, in float32.
LIVE_RTOL = 1e-6


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """Sizes, data, two sets of weights (saved / fresh) and the saved momentum buffers."""
    rng = np.random.default_rng([seed, 8])
    n, d_in, h, d_out = (int(rng.integers(12, 25)), int(rng.integers(4, 9)),
                         int(rng.integers(6, 11)), int(rng.integers(2, 5)))
    data = models.make_data(seed, n, d_in, h, d_out)
    for name in PARAMS:
        data["momentum." + name] = rng.standard_normal(data[name].shape) * BUFFER_SCALE
    return data


ENTRY = course.entry("e08_checkpoint")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker side)
# Files go to the worker's current directory, a private scratch directory, under absolute
# paths (as a caller would give them: `os.makedirs(os.path.dirname(path))` works too).


def _path(name: str) -> str:
    return os.path.join(os.getcwd(), name)


def _training_goes_on(model, optimizer) -> None:
    """After saving, the original model and optimizer move on (as training does): loading
    must bring back what the file holds, not what the live objects hold now."""
    import torch

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
    import torch

    model = models.build(inputs, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    for name, param in model.named_parameters():
        optimizer.state[param]["momentum_buffer"] = torch.tensor(
            inputs["momentum." + name], dtype=torch.float32, device=device)
    return model, optimizer


def _fresh(inputs):
    """A model with OTHER weights and an optimizer without state: loading must fix both."""
    import torch

    model = models.build(inputs, other=True)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


@EXERCISE.probe
def file_format(sub, inputs):
    """The file's bytes, for the grader to read (see `checkpoint_file`)."""
    path = _path("checkpoint.pt")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    if not os.path.isfile(path):
        return {"exists": False, "size": 0, "bytes": None}
    size = os.path.getsize(path)
    if size > checkpoint_file.MAX_FILE_BYTES:
        return {"exists": True, "size": size, "bytes": None}
    with open(path, "rb") as file:
        raw = file.read(checkpoint_file.MAX_FILE_BYTES + 1)
    return {"exists": True, "size": len(raw), "bytes": np.frombuffer(raw, dtype=np.uint8)}


@EXERCISE.probe
def resume(sub, inputs):
    path = _path("resume.pt")
    x, y = models.tensors(inputs)
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh, fresh_optimizer)
    loaded = models.params(fresh)
    losses = models.sgd_steps(fresh, fresh_optimizer, x, y, K)
    return {"epoch": epoch, "loaded": loaded, "losses": losses,
            "params": models.params(fresh)}


@EXERCISE.probe
def pathlike(sub, inputs):
    from pathlib import Path

    path = Path("pathlike.pt").absolute()
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    # map_location given by name, as the signature promises (on every machine, not only
    # where CUDA makes the GPU check run)
    sub.load_checkpoint(path, fresh, fresh_optimizer, map_location="cpu")
    return {"loaded": models.params(fresh)}


@EXERCISE.probe
def without_optimizer(sub, inputs):
    path = _path("model_only.pt")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, _ = _fresh(inputs)
    sub.load_checkpoint(path, fresh)      # optimizer left at its default, None
    return {"loaded": models.params(fresh),
            "map_location_default": _default_of(sub.load_checkpoint, "map_location")}


def _default_of(function, name: str) -> str | None:
    """repr of a parameter's default ("'cpu'"), or None when it has none or it cannot be
    read (then nothing is said: the calls decide)."""
    import inspect

    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return repr(parameter.default)[:80]


@EXERCISE.probe
def cuda_to_cpu(sub, inputs):
    import torch

    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    path = _path("from_cuda.pt")
    model, optimizer = _saved_state(inputs, device="cuda")
    sub.save_checkpoint(path, model, optimizer, EPOCH)
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


# ------------------------------------------------------------------ judges (grader side)

def _expected(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    """The saved values as the model and optimizer held them: float32, widened exactly."""
    return {name: np.asarray(inputs[prefix + name], dtype=np.float32).astype(np.float64)
            for name in PARAMS}


def _number_runs(value: Any, seen: set[int], depth: int = 0) -> list[tuple[np.ndarray, str]]:
    """Every run of numbers the file holds, flattened: each tensor (with its dtype) and
    each list or tuple of plain numbers (Python floats: float64). Parts the file shares
    (pickle's memo) are visited once."""
    if depth > checkpoint_file.MAX_DEPTH or id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, checkpoint_file.StoredTensor):
        if value.array.dtype.kind in "fiu":
            return [(value.array.astype(np.float64).reshape(-1), value.dtype)]
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        numbers = _flat_numbers(value)
        if numbers is not None:
            return [(numbers, "float64")]
        return [run for item in value for run in _number_runs(item, seen, depth + 1)]
    return []


#: The most items a list saved in a checkpoint is walked for (a few models' worth).
MAX_LIST_ITEMS = 1_000_000


def _flat_numbers(value: list | tuple) -> np.ndarray | None:
    """A (nested) list of plain numbers, as tensor.tolist() gives, flattened in order;
    None when anything else is in it."""
    flat: list[float] = []
    stack = [iter(value)]
    visited = 0
    while stack:
        item = next(stack[-1], stack)
        visited += 1
        if visited > MAX_LIST_ITEMS:  # a list that holds itself many times over (pickle's
            return None               # memo shares it): no state dict is that big
        if item is stack:
            stack.pop()
        elif isinstance(item, (list, tuple)) and len(stack) < checkpoint_file.MAX_DEPTH:
            stack.append(iter(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            flat.append(float(item))
        else:
            return None
    return np.array(flat) if flat else None


def _held(runs: list[tuple[np.ndarray, str]], want: np.ndarray) -> tuple[bool, str, float]:
    """Whether `want` is held exactly (as one contiguous run, in C or transposed order) in
    one of `runs`; else the dtype and largest error of the closest run of its size."""
    closest = ("", np.inf)
    orders = [want.reshape(-1)] + ([want.T.reshape(-1)] if want.ndim == 2 else [])
    for values, dtype in runs:
        for target in orders:
            if values.size < target.size:
                continue
            if values.size == target.size:
                starts = [0]
            else:
                starts = np.flatnonzero(values[: values.size - target.size + 1] == target[0])
            for start in starts[:64]:
                part = values[start:start + target.size]
                if np.array_equal(part, target):
                    return True, dtype, 0.0
            if values.size == target.size:
                error = float(np.max(np.abs(values - target)))
                if error < closest[1]:
                    closest = (dtype, error)
    return False, closest[0], closest[1]


def _file_problems(decoded: Any, inputs) -> tuple[list, bool]:
    """What is wrong with the values in the file: each weight must be in it exactly; a
    momentum buffer need not be there (resume_training judges the optimizer), but where a
    copy close to it is, that copy must be exact too. Also: whether some value is only
    approximately there (stored at reduced precision)."""
    runs = _number_runs(decoded, set())
    missing = []
    rounded: dict[str, list[str]] = {"": [], "momentum.": []}
    dtypes, worst = set(), 0.0
    for prefix in rounded:
        for name, want in _expected(inputs, prefix).items():
            exact, dtype, error = _held(runs, want)
            if exact:
                continue
            if dtype and error <= 1e-2 * float(np.max(np.abs(want))):
                rounded[prefix].append(name)
                dtypes.add(dtype)
                worst = max(worst, error)
            elif not prefix:
                missing.append(name)
    lines = [t("weights_not_in_file", names=", ".join(missing))] if missing else []
    for prefix, names in rounded.items():
        if names:
            what = ", ".join(names) if not prefix else \
                t("label_momentum_buffers", names=", ".join(names))
            lines.append(t("not_exact_in_file", what=what, dtype=", ".join(sorted(dtypes)),
                           err=worst))
    return lines, bool(rounded[""] or rounded["momentum."])


#: Modules whose classes are whole models or optimizers: pickled instead of a state dict.
_OBJECT_MODULES = ("torch.nn.", "torch.optim.", models.__name__ + ".")


@EXERCISE.check(points=1.5, probe="file_format")
def weights_only_file(ctx):
    out = ctx.out
    if not out["exists"]:
        return failed(t("no_file"))
    if out["bytes"] is None:
        return failed(t("file_too_big", size=out["size"],
                        limit=checkpoint_file.MAX_FILE_BYTES))
    raw = as_array(out["bytes"])
    if raw is None or raw.ndim != 1:
        return failed(t("no_file"))
    try:
        decoded = checkpoint_file.read_checkpoint(raw.astype(np.uint8).tobytes())
    except checkpoint_file.NotAllowed as exc:
        line = t("not_weights_only", error=str(exc))
        if exc.name.startswith(_OBJECT_MODULES):
            return failed(line, t("holds_objects", objects=exc.name.rsplit(".", 1)[-1]),
                          misconception="pickled_model")
        return failed(line)
    except checkpoint_file.Refused as exc:
        return failed(t("not_weights_only", error=str(exc)))
    except checkpoint_file.Unreadable as exc:
        return failed(t("unreadable_file", error=str(exc)))
    except Exception as exc:  # noqa: BLE001 - whatever else a hostile file provokes: a verdict
        return failed(t("unreadable_file", error=f"{type(exc).__name__} while reading it"))
    problems, rounded = _file_problems(decoded, ctx.inputs)
    if not problems:
        return passed()
    return failed(*problems, misconception="precision_lost" if rounded else None)


def _exact_problems(got: Any, want: dict[str, Any], when) -> list:
    """Each named array of `got` equal to `want`'s, bit for bit (as float32 holds them);
    the ones that are only close are reported together, in one line."""
    got = got if isinstance(got, dict) else {}
    problems: list = []
    inexact, worst = [], 0.0
    for name, expected in want.items():
        have, wanted = as_array(got.get(name)), as_array(expected)
        if have is None or wanted is None or have.shape != wanted.shape:
            problems += compare(t("label_when", when=when, name=name), got.get(name), expected)
        elif not np.array_equal(have, wanted):
            inexact.append(name)
            worst = max(worst, float(np.max(np.abs(have - wanted))))
    if inexact:
        problems.append(t("not_exact", label=t("label_when", when=when, name=", ".join(inexact)),
                          err=worst))
    return problems


def _restored(ctx) -> list:
    return _exact_problems(ctx.out["loaded"], ctx.ref["loaded"], t("when_after_loading"))


def _moved(params: Any, start: dict[str, Any]) -> dict[str, Any]:
    """How far each weight moved from `start` (params minus start; None where unknown)."""
    params = params if isinstance(params, dict) else {}
    moved = {}
    for name, origin in start.items():
        have, base = as_array(params.get(name)), as_array(origin)
        moved[name] = params.get(name) if have is None or base is None or \
            have.shape != base.shape else have - base
    return moved


def _resume_problems(out: dict, ref: dict, loss_rtol: float = RESUME_LOSS_RTOL,
                     rtol: float = RESUME_RTOL) -> list:
    """The K steps after loading against the reference's: losses to float32 round-off,
    and how far each weight moved (a lost or rounded momentum buffer shows there)."""
    start = ref["loaded"]
    moved_out, moved_ref = _moved(out["params"], start), _moved(ref["params"], start)
    problems = compare(t("label_losses_resumed"), out["losses"], ref["losses"], loss_rtol)
    for name in moved_ref:
        label = t("label_moved", when=t("when_after_more_steps", steps=K), name=name)
        have, want = as_array(moved_out[name]), as_array(moved_ref[name])
        if have is None or want is None or have.shape != want.shape \
                or not np.all(np.isfinite(have)):
            problems += compare(label, moved_out[name], moved_ref[name])
            continue
        # one relative error per weight, in norm: rounding scatters at random over the
        # elements, a rounded momentum buffer shifts them all (see RESUME_RTOL)
        error, size = float(np.linalg.norm(have - want)), float(np.linalg.norm(want))
        if error > rtol * size + 1e-12:
            problems.append(t("moved_off", label=label, rel=error / (size or 1.0)))
    return problems


@EXERCISE.check(points=2, probe="resume")
def resume_model(ctx):
    problems = _restored(ctx)
    return failed(t("model_not_restored"), *problems) if problems else passed()


@EXERCISE.check(points=2, probe="resume")
def resume_training(ctx):
    problems = _resume_problems(ctx.out, ctx.ref)
    return failed(t("resume_differs"), *problems) if problems else passed()


def _number(value: Any) -> float | None:
    """The value of an int, float, NumPy scalar or one-element tensor; None otherwise."""
    array = as_array(value)
    return float(array.reshape(-1)[0]) if array is not None and array.size == 1 else None


@EXERCISE.check(points=1, probe="resume")
def returns_epoch(ctx):
    got, want = ctx.out["epoch"], ctx.ref["epoch"]
    value = _number(got)
    if isinstance(got, int) and not isinstance(got, bool):
        return passed() if got == want else failed(t("epoch_wrong", expected=want, got=got))
    if value is None:
        return failed(t("epoch_not_int", got=kind_of(got)))
    shown = t("kind_value", kind=kind_of(got), value=f"{value:g}")
    if value != want:
        return failed(t("epoch_wrong", expected=want, got=shown))
    return failed(t("epoch_not_int", got=shown), fraction=0.5)


@EXERCISE.check(points=0.5, probe="pathlike")
def path_like(ctx):
    problems = _restored(ctx)
    return failed(t("pathlike_failed"), *problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="without_optimizer")
def optimizer_optional(ctx):
    problems = _restored(ctx)
    if problems:
        return failed(t("model_not_restored"), *problems)
    default = ctx.out.get("map_location_default") if isinstance(ctx.out, dict) else None
    if default is not None and default not in ("'cpu'", "device(type='cpu')"):
        return failed(t("map_location_default", got=default), fraction=0.5)
    return passed()


@EXERCISE.check(points=0.5, probe="cuda_to_cpu", needs_cuda=True)
def cuda_checkpoint_on_cpu(ctx):
    elsewhere = [name for name, where in ctx.out["places"].items() if where != "cpu"]
    if elsewhere:
        return failed(t("on_cpu_after_load", what=", ".join(sorted(elsewhere))))
    loaded = _restored(ctx)
    if loaded:
        return failed(t("model_not_restored"), *loaded)
    problems = _resume_problems(ctx.out, ctx.ref, CUDA_RTOL, CUDA_RTOL)
    return failed(t("resume_differs"), *problems) if problems else passed()


# ------------------------------------------------------------------ misconceptions

def _without_optimizer_state(ref: dict) -> dict:
    import torch

    def save_checkpoint(path, model, optimizer, epoch):
        torch.save({"model": model.state_dict(), "epoch": int(epoch)}, path)

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        return int(checkpoint["epoch"])
    return {"save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint}


def _not_in_place(ref: dict) -> dict:
    import copy

    import torch

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


def _model_only_with_optimizer(ref: dict) -> dict:
    import torch

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        if optimizer is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        return int(checkpoint["epoch"])
    return {"load_checkpoint": load_checkpoint}


EXERCISE.misconception("load_not_in_place", checks=("resume_model", "resume_training",
                                                    "path_like", "optimizer_optional"))(
    _not_in_place)
EXERCISE.misconception("optimizer_state_missing", checks=("resume_training",))(
    _without_optimizer_state)
# Its only symptom is without an optimizer: listed on that check alone (a misconception
# is named only when every check it lists shows the mutant's outputs).
EXERCISE.misconception("model_only_with_optimizer", checks=("optimizer_optional",))(
    _model_only_with_optimizer)


def _live_state(ctx) -> bool:
    """The loaded model holds what the original holds after saving (see `MOVE_ON`)."""
    loaded, saved = ctx.out.get("loaded"), ctx.ref.get("loaded")
    if not isinstance(loaded, dict) or not isinstance(saved, dict) or not saved:
        return False
    moved_on = {}
    for name, value in saved.items():
        array = as_array(value)
        if array is None:
            return False
        moved_on[name] = array * MOVE_ON[0] + MOVE_ON[1]
    return not compare_named(loaded, moved_on, LIVE_RTOL)


def _precision_lost(ctx) -> bool:
    """Every weight came back close to the saved one (within 1%), but not exactly: stored
    at reduced precision (half, bfloat16) or rounded on the way."""
    loaded, saved = ctx.out.get("loaded"), ctx.ref.get("loaded")
    if not isinstance(loaded, dict) or not isinstance(saved, dict) or not saved:
        return False
    for name, value in saved.items():
        have, want = as_array(loaded.get(name)), as_array(value)
        if have is None or want is None or have.shape != want.shape:
            return False
        if np.max(np.abs(have - want)) > 1e-2 * np.max(np.abs(want)):
            return False
    return True


EXERCISE.misconception("precision_lost", detect=_precision_lost,
                       checks=("resume_model", "path_like", "optimizer_optional"))(None)
EXERCISE.misconception("live_state", detect=_live_state,
                       checks=("resume_model", "resume_training", "path_like",
                               "optimizer_optional"))(None)


@hookimpl
def grader_exercises():
    return [EXERCISE]
