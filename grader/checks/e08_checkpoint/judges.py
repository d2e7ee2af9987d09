"""e08's judges (grader process): each compares a probe's output with the reference's
(or a mutant's) and returns a Verdict; the misconceptions' detectors. NumPy only, no torch:
the checkpoint file's bytes are read by `training.checkpoint_file`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.e08_checkpoint.inputs import K, MOVE_ON
from grader.checks.training import checkpoint_file
from grader.checks.training.inputs import PARAMS
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare, compare_named, kind_of

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


#: Modules whose classes are whole models or optimizers: pickled instead of a state dict
#: (the last: the grader's own reference models, `training.models`, named here: the grader
#: process never imports it).
_OBJECT_MODULES = ("torch.nn.", "torch.optim.", "grader.checks.training.models.")


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


def resume_model(ctx):
    problems = _restored(ctx)
    return failed(t("model_not_restored"), *problems) if problems else passed()


def resume_training(ctx):
    problems = _resume_problems(ctx.out, ctx.ref)
    return failed(t("resume_differs"), *problems) if problems else passed()


def _number(value: Any) -> float | None:
    """The value of an int, float, NumPy scalar or one-element tensor; None otherwise."""
    array = as_array(value)
    return float(array.reshape(-1)[0]) if array is not None and array.size == 1 else None


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


def path_like(ctx):
    problems = _restored(ctx)
    return failed(t("pathlike_failed"), *problems) if problems else passed()


def optimizer_optional(ctx):
    problems = _restored(ctx)
    if problems:
        return failed(t("model_not_restored"), *problems)
    default = ctx.out.get("map_location_default") if isinstance(ctx.out, dict) else None
    if default is not None and default not in ("'cpu'", "device(type='cpu')"):
        return failed(t("map_location_default", got=default), fraction=0.5)
    # the epoch comes back without an optimizer too (a return indented under the
    # optimizer's `if` gives None); its type is returns_epoch's to judge
    got, other = ctx.out.get("epoch"), ctx.out.get("epoch_with_optimizer")
    if _number(got) != _number(other):
        return failed(t("epoch_without_optimizer", got=_shown(got), other=_shown(other)),
                      fraction=0.5)
    return passed()


def _shown(value: Any) -> str:
    number = _number(value)
    if isinstance(value, int) or number is None:
        return str(value) if isinstance(value, int) or value is None else kind_of(value)
    return t("kind_value", kind=kind_of(value), value=f"{number:g}")


def cuda_checkpoint_on_cpu(ctx):
    elsewhere = [name for name, where in ctx.out["places"].items() if where != "cpu"]
    if elsewhere:
        return failed(t("on_cpu_after_load", what=", ".join(sorted(elsewhere))))
    loaded = _restored(ctx)
    if loaded:
        return failed(t("model_not_restored"), *loaded)
    problems = _resume_problems(ctx.out, ctx.ref, CUDA_RTOL, CUDA_RTOL)
    return failed(t("resume_differs"), *problems) if problems else passed()


# ------------------------------------------------------------------ misconceptions (detected)

def live_state(ctx) -> bool:
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


def precision_lost(ctx) -> bool:
    """Every weight came back close to the saved one (within 1%), but not exactly: stored
    at reduced precision (half, bfloat16) or rounded on the way."""
    loaded, saved = ctx.out.get("loaded"), ctx.ref.get("loaded")
    if not isinstance(loaded, dict) or not isinstance(saved, dict) or not saved:
        return False
    inexact = False
    for name, value in saved.items():
        have, want = as_array(loaded.get(name)), as_array(value)
        if have is None or want is None or have.shape != want.shape:
            return False
        if np.max(np.abs(have - want)) > 1e-2 * np.max(np.abs(want)):
            return False
        inexact = inexact or not np.array_equal(have, want)
    return inexact  # every weight exact: nothing was lost (the check failed for another reason)

