"""e04: ReLU as a custom torch.autograd.Function (the student writes backward).

Probe plan (every shape and value drawn from the grader's seed, none from the tutorial;
MyReLU.apply and my_relu take no default argument to leave out):
- backward: a small 6x5 float32 input (exact zeros, both signs in every column), forward
  and backward with a random upstream gradient; the caller's tensors must stay as they
  were; MyReLU used twice in one graph. Detailed feedback comes from here.
- gradcheck: torch.autograd.gradcheck in float64, on inputs away from 0.
- alias: my_relu(x) is MyReLU.apply.
- large: forward and backward at the tutorial's size or larger (there MyReLU gets
  h = x @ w1, N=64 x H=100) in float32 (rows drawn in 65..140, 100..260 columns, never
  a power of two) and at an odd size in float64 (odd rows in 65..99, 100..160
  columns, never a power of two): normal values scaled by 2..8 (so values
  beyond 6 show a ReLU6), exact zeros, and values within 1e-6..1e-2 of 0 (so a
  threshold that is not 0 shows).

Tolerance: ReLU and its gradient only select values, so every correct answer is exact
in the precision it computes in; float32 arithmetic inside (allowed, also on a float64
input) rounds once, by at most 2**-24 ~ 6e-8 of a value. Measured on the reference and
on float32-inside / float64-inside / einsum / where variants: 0 on float32 inputs,
<= 6e-8 relative on float64 inputs. RTOL is 8x that.
"""

from __future__ import annotations

import numpy as np

from grader import hookimpl
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare, kind_of

ROWS, COLS = 6, 5
RTOL = 5e-7
LARGE_CASES = ("float32", "float64")   # the large probe's two inputs, by dtype


def _not_a_power_of_two(rng, low, high, odd=False):
    """An integer in [low, high] that is no power of two (and odd when asked)."""
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1) and (value % 2 or not odd):
            return value


def _large_input(rng, rows, cols):
    """Normal values scaled by 2..8, with exact zeros and values just beside 0."""
    x = rng.standard_normal((rows, cols)) * rng.uniform(2.0, 8.0)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, 60, replace=False)
    flat[picks[:20]] = 0.0
    flat[picks[20:]] = rng.choice([-1.0, 1.0], 40) * 10.0 ** rng.uniform(-6, -2, 40)
    return x


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """`x` has exact zeros and values well away from 0; `x_far` has no value near 0;
    `large_*` are the large probe's inputs (see the probe plan above)."""
    rng = np.random.default_rng(seed)

    def away_from_zero(shape):
        magnitude = rng.uniform(0.2, 2.0, shape)
        return magnitude * rng.choice([-1.0, 1.0], shape)

    x = away_from_zero((ROWS, COLS))
    x.flat[rng.choice(x.size, 4, replace=False)] = 0.0
    # both signs in every column, so a swapped or missing mask always shows
    x[0, :], x[1, :] = np.abs(x[0, :]) + 0.2, -np.abs(x[1, :]) - 0.2
    inputs = {"x": x, "x_far": away_from_zero((4, 3)),
              "grad_output": rng.uniform(0.5, 2.0, (ROWS, COLS)) * rng.choice([-1.0, 1.0],
                                                                                (ROWS, COLS))}
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 4])
    shapes = {"float32": (_not_a_power_of_two(large, 65, 140),
                          _not_a_power_of_two(large, 100, 260)),
              "float64": (_not_a_power_of_two(large, 65, 99, odd=True),
                          _not_a_power_of_two(large, 100, 160))}
    for dtype, shape in shapes.items():
        inputs[f"large_x_{dtype}"] = _large_input(large, *shape)
        inputs[f"large_upstream_{dtype}"] = large.standard_normal(shape) * large.uniform(0.5, 4)
    return inputs


EXERCISE = Exercise(
    name="e04_my_relu",
    title={"en": "ReLU as a custom autograd Function", "ko": "사용자 정의 autograd Function으로 만드는 ReLU"},
    names=("MyReLU", "my_relu"),
    make_inputs=make_inputs,
    messages={
        "forward_wrong": {
            "en": "MyReLU.apply(x) does not compute ReLU (max(x, 0) elementwise).",
            "ko": "MyReLU.apply(x)가 ReLU(원소별 max(x, 0))를 계산하지 않습니다.",
        },
        "no_grad": {
            "en": "After backward(), x.grad is None: MyReLU.backward must return the gradient "
                  "with respect to the input (a tensor shaped like it).",
            "ko": "backward() 후 x.grad가 None입니다: MyReLU.backward는 입력에 대한 기울기(입력과 "
                  "같은 모양의 텐서)를 반환해야 합니다.",
        },
        "backward_wrong": {
            "en": "The gradient returned by backward is wrong where the input is not 0 "
                  "(the upstream gradient was {how}).",
            "ko": "입력이 0이 아닌 곳에서 backward가 반환한 기울기가 틀렸습니다 (상위 기울기는 "
                  "{how}).",
        },
        "upstream_random": {"en": "a random tensor, not all ones",
                            "ko": "모두 1인 텐서가 아니라 무작위 텐서였습니다"},
        "backward_at_zero": {
            "en": "Where the input is exactly 0 the gradient must be 0 or the upstream gradient "
                  "(either convention passes); got {got:.6g} at index {index}.",
            "ko": "입력이 정확히 0인 곳의 기울기는 0 또는 상위 기울기여야 합니다 (둘 다 인정). "
                  "위치 {index}에서 {got:.6g}이(가) 나왔습니다.",
        },
        "gradcheck_failed": {
            "en": "torch.autograd.gradcheck (float64, inputs away from 0) failed: the analytical "
                  "gradient of your backward differs from the numerical one.{detail}",
            "ko": "torch.autograd.gradcheck(float64, 0에서 떨어진 입력)가 실패했습니다: backward의 "
                  "해석적 기울기가 수치 기울기와 다릅니다.{detail}",
        },
        "grad_output_changed": {
            "en": "backward changed grad_output in place: after backward() ran, the upstream "
                  "gradient tensor the grader passed in held different values. Clone it first "
                  "(grad_input = grad_output.clone()) and change the clone.",
            "ko": "backward가 grad_output을 제자리(in-place)에서 바꿨습니다: backward()가 끝난 뒤 "
                  "채점기가 넘겨준 상위 기울기 텐서의 값이 달라져 있었습니다. 먼저 복사한 뒤"
                  "(grad_input = grad_output.clone()) 복사본을 바꾸세요.",
        },
        "input_changed": {
            "en": "MyReLU changed its input x in place (forward or backward wrote into the tensor "
                  "it was given or saved): x was different after my_relu(x) and backward(). "
                  "Compute new tensors (input.clamp(min=0), grad_output.clone()) and never write "
                  "into ctx.saved_tensors.",
            "ko": "MyReLU가 입력 x를 제자리(in-place)에서 바꿨습니다 (forward나 backward가 받은 "
                  "텐서나 저장한 텐서에 값을 썼습니다): my_relu(x)와 backward() 후 x가 달라져 "
                  "있었습니다. 새 텐서를 만들어 계산하고(input.clamp(min=0), grad_output.clone()) "
                  "ctx.saved_tensors에는 절대 쓰지 마세요.",
        },
        "alias_not_a_function": {
            "en": "my_relu(x) returned {got}, not a tensor: my_relu must be the function "
                  "MyReLU.apply (my_relu = MyReLU.apply), not the class or its forward.",
            "ko": "my_relu(x)가 텐서가 아니라 {got}을(를) 반환했습니다: my_relu는 클래스나 forward가 "
                  "아니라 함수 MyReLU.apply여야 합니다 (my_relu = MyReLU.apply).",
        },
        "twice_failed": {
            "en": "Used twice in one graph (my_relu(x) and my_relu(-x), then one backward), "
                  "MyReLU failed: {error}.",
            "ko": "한 그래프에서 두 번 쓰자(my_relu(x)와 my_relu(-x) 후 backward 한 번) MyReLU가 "
                  "실패했습니다: {error}.",
        },
        "twice_wrong": {
            "en": "Used once, backward is right; used twice in one graph (my_relu(x) and "
                  "my_relu(-x), then one backward), the gradients are wrong.",
            "ko": "한 번 쓸 때는 backward가 맞지만, 한 그래프에서 두 번 쓰면(my_relu(x)와 "
                  "my_relu(-x) 후 backward 한 번) 기울기가 틀립니다.",
        },
        "alias_not_custom": {
            "en": "my_relu(x) does not go through MyReLU (its output's grad_fn is {grad_fn}): "
                  "define my_relu = MyReLU.apply.",
            "ko": "my_relu(x)가 MyReLU를 거치지 않습니다 (출력의 grad_fn이 {grad_fn}입니다): "
                  "my_relu = MyReLU.apply로 정의하세요.",
        },
        "alias_wrong": {
            "en": "my_relu(x) does not compute ReLU.",
            "ko": "my_relu(x)가 ReLU를 계산하지 않습니다.",
        },
        "large_failed": {
            "en": "On a large {dtype} input ({rows}x{cols}), MyReLU failed: {error}. It must "
                  "work on inputs of any shape and size, not only the tutorial's.",
            "ko": "큰 {dtype} 입력({rows}x{cols})에서 MyReLU가 실패했습니다: {error}. 튜토리얼의 "
                  "크기만이 아니라 어떤 모양과 크기의 입력에서도 동작해야 합니다.",
        },
        "large_forward_wrong": {
            "en": "On a large {dtype} input ({rows}x{cols}, values from {low:.3g} to "
                  "{high:.3g}, exact zeros and values within 1e-6 to 1e-2 of 0 included), "
                  "MyReLU.apply(x) is not max(x, 0): no threshold but 0, and no upper clip.",
            "ko": "큰 {dtype} 입력({rows}x{cols}, 값은 {low:.3g}부터 {high:.3g}까지, 정확히 0인 "
                  "값과 0에서 1e-6~1e-2 떨어진 값 포함)에서 MyReLU.apply(x)가 max(x, 0)이 "
                  "아닙니다: 0 말고 다른 경계값도, 위쪽 자르기도 없어야 합니다.",
        },
        "large_backward_wrong": {
            "en": "On a large {dtype} input ({rows}x{cols}, values from {low:.3g} to "
                  "{high:.3g}, exact zeros and values within 1e-6 to 1e-2 of 0 included), "
                  "the gradient is wrong: it must be grad_output wherever the input is > 0 "
                  "(however small or large), and 0 where it is < 0.",
            "ko": "큰 {dtype} 입력({rows}x{cols}, 값은 {low:.3g}부터 {high:.3g}까지, 정확히 0인 "
                  "값과 0에서 1e-6~1e-2 떨어진 값 포함)에서 기울기가 틀렸습니다: 입력이 0보다 큰 "
                  "곳에서는 (아무리 작거나 커도) grad_output, 0보다 작은 곳에서는 0이어야 합니다.",
        },
        # misconceptions
        "mask_missing": {
            "en": "the ReLU mask is never applied: backward returns grad_output unchanged, but "
                  "ReLU passes no gradient where its input was negative.",
            "ko": "ReLU 마스크가 적용되지 않았습니다: backward가 grad_output을 그대로 반환하지만, "
                  "ReLU는 입력이 음수였던 곳으로는 기울기를 전달하지 않습니다.",
        },
        "mask_inverted": {
            "en": "the mask is inverted: zero the gradient where the input is negative and keep "
                  "it where the input is positive.",
            "ko": "마스크가 반대입니다: 입력이 음수인 곳의 기울기를 0으로 하고 양수인 곳은 "
                  "유지하세요.",
        },
        "mask_not_multiplied": {
            "en": "backward returns the mask itself (the local derivative, 0 or 1) without "
                  "multiplying it by grad_output: the chain rule needs "
                  "grad_input = grad_output * (input > 0).",
            "ko": "backward가 grad_output을 곱하지 않고 마스크(국소 도함수, 0 또는 1) 자체를 "
                  "반환합니다: 연쇄 법칙에 따라 grad_input = grad_output * (input > 0)이어야 "
                  "합니다.",
        },
        "relu_on_gradient": {
            "en": "backward applies ReLU to the gradient (grad_output.clamp(min=0)): which "
                  "entries pass depends on the sign of the INPUT saved in forward, not on the sign "
                  "of grad_output; a negative upstream gradient where input > 0 must pass through.",
            "ko": "backward가 기울기에 ReLU를 적용했습니다 (grad_output.clamp(min=0)): 어떤 원소가 "
                  "통과하는지는 grad_output의 부호가 아니라 forward에서 저장한 입력의 부호로 정해집니다. "
                  "input > 0인 곳에서는 음수인 상위 기울기도 그대로 통과해야 합니다.",
        },
        "input_in_place": {
            "en": "the input tensor is modified in place (input[input < 0] = 0, input.clamp_(...)): "
                  "it is the caller's x, and autograd's saved copy of it; ReLU must leave it "
                  "as it was.",
            "ko": "입력 텐서를 제자리에서 바꿨습니다 (input[input < 0] = 0, input.clamp_(...)): 그 "
                  "텐서는 호출한 쪽의 x이자 autograd가 저장해 둔 값입니다. ReLU는 그것을 그대로 "
                  "두어야 합니다.",
        },
        "state_outside_ctx": {
            "en": "backward reads what forward kept outside ctx (a class attribute, a global): "
                  "the second forward overwrites it before the first backward runs. Keep it on "
                  "the ctx of that call: ctx.save_for_backward(input), then ctx.saved_tensors.",
            "ko": "backward가 forward에서 ctx 밖(클래스 속성, 전역 변수)에 보관한 값을 읽습니다: 첫 "
                  "번째 backward가 실행되기 전에 두 번째 forward가 그 값을 덮어씁니다. 그 호출의 "
                  "ctx에 보관하세요: ctx.save_for_backward(input), 그다음 ctx.saved_tensors.",
        },
        "grad_output_in_place": {
            "en": "writing into grad_output (grad_output[input < 0] = 0) looks harmless, since "
                  "the gradient you return is right; but autograd may hand the same tensor to "
                  "other parts of the graph, which then see your zeros.",
            "ko": "grad_output에 직접 쓰는 것(grad_output[input < 0] = 0)은 반환하는 기울기가 맞으니 "
                  "괜찮아 보이지만, autograd는 같은 텐서를 그래프의 다른 부분에도 넘겨줄 수 있어서 "
                  "그쪽에서는 여러분이 넣은 0을 보게 됩니다.",
        },
    },
    hints={
        "en": ("In forward, keep what backward needs with ctx.save_for_backward(input); in "
               "backward, read it back from ctx.saved_tensors. The gradient passes through "
               "where input > 0 and is 0 where input < 0.",
               "(input,) = ctx.saved_tensors; grad_input = grad_output.clone(); "
               "grad_input[input < 0] = 0; return grad_input. Never write into grad_output "
               "itself, and define my_relu = MyReLU.apply."),
        "ko": ("forward에서 backward에 필요한 것을 ctx.save_for_backward(input)로 보관하고, "
               "backward에서 ctx.saved_tensors로 다시 꺼내세요. 기울기는 input > 0인 곳에서는 "
               "그대로 통과하고 input < 0인 곳에서는 0입니다.",
               "(input,) = ctx.saved_tensors; grad_input = grad_output.clone(); "
               "grad_input[input < 0] = 0; return grad_input. grad_output 자체에는 절대 쓰지 "
               "말고, my_relu = MyReLU.apply로 정의하세요."),
    },
)


# ------------------------------------------------------------------ probes (worker)

def _tensor(array, dtype="float32", requires_grad=False):
    import torch

    return torch.tensor(np.asarray(array), dtype=getattr(torch, dtype),
                        requires_grad=requires_grad)


def _backward_with(y, upstream):
    """y.backward(upstream), with `upstream` itself (this very tensor) handed to y's backward.

    A scalar backward through a pass-through Function: the same tensor object reaches
    MyReLU.backward as grad_output (so an in-place change shows in the caller's copy),
    and torch's first non-scalar backward (which imports sympy, ~0.7 s) is avoided.
    """
    import torch

    class Feed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            return value.sum()

        @staticmethod
        def backward(ctx, _):
            return upstream

    Feed.apply(y).backward()


@EXERCISE.probe
def backward(sub, inputs):
    """Forward, then backward() with a given upstream gradient that the caller keeps."""
    x = _tensor(inputs["x"], requires_grad=True)
    upstream = _tensor(inputs["grad_output"])
    kept = upstream.clone()
    y = sub.MyReLU.apply(x)
    out = y.detach().clone()
    _backward_with(y, upstream)
    grad = x.grad.detach().clone() if x.grad is not None else None
    return {"out": out, "grad": grad, "upstream_after": upstream.detach().clone(),
            "upstream": kept, "x_after": x.detach().clone(), "twice": _twice(sub, inputs)}


def _twice(sub, inputs):
    """MyReLU used twice in one graph (on x and on -x) before one backward: each backward
    must read its own forward's input (from ctx), not state the later forward overwrote."""
    x1 = _tensor(inputs["x"], requires_grad=True)
    x2 = _tensor(-inputs["x"], requires_grad=True)
    up1, up2 = (_tensor(u) for u in _twice_upstreams(inputs))
    try:
        y1, y2 = sub.MyReLU.apply(x1), sub.MyReLU.apply(x2)
        ((y1 * up1).sum() + (y2 * up2).sum()).backward()
    except Exception as exc:  # noqa: BLE001 - reported by the judge, next to the single use
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"grads": [None if x.grad is None else x.grad.detach().clone() for x in (x1, x2)]}


def _twice_upstreams(inputs):
    return inputs["grad_output"], np.flip(inputs["grad_output"]).copy()


@EXERCISE.probe
def gradcheck(sub, inputs):
    import torch

    x = _tensor(inputs["x_far"], "float64", requires_grad=True)
    from torch.autograd.gradcheck import GradcheckError

    try:
        return {"ok": bool(torch.autograd.gradcheck(sub.MyReLU.apply, (x,), eps=1e-6,
                                                    atol=1e-5, rtol=1e-3)), "detail": ""}
    except GradcheckError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"ok": False, "detail": first.rstrip(" ,.:")[:200]}


@EXERCISE.probe
def large(sub, inputs):
    """Forward and backward on the large float32 and float64 inputs (each on its own:
    one that fails still lets the other report)."""
    found = {}
    for dtype in LARGE_CASES:
        x = _tensor(inputs[f"large_x_{dtype}"], dtype, requires_grad=True)
        try:
            y = sub.MyReLU.apply(x)
            out = y.detach().clone()
            _backward_with(y, _tensor(inputs[f"large_upstream_{dtype}"], dtype))
        except Exception as exc:  # noqa: BLE001 - reported by the judge
            found[dtype] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            continue
        found[dtype] = {"out": out,
                        "grad": None if x.grad is None else x.grad.detach().clone()}
    return found


@EXERCISE.probe
def alias(sub, inputs):
    """my_relu(x) forward and backward: it must be MyReLU's (its grad_fn is MyReLU's)."""
    x = _tensor(inputs["x"], requires_grad=True)
    y = sub.my_relu(x)
    backward_cls = getattr(sub.MyReLU, "_backward_cls", None)
    grad_fn = getattr(y, "grad_fn", None)
    custom = grad_fn is not None and backward_cls is not None and type(grad_fn) is backward_cls
    if custom:
        _backward_with(y, _tensor(inputs["grad_output"]))
    return {"out": y, "custom": custom,
            "grad_fn": type(grad_fn).__name__ if grad_fn is not None else "None"}


# ------------------------------------------------------------------ judges

@EXERCISE.check(points=1, probe="backward")
def forward_values(ctx):
    out = ctx.out.get("out") if isinstance(ctx.out, dict) else ctx.out
    problems = compare("MyReLU.apply(x)", out, np.maximum(ctx.inputs["x"], 0), RTOL)
    return failed(t("forward_wrong"), *problems) if problems else passed()


def _as_float32(array):
    """The values a float32 probe really worked on."""
    return np.asarray(array).astype(np.float32).astype(np.float64)


def _grad_verdict(got_value, want_value, x, upstream, label="x.grad", how=None):
    """x.grad against the reference's, either convention passing where x == 0.

    `upstream` holds the values the probe passed (in the probe's own precision)."""
    if got_value is None:
        return failed(t("no_grad"))
    how = how if how is not None else t("backward_wrong", how=t("upstream_random"))
    got, want = as_array(got_value), as_array(want_value)
    if got is None or got.shape != x.shape:
        return failed(*compare(label, got_value, want, RTOL))
    at_zero = x == 0
    # where x == 0 either convention passes: compare the rest, element by element
    problems = compare(label, np.where(at_zero, want, got), want, RTOL)
    if problems:
        return failed(how, *problems)
    for index in zip(*np.nonzero(at_zero)):
        value = got[index]
        if not (abs(value) <= 1e-6 or abs(value - upstream[index]) <= 1e-5 * abs(upstream[index])):
            return failed(t("backward_at_zero", got=float(value),
                            index=tuple(int(i) for i in index)))
    return passed()


def _backward_verdict(out, ref, inputs):
    if not isinstance(out, dict) or "grad" not in out:
        return failed(t("wrong_type", label=t("label_backward_probe"), expected=t("expected_result"),
                        got=kind_of(out)))
    verdict = _grad_verdict(out["grad"], ref["grad"], inputs["x"],
                            _as_float32(inputs["grad_output"]))
    if not verdict.passed:
        return verdict
    twice, want = out.get("twice"), ref.get("twice")
    if not isinstance(want, dict) or "grads" not in want:
        return verdict
    if not isinstance(twice, dict) or "grads" not in twice:
        error = twice.get("error") if isinstance(twice, dict) else kind_of(twice)
        return failed(t("twice_failed", error=error))
    grads = twice["grads"] if isinstance(twice["grads"], (list, tuple)) else ()
    if len(grads) != 2:
        return failed(t("twice_failed", error=kind_of(twice["grads"])))
    for grad, expected, x, upstream, label in zip(
            grads, want["grads"], (inputs["x"], -inputs["x"]),
            [_as_float32(u) for u in _twice_upstreams(inputs)],
            (t("label_grad_first_use"), t("label_grad_second_use"))):
        second = _grad_verdict(grad, expected, x, upstream, label)
        if not second.passed:
            return failed(t("twice_wrong"), *second.lines, misconception="state_outside_ctx")
    return verdict


@EXERCISE.check(points=2, probe="backward")
def backward_values(ctx):
    return _backward_verdict(ctx.out, ctx.ref, ctx.inputs)


@EXERCISE.check(points=1, probe="backward")
def grad_output_untouched(ctx):
    if not isinstance(ctx.out, dict) or "upstream_after" not in ctx.out:
        return failed(t("wrong_type", label=t("label_backward_probe"), expected=t("expected_result"),
                        got=kind_of(ctx.out)))
    before, after = as_array(ctx.out["upstream"]), as_array(ctx.out["upstream_after"])
    if before is None or after is None or before.shape != after.shape \
            or not np.array_equal(before, after):
        return failed(t("grad_output_changed"), misconception="grad_output_in_place")
    # The input too: the probe's x holds the float32-rounded inputs["x"].
    x_after = as_array(ctx.out.get("x_after"))
    x_before = ctx.inputs["x"].astype(np.float32).astype(np.float64)
    if x_after is None or x_after.shape != x_before.shape or \
            not np.array_equal(x_after, x_before):
        return failed(t("input_changed"), misconception="input_in_place")
    return passed()


@EXERCISE.check(points=1, probe="gradcheck")
def gradcheck_float64(ctx):
    ok = isinstance(ctx.out, dict) and ctx.out.get("ok") is True
    # Against the reference's result (which passes): so that a mutant whose gradcheck
    # fails can claim a failed gradcheck as one of its symptoms.
    expected = not (isinstance(ctx.ref, dict) and ctx.ref.get("ok") is False)
    if ok == expected:
        return passed()
    detail = ctx.out.get("detail") if isinstance(ctx.out, dict) else ""
    return failed(t("gradcheck_failed", detail=f" ({detail})" if detail else ""))


@EXERCISE.check(points=1, probe="large")
def large_inputs(ctx):
    """Forward and backward on large float32 and float64 inputs, against the reference's."""
    out = ctx.out if isinstance(ctx.out, dict) else {}
    for dtype in LARGE_CASES:
        x, upstream = ctx.inputs[f"large_x_{dtype}"], ctx.inputs[f"large_upstream_{dtype}"]
        if dtype == "float32":
            x, upstream = _as_float32(x), _as_float32(upstream)
        case, want = out.get(dtype), ctx.ref.get(dtype) or {}
        about = {"dtype": dtype, "rows": x.shape[0], "cols": x.shape[1]}
        if not isinstance(case, dict) or "error" in case:
            error = case.get("error") if isinstance(case, dict) else kind_of(case)
            return failed(t("large_failed", error=error, **about))
        values = {"low": float(x.min()), "high": float(x.max()), **about}
        problems = compare("MyReLU.apply(x)", case.get("out"), want["out"], RTOL)
        if problems:
            return failed(t("large_forward_wrong", **values), *problems)
        verdict = _grad_verdict(case.get("grad"), want["grad"], x, upstream,
                                how=t("large_backward_wrong", **values))
        if not verdict.passed:
            return verdict
    return passed()


@EXERCISE.check(points=1, probe="alias")
def my_relu_alias(ctx):
    if not isinstance(ctx.out, dict):
        return failed(t("alias_wrong"))
    out = ctx.out.get("out")
    if as_array(out) is None:
        return failed(t("alias_wrong"), t("alias_not_a_function", got=kind_of(out)))
    problems = compare("my_relu(x)", out, np.maximum(ctx.inputs["x"], 0), RTOL)
    if problems:
        return failed(t("alias_wrong"), *problems)
    if not ctx.out.get("custom"):
        return failed(t("alias_not_custom", grad_fn=ctx.out.get("grad_fn")))
    return passed()


# ------------------------------------------------------------------ misconceptions

def _buggy_relu(backward_rule):
    """A MyReLU whose backward is `backward_rule(input, grad_output)` (built in the worker)."""
    import torch

    class BuggyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return backward_rule(input, grad_output.clone())

    return {"MyReLU": BuggyReLU, "my_relu": BuggyReLU.apply}


# Where every backward mutant shows (each misconception lists exactly its symptoms,
# tests/test_e04_e05_e06.py checks it): the small probe's gradients, the large inputs',
# and gradcheck.
SYMPTOMS = ("backward_values", "large_inputs", "gradcheck_float64")


def _masked(grad, where):
    grad[where] = 0
    return grad


EXERCISE.misconception("mask_missing", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: grad))
EXERCISE.misconception("mask_inverted", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: _masked(grad, input > 0)))
EXERCISE.misconception("mask_not_multiplied", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: (input > 0).to(grad.dtype)))
EXERCISE.misconception("relu_on_gradient", checks=SYMPTOMS)(
    lambda ref: _buggy_relu(lambda input, grad: grad.clamp(min=0)))


@hookimpl
def grader_exercises():
    return [EXERCISE]
