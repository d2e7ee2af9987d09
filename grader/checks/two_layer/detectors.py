"""Grader: the detectors of the two-layer exercises' misconceptions (e01-e03), NumPy only.

A detector names a wrong idea from the outputs alone, where no mutant run in the
reference worker can: a signature's defaults, a run that follows the reference's path
at another rate, weights kept at reduced precision, a run too long to replay for every
mutant (train_at_scale: replayed here, only for a student who failed it).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.checks.two_layer.inputs import LARGE_STEPS, ORDER, part
from grader.checks.two_layer.judges import (TOLERANCES, first_off, judge_train_at_scale,
                                            triple)
from grader.checks.two_layer.variants import DEFAULTS, buggy_grads, buggy_train
from grader.exercise import JudgeContext
from grader.judging import as_array, compare, scalar_ratio, tolerance


# ------------------------------------------------------------------ the grads function

def batches_averaged(ctx: JudgeContext) -> bool:
    """Right on SMALL data (up to 24 rows), but on LARGE data both gradients are the right
    ones divided by the number of mini-batches of 8, 16, 32 or 64 rows."""
    got, want = triple(ctx.out.get("large")), triple(ctx.ref.get("large"))
    small, small_want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if not (got and want and small and small_want) or \
            compare("", small[1], small_want[1], TOLERANCES.grads):
        return False
    rows = ctx.inputs["large_x"].shape[0]
    ratios = []
    for index in (1, 2):
        have, expected = as_array(got[index]), as_array(want[index])
        if have is None or expected is None or have.shape != expected.shape:
            return False
        ratios.append(scalar_ratio(have, expected))
    return any(all(r is not None and abs(r * -(-rows // size) - 1) < 1e-3 for r in ratios)
               for size in (8, 16, 32, 64))


def grads_doubled(ctx: JudgeContext) -> bool:
    """Both gradients are twice the reference's (the loss may be right or not)."""
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if not got or not want:
        return False
    for index in (1, 2):
        have, expected = as_array(got[index]), as_array(want[index])
        if have is None or expected is None or have.shape != expected.shape:
            return False
        ratio = scalar_ratio(have, expected)
        if ratio is None or abs(ratio - 2.0) > 1e-3:
            return False
    return True


# ------------------------------------------------------------------ the train function

def matches_at_scale(change: dict[str, Any], dtype: str) -> Callable[[JudgeContext], bool]:
    """A detector for train_at_scale: the judge passes when the reference is the mutant
    buggy_train(**change), run here on the probe's own data (default run, LARGE run), in
    the dtype the probe hands over."""
    def detect(ctx: JudgeContext) -> bool:
        default, large = (part(ctx.inputs, prefix) for prefix in ("default_", "large_"))
        ref = {"returned": buggy_train(*(default[k].astype(dtype) for k in ORDER),
                                       DEFAULTS["learning_rate"], DEFAULTS["steps"], **change),
               "large": buggy_train(*(large[k].astype(dtype) for k in ORDER),
                                    float(large["learning_rate"]), LARGE_STEPS, **change)}
        with np.errstate(all="ignore"):
            return judge_train_at_scale(JudgeContext(ctx.out, ref, ctx.inputs, ctx.seed)).passed
    return detect


def wrong_default(ctx: JudgeContext) -> bool:
    """The signature declares another default than the contract's."""
    declared = ctx.out.get("declared") or {}
    return any(value != DEFAULTS[name] for name, value in declared.items())


def learning_rate_changes(ctx: JudgeContext) -> bool:
    """The default run is right for two updates or more, then drifts far away, though the
    defaults declared are right, and its final weights lie on the reference's own descent
    path (somewhere else along it): the same steps, taken at another rate. Gradients that
    accumulate or go stale drift from update 2 as well, but leave the path."""
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if not got or not want or wrong_default(ctx):
        return False
    first = first_off(got[2], want[2], TOLERANCES.default_losses)
    if first is None or first < 2 or not compare("", got[2], want[2],
                                                   100 * TOLERANCES.default_losses):
        return False
    w1, w2 = as_array(got[0]), as_array(got[1])
    start = part(ctx.inputs, "default_")
    if w1 is None or w2 is None or w1.shape != start["w1"].shape or \
            w2.shape != start["w2"].shape:
        return False
    return _distance_to_path(start, w1, w2) <= PATH_RTOL


#: How far (as judging.compare's rtol) weights trained at a changed rate stay from the
#: points of the constant-rate path: 3.4e-3 at most for a rate halved at step 100, decayed
#: by 0.999 or 0.99 a step; accumulated or stale gradients land 3.6 or more away.
PATH_RTOL = 3e-2


def _distance_to_path(start: dict[str, np.ndarray], w1: np.ndarray, w2: np.ndarray) -> float:
    """How close (w1, w2) comes to the polyline of the default run's reference weights."""
    x, y, p1, p2 = (start[k] for k in ORDER)
    have = np.concatenate([w1.ravel(), w2.ravel()])
    previous = np.concatenate([p1.ravel(), p2.ravel()])
    best = np.inf
    with np.errstate(all="ignore"):
        for _ in range(DEFAULTS["steps"]):
            _, g1, g2 = buggy_grads(x, y, p1, p2)
            p1, p2 = p1 - DEFAULTS["learning_rate"] * g1, p2 - DEFAULTS["learning_rate"] * g2
            current = np.concatenate([p1.ravel(), p2.ravel()])
            segment = current - previous
            along = np.clip(np.dot(have - previous, segment) /
                            max(float(np.dot(segment, segment)), 1e-300), 0.0, 1.0)
            point = previous + along * segment
            best = min(best, float(np.max(np.abs(have - point) / tolerance(point, 1.0))))
            previous = current
    return best


def ascends(ctx: JudgeContext) -> bool:
    """The losses follow gradient ascent for as long as they stay finite.

    Ascent blows up fast: in float32 the losses reach infinity within the probe's steps,
    and the mutant (float64) stays finite, so its judge cannot match; compare the start."""
    got = triple(ctx.out["returned"])
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or rate is None or not steps:
        return False
    losses = as_array(got[2]) if isinstance(got[2], (list, tuple)) else None
    if losses is None or losses.shape != (steps,):
        return False
    want = np.array(buggy_train(*(ctx.inputs[k] for k in ORDER), rate, steps, sign=-1.0)[2])
    usable = np.isfinite(losses) & np.isfinite(want) & (np.abs(want) < 1e30)
    count = int(np.argmin(usable)) if not usable.all() else steps
    if count < 3 or not want[count - 1] > 1.5 * want[0]:
        return False
    return bool(np.all(np.abs(losses[:count] - want[:count]) <= 1e-3 * np.abs(want[:count])))


def weights_unchanged(ctx: JudgeContext) -> bool:
    """The returned weights are the initial ones (to rounding); the reference's moved."""
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if not got or not want:
        return False
    start = part(ctx.inputs, ctx.out.get("prefix", ""))
    return (not compare("", got[0], start["w1"], 1e-6)
            and not compare("", got[1], start["w2"], 1e-6)
            and bool(compare("", want[0], start["w1"], 1e-6)))


def decays_at_minimum(ctx: JudgeContext) -> bool:
    """Started where the gradient is 0 (probe_train's at_minimum run), the weights moved
    away from the reference's along the path of an L2 penalty (weight decay), at some
    positive strength: w -= learning_rate * (grad + decay * w)."""
    got, want = triple(ctx.out.get("at_minimum")), triple((ctx.ref or {}).get("at_minimum"))
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or not want or rate is None or not steps:
        return False
    start = part(ctx.inputs, "min_")
    unit = 1e-6   # small enough that the path is linear in the strength
    w1, w2, _ = buggy_train(*(start[k] for k in ORDER), rate, steps, weight_decay=unit)
    path = np.concatenate([(w1 - start["w1"]).ravel(), (w2 - start["w2"]).ravel()])
    parts = [as_array(got[0]), as_array(got[1]), as_array(want[0]), as_array(want[1])]
    if any(p is None for p in parts) or parts[0].shape != parts[2].shape or \
            parts[1].shape != parts[3].shape:
        return False
    moved = np.concatenate([(parts[0] - parts[2]).ravel(), (parts[1] - parts[3]).ravel()])
    if not np.all(np.isfinite(moved)):
        return False
    # float32 rounds each tiny decay step (a few ulps): the shape matches within 25%
    strength = scalar_ratio(moved, path, rtol=0.25)
    return strength is not None and strength > 0


def reduced_precision(ctx: JudgeContext) -> bool:
    """The returned weights are all exactly float16 (or bfloat16) numbers, the reference's
    are not: the weights were kept at reduced precision."""
    def coarse(value: Any) -> bool:
        array = as_array(value)
        if array is None or not array.size or not np.all(np.isfinite(array)):
            return False
        as32 = array.astype(np.float32)
        return bool(np.array_equal(array.astype(np.float16).astype(np.float64), array) or
                    (np.array_equal(as32.astype(np.float64), array)
                     and not np.any(as32.view(np.uint32) & 0xFFFF)))
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    return bool(got and want and coarse(got[0]) and coarse(got[1])
                and not (coarse(want[0]) and coarse(want[1])))


def same_at_other_rate(ctx: JudgeContext) -> bool:
    """Trained at two learning rates (probe_train's other_lr), the results are the same,
    though the weights did move and the reference's two runs differ."""
    got, other = triple(ctx.out["returned"]), triple(ctx.out.get("other_lr"))
    want, want_other = triple(ctx.ref["returned"]), triple(ctx.ref.get("other_lr"))
    if not (got and other and want and want_other):
        return False
    if not compare("", want_other[0], want[0], 1e-4):
        return False   # the probe's two rates do not tell runs apart
    if not compare("", got[0], ctx.inputs["w1"], 1e-6):
        return False   # nothing moved: that is no_update
    same = not compare("", other[0], got[0], 1e-6) and not compare("", other[1], got[1], 1e-6)
    if isinstance(got[2], (list, tuple)) and isinstance(other[2], (list, tuple)):
        same = same and as_array(got[2]) is not None and \
            not compare("", other[2], got[2], 1e-6)
    return same


def length_differs(ctx: JudgeContext, by: int | None = None) -> bool:
    """The losses list is longer or shorter than the reference's (by exactly `by`)."""
    got, want = triple(ctx.out["returned"]), triple(ctx.ref["returned"])
    if not (got and want and isinstance(got[2], (list, tuple))
            and isinstance(want[2], (list, tuple))):
        return False
    difference = abs(len(got[2]) - len(want[2]))
    return difference != 0 if by is None else difference == by


def weights_off_by_one_step(ctx: JudgeContext) -> bool:
    """The weights are those after steps - 1 or steps + 1 correct updates."""
    got = triple(ctx.out["returned"])
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or rate is None or not steps:
        return False
    args = [ctx.inputs[k] for k in ORDER]
    for extra in (-1, 1):
        w1, w2, _ = buggy_train(*args, rate, steps, extra_steps=extra)
        if not compare("", got[0], w1, 1e-3) and not compare("", got[1], w2, 1e-3):
            return True
    return False
