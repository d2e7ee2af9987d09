"""Shared by the two-layer exercises (e01-e03): data, probes, judges, misconceptions.

Probes here run in the worker and may use torch (imported lazily: the grader's
own process never imports torch). Judges run in the grader on plain data.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.codec import TensorData
from grader.exercise import Exercise, JudgeContext, Verdict, failed, passed, t
from grader.judging import as_array, compare, is_real_number, kind_of, scalar_ratio

__all__ = ["kind_of"]

GRAD_MESSAGES = {
    "not_a_triple": {
        "en": "Expected a tuple (loss, grad_w1, grad_w2); got {got}.",
        "ko": "(loss, grad_w1, grad_w2) 튜플이 필요한데 {got}이(가) 나왔습니다.",
    },
    "train_not_a_triple": {
        "en": "Expected the training function to return (w1, w2, losses); got {got}.",
        "ko": "학습 함수는 (w1, w2, losses)를 반환해야 하는데 {got}이(가) 나왔습니다.",
    },
    "loss_not_number": {
        "en": "The loss should be a real number (a Python float, e.g. loss.item(), or a NumPy "
              "scalar); got {got}.",
        "ko": "손실은 실수(Python float, 예: loss.item(), 또는 NumPy 스칼라)여야 하는데 {got}이(가) "
              "나왔습니다.",
    },
    "losses_not_numbers": {
        "en": "Each recorded loss should be a real number (use loss.item() or float(loss)); "
              "element {index} is {got}.",
        "ko": "기록한 손실은 각각 실수여야 합니다 (loss.item() 또는 float(loss) 사용). {index}번째 "
              "원소가 {got}입니다.",
    },
    "inputs_changed": {
        "en": "Calling the function changed its inputs ({names}). It must leave the caller's "
              "arrays/tensors as they were: compute on new values instead of updating in place.",
        "ko": "함수를 호출하자 입력({names})이 바뀌었습니다. 호출한 쪽의 배열/텐서는 그대로 두어야 "
              "합니다: 제자리(in-place)에서 바꾸지 말고 새 값으로 계산하세요.",
    },
    "inputs_require_grad": {
        "en": "After the call, the caller's tensors {names} require grad or carry a .grad: "
              "work on detached clones (w.detach().clone().requires_grad_()).",
        "ko": "호출 후 호출한 쪽의 텐서 {names}에 requires_grad가 켜졌거나 .grad가 생겼습니다: "
              "분리된 복사본(w.detach().clone().requires_grad_())으로 계산하세요.",
    },
    "not_tensor": {
        "en": "{label} should be a torch tensor (this exercise works with tensors, not NumPy), "
              "got {got}. Keep the result as a tensor: no .numpy() at the end.",
        "ko": "{label}은(는) torch 텐서여야 합니다 (이 문제는 NumPy가 아니라 텐서로 계산합니다). "
              "{got}이(가) 나왔습니다. 결과를 텐서 그대로 반환하세요: 마지막에 .numpy()를 붙이지 "
              "마세요.",
    },
    "not_repeatable": {
        "en": "Two calls on the same inputs gave different results: something is kept or "
              "changed between calls.",
        "ko": "같은 입력으로 두 번 호출했더니 결과가 달랐습니다: 호출 사이에 무언가가 남거나 "
              "바뀝니다.",
    },
    # misconceptions
    "factor_two": {
        "en": "the derivative of (y_pred - y)**2 with respect to y_pred is 2 * (y_pred - y): "
              "grad_y_pred is missing that factor 2 (or has it twice).",
        "ko": "(y_pred - y)**2를 y_pred로 미분하면 2 * (y_pred - y)입니다: grad_y_pred에서 2를 "
              "빠뜨렸거나 두 번 곱했습니다.",
    },
    "mean_loss": {
        "en": "the loss here is the SUM of squared errors, as in the tutorial; you used the "
              "mean, which makes the loss and the gradients smaller by the number of elements.",
        "ko": "이 과제의 손실은 튜토리얼처럼 제곱 오차의 합(SUM)인데, 평균(mean)을 썼습니다. "
              "평균을 쓰면 손실과 기울기가 모두 원소 개수만큼 작아집니다.",
    },
    "relu_mask_missing": {
        "en": "the ReLU's gradient is never applied: grad_h must be set to 0 where h < 0 "
              "(ReLU passes no gradient where it output 0). Test h itself: h_relu < 0 is never "
              "true, since h_relu is already clamped at 0.",
        "ko": "ReLU의 기울기가 적용되지 않았습니다: h < 0인 곳에서 grad_h를 0으로 만들어야 합니다 "
              "(ReLU는 0을 출력한 곳에 기울기를 전달하지 않습니다). 조건은 h로 거세요: h_relu는 "
              "이미 0 이상으로 잘렸으므로 h_relu < 0은 한 번도 참이 되지 않습니다.",
    },
    "relu_mask_inverted": {
        "en": "the ReLU mask is inverted: zero the gradient where h < 0, keep it where h > 0.",
        "ko": "ReLU 마스크가 반대입니다: h < 0인 곳의 기울기를 0으로 하고 h > 0인 곳은 유지하세요.",
    },
    "relu_on_gradient": {
        "en": "the ReLU mask is taken from the gradient (grad_h < 0) instead of from the "
              "forward pass: the gradient is zeroed where the INPUT h was negative, "
              "grad_h[h < 0] = 0, whatever the sign of the gradient itself.",
        "ko": "ReLU 마스크를 순전파 값이 아니라 기울기(grad_h < 0)에서 만들었습니다: 기울기는 "
              "기울기 자신의 부호와 상관없이 입력 h가 음수였던 곳에서 0이 됩니다, "
              "grad_h[h < 0] = 0.",
    },
    "loss_after_update": {
        "en": "losses[t] must be the loss BEFORE update t (the one the gradient was computed "
              "from); you record it after the update, so the list is shifted by one step.",
        "ko": "losses[t]는 t번째 갱신 이전의 손실(기울기를 계산한 그 손실)이어야 합니다. 갱신 후에 "
              "기록해서 한 단계씩 밀렸습니다.",
    },
    "gradient_ascent": {
        "en": "the update goes uphill: gradient descent subtracts, w -= learning_rate * grad.",
        "ko": "갱신 방향이 반대입니다: 경사 하강법은 기울기를 빼야 합니다 "
              "(w -= learning_rate * grad).",
    },
    "ignores_learning_rate": {
        "en": "the learning_rate argument is ignored (a fixed value is used instead).",
        "ko": "learning_rate 인자를 무시하고 고정된 값을 쓰고 있습니다.",
    },
    "steps_off_by_one": {
        "en": "the loop runs one update too many or too few: run exactly `steps` updates "
              "(for t in range(steps)) and record one loss, the one before the update, each time.",
        "ko": "반복이 한 번 많거나 적습니다: 정확히 steps번 갱신하고(for t in range(steps)) 매번 "
              "갱신 전의 손실을 하나씩 기록하세요.",
    },
    "grads_doubled": {
        "en": "the gradients are exactly twice the right ones: .backward() ran twice on the same "
              "leaves, and each call ADDS into .grad. Call loss.backward() once, on fresh leaves "
              "(or zero .grad first).",
        "ko": "기울기가 정확히 두 배입니다: 같은 잎 텐서에 .backward()가 두 번 실행되었고, 매번 "
              ".grad에 더해집니다. 새 잎 텐서에서 loss.backward()를 한 번만 호출하세요 (또는 먼저 "
              ".grad를 0으로 만드세요).",
    },
    "ignores_steps": {
        "en": "the steps argument is ignored: run exactly `steps` updates and record one loss each.",
        "ko": "steps 인자를 무시하고 있습니다: 정확히 steps번 갱신하고 매번 손실을 하나씩 기록하세요.",
    },
    "grads_accumulate": {
        "en": "gradients accumulate across steps: .backward() ADDS into .grad, so zero the "
              "gradients every step (w.grad.zero_() or w.grad = None).",
        "ko": "기울기가 단계마다 누적됩니다: .backward()는 .grad에 더하므로 매 단계 기울기를 "
              "0으로 만드세요 (w.grad.zero_() 또는 w.grad = None).",
    },
    "no_update": {
        "en": "the weights never change: the update is lost (zeroed before it is applied, or "
              "applied to a copy).",
        "ko": "가중치가 전혀 바뀌지 않습니다: 갱신이 사라졌습니다 (적용하기 전에 기울기가 0이 "
              "되었거나, 복사본에 적용했습니다).",
    },
}


# ------------------------------------------------------------------ data

#: How far from 0 every pre-activation h = x @ w1 stays, at the start and along the
#: reference's training run: float32 arithmetic (the student's or the reference's) moves h
#: by about 1e-6, and a ReLU mask flipped by rounding changes a gradient by far more than
#: the judges' tolerance. A seed whose data come closer than this draws again.
KINK_MARGIN = 1e-4


def two_layer_data(seed: int, n: int, d_in: int, h: int, d_out: int,
                   learning_rate: float | None = None, steps: int = 0
                   ) -> dict[str, np.ndarray]:
    """The tutorial's data, small: random x, y, w1, w2 (float64), with every h = x @ w1 at
    least KINK_MARGIN from 0, also along `steps` gradient-descent updates at `learning_rate`
    (the training probe's run), so that no correct answer's ReLU mask depends on rounding."""
    rng = np.random.default_rng(seed)
    while True:
        data = {"x": rng.standard_normal((n, d_in)), "y": rng.standard_normal((n, d_out)),
                "w1": rng.standard_normal((d_in, h)) * 0.5,
                "w2": rng.standard_normal((h, d_out)) * 0.5}
        if _clear_of_kinks(data, learning_rate, steps):
            return data


def _clear_of_kinks(data: dict[str, np.ndarray], learning_rate: float | None,
                    steps: int) -> bool:
    x, y, w1, w2 = (data[k] for k in ("x", "y", "w1", "w2"))
    for step in range(steps + 1):
        if np.min(np.abs(x @ w1)) < KINK_MARGIN:
            return False
        if step == steps or learning_rate is None:
            return True
        _, grad_w1, grad_w2 = buggy_grads(x, y, w1, w2)
        w1, w2 = w1 - learning_rate * grad_w1, w2 - learning_rate * grad_w2
    return True


def as_tensors(inputs: dict[str, np.ndarray], dtype: str = "float32") -> Callable:
    """A copier that turns the numpy inputs into fresh torch tensors (in the worker)."""
    import torch

    torch_dtype = getattr(torch, dtype)
    return lambda array: torch.tensor(np.asarray(array), dtype=torch_dtype)


# ------------------------------------------------------------------ probes

ORDER = ("x", "y", "w1", "w2")


def _facts(value: Any) -> dict[str, Any]:
    """requires_grad / .grad of a tensor the caller owns (None for arrays)."""
    return {"requires_grad": bool(getattr(value, "requires_grad", False)),
            "has_grad": getattr(value, "grad", None) is not None}


def snapshot(value: Any, keep_graph: bool = False) -> Any:
    """A copy of current values, so that a later in-place change does not reach it (a
    second call accumulating into the .grad it returned first, say). Tuples and lists are
    copied through; with keep_graph, a tensor that requires grad is kept as it is, so that
    the judge still sees its requires_grad and grad_fn."""
    if hasattr(value, "detach") and callable(value.detach):
        if keep_graph and getattr(value, "requires_grad", False):
            return value
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (tuple, list):
        return type(value)(snapshot(v, keep_graph) for v in value)
    return value


def probe_pure_grads(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable) -> dict:
    """Call a *_grads function twice on the same fresh copies; return both results and the
    arguments as they were after the first call ("after") and after the second ("after_all":
    an in-place change may undo itself on the second call)."""
    args = [copy(inputs[k]) for k in ORDER]
    first = snapshot(fn(*args), keep_graph=True)
    after = {k: snapshot(a) for k, a in zip(ORDER, args)}
    facts = {k: _facts(a) for k, a in zip(ORDER, args)}
    try:
        second = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a second call that fails is not repeatable
        second = {"second_call_raised": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"returned": first, "second": second, "after": after,
            "after_all": dict(zip(ORDER, args)), "facts": facts}


def unchanged(got: Any, original: np.ndarray) -> bool:
    """`got` holds exactly the values it was handed: `original` itself, or `original` as the
    probe rounded it to float32. No tolerance: an in-place change, however small (a tiny
    update step, a divide-then-multiply that rounds), is a change."""
    have = as_array(got)
    want = np.asarray(original, dtype=np.float64)
    if have is None or have.shape != want.shape:
        return False
    return bool(np.array_equal(have, want)
                or np.array_equal(have, want.astype(np.float32).astype(np.float64)))


def changed_inputs(ctx: JudgeContext, keys: tuple[str, ...] = ORDER) -> list[str]:
    """The keys whose values (or shapes) differ from the inputs after either call."""
    return [k for k in keys
            if any(not unchanged(ctx.out[when].get(k), ctx.inputs[k])
                   for when in ("after", "after_all") if when in ctx.out)]


def probe_train(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable,
                learning_rate: float, steps: int,
                other_learning_rate: float | None = None) -> dict:
    """Train on fresh copies; with `other_learning_rate`, train once more at that rate
    (under "other_lr"), so that a function ignoring its learning_rate can be told apart."""
    def run(rate: float) -> Any:
        args = [copy(inputs[k]) for k in ORDER]
        returned = fn(*args, learning_rate=rate, steps=steps)
        if isinstance(returned, (tuple, list)) and len(returned) == 3 and \
                isinstance(returned[2], (list, tuple)):
            returned = (returned[0], returned[1], list(returned[2]))
        return returned

    result = {"returned": run(learning_rate), "learning_rate": learning_rate, "steps": steps}
    if other_learning_rate is not None:
        result["other_lr"] = run(other_learning_rate)
    return result


# ------------------------------------------------------------------ judges

def unpack(value: Any, size: int) -> tuple | None:
    if isinstance(value, (tuple, list)) and len(value) == size:
        return tuple(value)
    return None


def _triple(ctx_value: Any) -> tuple | None:
    return unpack(ctx_value, 3)


def judge_loss(ctx: JudgeContext) -> Verdict:
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("not_a_triple", got=kind_of(ctx.out["returned"])))
    if not is_real_number(got[0]):
        lines = [t("loss_not_number", got=kind_of(got[0]))]
        return failed(*lines, *compare("loss", got[0], want[0]))
    problems = compare("loss", got[0], want[0])
    return failed(*problems) if problems else passed()


def judge_grad(ctx: JudgeContext, label: str,
               extra: Callable[[str, Any], list] | None = None) -> Verdict:
    index = {"grad_w1": 1, "grad_w2": 2}[label]
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = compare(label, got[index], want[index])
    if problems:
        return failed(*problems)
    kind = extra(label, got[index]) if extra else []
    return failed(*kind, fraction=0.5) if kind else passed()


def tensors_only(label: str, value: Any) -> list:
    """`extra` for judge_grad in the torch exercises: a right value that is not a tensor."""
    if isinstance(value, TensorData):
        return []
    return [t("not_tensor", label=label, got=kind_of(value))]


def declare_grad_checks(exercise: Exercise,
                        extra: Callable[[str, Any], list] | None = None) -> None:
    """The checks of a `*_two_layer_grads` function (probe "grads"): loss 1 point,
    grad_w1 2, grad_w2 2, leaves_inputs_alone 1. `extra` adds a type rule for the grads."""
    exercise.check(points=1, probe="grads", name="loss")(judge_loss)
    for label in ("grad_w1", "grad_w2"):
        exercise.check(points=2, probe="grads", name=label)(
            lambda ctx, label=label: judge_grad(ctx, label, extra=extra))
    exercise.check(points=1, probe="grads", name="leaves_inputs_alone")(judge_pure)


def judge_pure(ctx: JudgeContext) -> Verdict:
    """The caller's inputs are unchanged, and a second call gives the same result."""
    changed = changed_inputs(ctx)
    if changed:
        return failed(t("inputs_changed", names=", ".join(changed)))
    flagged = [k for k, facts in ctx.out.get("facts", {}).items()
               if facts.get("requires_grad") or facts.get("has_grad")]
    if flagged:
        return failed(t("inputs_require_grad", names=", ".join(sorted(flagged))))
    first, second = _triple(ctx.out["returned"]), _triple(ctx.out["second"])
    if first is None:
        return failed(t("not_a_triple", got=kind_of(ctx.out["returned"])))
    if second is None:
        return failed(t("not_repeatable"))
    for a, b in zip(first, second):
        if as_array(a) is None or compare("", b, a, 1e-6):
            return failed(t("not_repeatable"))
    return passed()


def judge_train_losses(ctx: JudgeContext, steps: int) -> Verdict:
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    losses = got[2]
    if not isinstance(losses, (list, tuple)):
        return failed(t("wrong_type", label="losses", expected=t("expected_float_list"),
                        got=kind_of(losses)))
    bad = next((i for i, v in enumerate(losses) if not is_real_number(v)), None)
    if bad is not None:
        return failed(t("losses_not_numbers", index=bad, got=kind_of(losses[bad])))
    if len(losses) != len(want[2]):
        return failed(t("wrong_length", label="losses", expected=len(want[2]), got=len(losses)))
    problems = compare("losses", list(losses), list(want[2]), 1e-3)
    return failed(*problems) if problems else passed()


def judge_train_weights(ctx: JudgeContext) -> Verdict:
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if got is None:
        return failed(t("train_not_a_triple", got=kind_of(ctx.out["returned"])))
    problems = compare("w1", got[0], want[0], 1e-3) + compare("w2", got[1], want[1], 1e-3)
    return failed(*problems) if problems else passed()


# ------------------------------------------------------------------ misconceptions

def _np(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.array(value, dtype=np.float64)


def buggy_grads(x, y, w1, w2, *, factor: float = 2.0, mean: bool = False,
                mask: str | None = "normal") -> tuple[float, np.ndarray, np.ndarray]:
    """The reference computation with one idea changed (runs in the worker)."""
    x, y, w1, w2 = map(_np, (x, y, w1, w2))
    h = x @ w1
    h_relu = np.maximum(h, 0)
    diff = h_relu @ w2 - y
    size = diff.size if mean else 1
    loss = float(np.square(diff).sum()) / size
    grad_y_pred = factor * diff / size
    grad_w2 = h_relu.T @ grad_y_pred
    grad_h = grad_y_pred @ w2.T
    if mask == "normal":
        grad_h[h < 0] = 0
    elif mask == "inverted":
        grad_h[h > 0] = 0
    elif mask == "on_gradient":
        grad_h[grad_h < 0] = 0
    return loss, x.T @ grad_h, grad_w2


def buggy_train(x, y, w1, w2, learning_rate, steps, *, grads=buggy_grads,
                after: bool = False, sign: float = 1.0, fixed_lr: float | None = None,
                accumulate: bool = False, update: bool = True, extra_steps: int = 0):
    w1, w2 = _np(w1), _np(w2)
    lr = learning_rate if fixed_lr is None else fixed_lr
    losses = []
    acc1, acc2 = np.zeros_like(w1), np.zeros_like(w2)
    for _ in range(steps + extra_steps):
        loss, g1, g2 = grads(x, y, w1, w2)
        if accumulate:
            acc1, acc2 = acc1 + g1, acc2 + g2
            g1, g2 = acc1, acc2
        if update:
            w1 = w1 - sign * lr * g1
            w2 = w2 - sign * lr * g2
        losses.append(grads(x, y, w1, w2)[0] if after else loss)
    return w1, w2, losses


def declare_two_layer_misconceptions(exercise: Exercise, grads_name: str,
                                     train_name: str | None, autograd: bool = False) -> None:
    """The typical wrong ideas of e01-e03, as mutants of the correct computation.

    With `train_name=None` (e02 has no training function) only the gradient ideas are
    declared, on the checks loss, grad_w1 and grad_w2. Training ideas need the checks
    train_losses and train_weights.
    """
    grad_checks = ("loss", "grad_w1", "grad_w2")
    train_checks = ("train_losses", "train_weights") if train_name else ()

    def grads_mutant(key: str, checks: tuple[str, ...], **change: Any) -> None:
        def mutant(ref: dict) -> dict:
            def wrong_grads(x, y, w1, w2):
                return buggy_grads(x, y, w1, w2, **change)

            def wrong_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
                return buggy_train(x, y, w1, w2, learning_rate, steps,
                                   grads=lambda *a: buggy_grads(*a, **change))
            changed = {grads_name: wrong_grads}
            if train_name:
                changed[train_name] = wrong_train
            return changed
        exercise.misconception(key, checks=checks)(mutant)

    def train_mutant(key: str, **change: Any) -> None:
        def mutant(ref: dict) -> dict:
            def wrong_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
                return buggy_train(x, y, w1, w2, learning_rate, steps, **change)
            return {train_name: wrong_train}
        exercise.misconception(key, checks=train_checks)(mutant)

    grads_mutant("factor_two", ("grad_w1", "grad_w2") + train_checks, factor=1.0)
    # Gradients exactly doubled: by hand, a 2 too many (factor_two's "or doubled"); with
    # autograd, the loss is right, so backward ran twice into the same .grad.
    exercise.misconception("grads_doubled" if autograd else "factor_two",
                           checks=("grad_w1", "grad_w2"), detect=_grads_doubled)(None)
    grads_mutant("mean_loss", grad_checks + train_checks, mean=True)
    grads_mutant("relu_mask_missing", ("grad_w1",) + train_checks, mask=None)
    grads_mutant("relu_mask_inverted", ("grad_w1",) + train_checks, mask="inverted")
    grads_mutant("relu_on_gradient", ("grad_w1",) + train_checks, mask="on_gradient")
    if not train_name:
        return
    train_mutant("loss_after_update", after=True)
    train_mutant("gradient_ascent", sign=-1.0)
    exercise.misconception("gradient_ascent", checks=train_checks, detect=_ascends)(None)
    # Weights returned exactly as given. Checked before ignores_learning_rate: a run at a
    # fixed 1e-6 can be, within the judges' tolerance, the same as no update at all (the
    # losses of seed 1, say), so only this stricter test tells the two apart.
    exercise.misconception("no_update", checks=train_checks, detect=_weights_unchanged)(None)
    train_mutant("ignores_learning_rate", fixed_lr=1e-6)
    exercise.misconception("ignores_learning_rate", checks=train_checks,
                           detect=_same_at_other_rate)(None)
    if autograd:
        train_mutant("grads_accumulate", accumulate=True)
    # Checked before ignores_steps: range(steps - 1), range(1, steps), range(steps + 1).
    exercise.misconception("steps_off_by_one", checks=("train_losses",),
                           detect=lambda ctx: _length_differs(ctx, by=1))(None)
    exercise.misconception("steps_off_by_one", checks=("train_weights",),
                           detect=_weights_off_by_one_step)(None)
    exercise.misconception("ignores_steps", checks=("train_losses",),
                           detect=lambda ctx: _length_differs(ctx))(None)


def _ascends(ctx: JudgeContext) -> bool:
    """The losses follow gradient ascent for as long as they stay finite.

    Ascent blows up fast: in float32 the losses reach infinity within the probe's steps,
    and the mutant (float64) stays finite, so its judge cannot match; compare the start."""
    got = _triple(ctx.out["returned"])
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


def _weights_unchanged(ctx: JudgeContext) -> bool:
    """The returned weights are the initial ones (to rounding); the reference's moved."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not got or not want:
        return False
    return (not compare("", got[0], ctx.inputs["w1"], 1e-6)
            and not compare("", got[1], ctx.inputs["w2"], 1e-6)
            and bool(compare("", want[0], ctx.inputs["w1"], 1e-6)))


def _same_at_other_rate(ctx: JudgeContext) -> bool:
    """Trained at two learning rates (probe_train's other_lr), the results are the same,
    though the weights did move and the reference's two runs differ."""
    got, other = _triple(ctx.out["returned"]), _triple(ctx.out.get("other_lr"))
    want, want_other = _triple(ctx.ref["returned"]), _triple(ctx.ref.get("other_lr"))
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


def _length_differs(ctx: JudgeContext, by: int | None = None) -> bool:
    """The losses list is longer or shorter than the reference's (by exactly `by`)."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
    if not (got and want and isinstance(got[2], (list, tuple))
            and isinstance(want[2], (list, tuple))):
        return False
    difference = abs(len(got[2]) - len(want[2]))
    return difference != 0 if by is None else difference == by


def _weights_off_by_one_step(ctx: JudgeContext) -> bool:
    """The weights are those after steps - 1 or steps + 1 correct updates."""
    got = _triple(ctx.out["returned"])
    rate, steps = ctx.out.get("learning_rate"), ctx.out.get("steps")
    if not got or rate is None or not steps:
        return False
    args = [ctx.inputs[k] for k in ORDER]
    for extra in (-1, 1):
        w1, w2, _ = buggy_train(*args, rate, steps, extra_steps=extra)
        if not compare("", got[0], w1, 1e-3) and not compare("", got[1], w2, 1e-3):
            return True
    return False


def _grads_doubled(ctx: JudgeContext) -> bool:
    """Both gradients are twice the reference's (the loss may be right or not)."""
    got, want = _triple(ctx.out["returned"]), _triple(ctx.ref["returned"])
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
