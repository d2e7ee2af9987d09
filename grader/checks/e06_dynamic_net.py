"""e06: a network whose depth is drawn anew on every forward pass (weight sharing).

The grader loads its weights into several fresh models, calls each one many
times on the same input and infers each call's depth from the output: the
judge computes the expected output (and gradients) at every depth in NumPy.

Probe plan (every shape and value drawn from the grader's seed, none from the tutorial;
DynamicNet has no default argument to leave out):
- calls: INSTANCES fresh models with the grader's small weights (N=5, D_in=4, H=6,
  D_out=3), each called CALLS times with backward (outputs, shared gradients, a depth
  drawn anew on every call), then DRAWS forward passes of one more model under no_grad
  (how often each depth comes up, and whether one draw depends on the one before).
- large: LARGE_CALLS calls with backward at the tutorial's sizes or larger (N in 65..140,
  D_in in 1000..1100, H in 100..130, D_out in 10..15, none a power of two).

The statistics use a FIXED number of draws, never "as many as fit in a time window":
a slow but correct model gets the same verdict as a fast one. A model that seeds its own
generator once in __init__ repeats its draws in every instance, so only the DRAWS passes
of one single model are counted as independent samples.

Failure probability for a correct submission (depths i.i.d. uniform on 0..3), by the
union bound over every test it must pass, each bound from the exact binomial law
(`binomial_bounds`, each tail <= TAIL = 1e-11):
- each depth's count among the DRAWS passes within [least, most] of Bin(DRAWS, 1/4)
  (at DRAWS = 1600: 288..519 around 400): 4 depths x 2 tails;
- each of the 16 (depth, next depth) cells of the DRAWS / 2 non-overlapping pairs at
  least `least` of Bin(800, 1/16) (11, around 50): 16 lower tails;
- no instance gives one depth on all CALLS calls: INSTANCES * 4 * (1/4) ** CALLS
  = 6 * 4 ** -19 ~ 2.2e-11.
Together: 24 * 1e-11 + 2.2e-11 < 3e-10 per run, below 1e-9.
What it catches: a coin flip per layer (depths 0 and 3 at 1/8) passes the count test
with probability ~2e-10; a counter (depth = calls % 4) or any cycle leaves 12 of the 16
pair cells empty; random.seed(...) inside forward gives one depth on every call.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from math import lgamma, log, log1p

import numpy as np

from grader import hookimpl
from grader.checks import modules_common as mc
from grader.codec import TensorData
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare

N, D_IN, H, D_OUT = 5, 4, 6, 3
LAYERS = (("input_linear", D_IN, H), ("middle_linear", H, H), ("output_linear", H, D_OUT))
EXPECTED = {"input_linear.weight": (H, D_IN), "input_linear.bias": (H,),
            "middle_linear.weight": (H, H), "middle_linear.bias": (H,),
            "output_linear.weight": (D_OUT, H), "output_linear.bias": (D_OUT,)}
MODULES = "input_linear, middle_linear, output_linear"
SIZES = (f"D_in={D_IN}, H={H}, D_out={D_OUT}: input_linear = nn.Linear(D_in, H), "
         f"middle_linear = nn.Linear(H, H), output_linear = nn.Linear(H, D_out)")
DEPTHS = (0, 1, 2, 3)
INSTANCES, CALLS = 6, 20     # 120 calls; a model that fixes its depth once shows per instance
DRAWS = 1600                 # forward passes of one model: the distribution of the depths
TAIL = 1e-11                 # each one-sided test's failure probability (see above)
LARGE_CALLS = 3
SEPARATION = 0.05            # every two depths' outputs differ by 5% of their size or more


@lru_cache(maxsize=None)
def binomial_bounds(n: int, p: float, tail: float = TAIL) -> tuple[int, int]:
    """(least, most) with P(X < least) <= tail and P(X > most) <= tail, X ~ Bin(n, p)."""
    k = np.arange(n + 1)
    log_choose = np.array([lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) for i in k])
    pmf = np.exp(log_choose + k * log(p) + (n - k) * log1p(-p))
    below = np.cumsum(pmf)                 # P(X <= k)
    above = np.cumsum(pmf[::-1])[::-1]     # P(X >= k)
    least = int(np.sum(below <= tail))     # P(X < least) = below[least - 1] <= tail
    most = int(np.argmax(above <= tail)) - 1 if above[-1] <= tail else n
    return least, most


def steps(depth: int, middle_act: str | None = "relu"):
    return ([("input_linear", "relu")] + [("middle_linear", middle_act)] * depth
            + [("output_linear", None)])


def _variants(weights, x):
    """Outputs the judge can tell apart: depth 0..5, and 1..3 without the middle ReLU."""
    found = {d: mc.chain(x, steps(d), weights)[0] for d in range(6)}
    found.update({f"{d} without ReLU": mc.chain(x, steps(d, None), weights)[0]
                  for d in (1, 2, 3)})
    return found


def _separated(weights, x, upstream) -> bool:
    outs = list(_variants(weights, x).values())
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            size = max(np.max(np.abs(a)), np.max(np.abs(b)))
            if np.max(np.abs(a - b)) < SEPARATION * size:
                return False
    for depth in DEPTHS:  # every parameter gets a gradient at every depth
        _, grads = mc.chain(x, steps(depth), weights, upstream)
        if any(not np.all(np.any(g != 0, axis=-1)) for k, g in grads.items()
               if k.endswith("weight")):
            return False
    return True


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    # a copy of the dict (the arrays are only read): both probes of a worker use them
    return dict(_inputs(seed))


@lru_cache(maxsize=2)
def _inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    while True:  # deterministic: the first draw whose depths are clearly apart
        weights = mc.linear_weights(rng, LAYERS, gain=1.5)
        x, upstream = rng.standard_normal((N, D_IN)), rng.standard_normal((N, D_OUT))
        if _separated(weights, x, upstream) and mc.clear_of_kinks(x, steps(3), weights):
            break
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 6])
    n, d_in, h, d_out = mc.large_sizes(large)
    layers = (("input_linear", d_in, h), ("middle_linear", h, h), ("output_linear", h, d_out))
    while True:  # deterministic: the first draw that passes `_depths_apart`
        big = {"x": large.standard_normal((n, d_in)),
               "upstream": large.standard_normal((n, d_out)),
               **mc.linear_weights(large, layers, gain=1.5)}
        if _depths_apart(big, big["x"]):
            break
    return {"x": x, "upstream": upstream, **weights, **mc.prefixed(mc.LARGE, big)}


def _depth_outputs(weights, x) -> tuple[list[np.ndarray], float]:
    """The outputs of depths 0..3, and how close to 0 any ReLU input on the way comes
    (depth 3 passes every ReLU the lower depths pass). One pass through the layers: the
    first one is the costly one at the large sizes."""
    outs, h, closest = [], None, np.inf
    for name, _ in steps(3)[:-1]:
        z = (x if h is None else h) @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        closest = min(closest, float(np.min(np.abs(z))))
        h = np.maximum(z, 0)
        outs.append(h @ weights["output_linear.weight"].T + weights["output_linear.bias"])
    return outs, closest


def _depths_apart(weights, x) -> bool:
    """Whether the outputs of depths 0..3 differ clearly and no ReLU input on the way
    lies within mc.KINK_MARGIN of 0."""
    outs, closest = _depth_outputs(weights, x)
    return closest >= mc.KINK_MARGIN and all(
        np.max(np.abs(a - b)) >= SEPARATION * max(np.max(np.abs(a)), np.max(np.abs(b)))
        for i, a in enumerate(outs) for b in outs[i + 1:])


def weights_of(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    return {k: inputs[prefix + k] for k in EXPECTED}


EXERCISE = Exercise(
    name="e06_dynamic_net",
    title={"en": "A dynamic net with weight sharing", "ko": "가중치를 공유하는 동적 신경망"},
    names=("DynamicNet",),
    make_inputs=make_inputs,
    messages={
        **mc.MESSAGES,
        "depth_unmatched": {
            "en": "{bad} of {total} outputs match none of the four possible networks (0, 1, 2 "
                  "or 3 uses of middle_linear + ReLU, with the grader's weights); the first "
                  "was call {call} of model {model}.",
            "ko": "출력 {total}개 중 {bad}개가 가능한 네 가지 신경망(채점기의 가중치로 "
                  "middle_linear + ReLU를 0, 1, 2, 3번 적용) 중 어느 것과도 맞지 않습니다. 처음은 "
                  "{model}번째 모델의 {call}번째 호출이었습니다.",
        },
        "seen_as": {
            "en": "That output is what {what} gives.",
            "ko": "그 출력은 {what}의 결과와 같습니다.",
        },
        "depth_n": {"en": "depth {depth} (middle_linear + ReLU applied {depth} times)",
                    "ko": "깊이 {depth} (middle_linear + ReLU를 {depth}번 적용)"},
        "depth_n_no_relu": {
            "en": "depth {depth} without the ReLU after middle_linear (h = middle_linear(h), "
                  "{depth} times)",
            "ko": "middle_linear 뒤의 ReLU 없이 깊이 {depth} (h = middle_linear(h)를 {depth}번)",
        },
        "depth_spread": {
            "en": "Over {total} forward passes, each depth came up this often (depth: "
                  "passes): {counts}. Each of 0, 1, 2, 3 should come up about equally often "
                  "(here between {least} and {most} times).",
            "ko": "순전파 {total}번에서 각 깊이가 나온 횟수(깊이: 횟수)는 {counts}입니다. 0, 1, 2, "
                  "3이 각각 거의 같은 빈도로(여기서는 {least}번에서 {most}번 사이) 나와야 합니다.",
        },
        "depth_pairs": {
            "en": "The depths follow a pattern: of {total} pairs of consecutive forward "
                  "passes, each (depth, next depth) should come up about equally often (here "
                  "at least {least} times), but these came up too rarely: {rare}.",
            "ko": "깊이가 일정한 패턴을 따릅니다: 연속된 순전파 {total}쌍에서 (깊이, 다음 깊이)의 "
                  "각 조합이 거의 같은 빈도로(여기서는 최소 {least}번) 나와야 하는데, 다음 조합이 "
                  "너무 드물게 나왔습니다: {rare}.",
        },
        "large_depth_unmatched": {
            "en": "At the tutorial's sizes or larger (N={n} rows, D_in={d_in}, H={h}, "
                  "D_out={d_out}), call {call} gave an output that matches none of depths "
                  "0 to 3 (with the grader's weights).",
            "ko": "튜토리얼 크기 이상(N={n}행, D_in={d_in}, H={h}, D_out={d_out})에서 {call}번째 "
                  "호출의 출력이 (채점기의 가중치로 계산한) 깊이 0~3 중 어느 것과도 맞지 "
                  "않습니다.",
        },
        "large_gradients_wrong": {
            "en": "At the tutorial's sizes or larger (N={n} rows, D_in={d_in}, H={h}, "
                  "D_out={d_out}), after output.backward(upstream) on a depth-{depth} call "
                  "(call {call}), the gradient of {param} is wrong.",
            "ko": "튜토리얼 크기 이상(N={n}행, D_in={d_in}, H={h}, D_out={d_out})에서 깊이 "
                  "{depth}인 호출({call}번째)의 output.backward(upstream) 후 {param}의 기울기가 "
                  "틀렸습니다.",
        },
        "wrong_signature": {
            "en": "DynamicNet must be built as DynamicNet(D_in, H, D_out) (the grader calls "
                  "DynamicNet({d_in}, {h}, {d_out})), but its __init__ takes {signature}. Keep "
                  "the given __init__ with input_linear, middle_linear and output_linear. The "
                  "newer PyTorch tutorial's DynamicNet (a polynomial with parameters a, b, c, "
                  "d, e and a random 4th/5th-order term) is a different model from this "
                  "exercise's.",
            "ko": "DynamicNet은 DynamicNet(D_in, H, D_out)으로 만들어야 하는데 (채점기는 "
                  "DynamicNet({d_in}, {h}, {d_out})을 호출합니다) __init__이 {signature}을(를) "
                  "받습니다. input_linear, middle_linear, output_linear를 만드는 주어진 __init__을 "
                  "그대로 두세요. 최신 PyTorch 튜토리얼의 DynamicNet(파라미터 a, b, c, d, e와 "
                  "무작위 4차/5차 항을 가진 다항식)은 이 문제의 모델과 다른 모델입니다.",
        },
        "no_depth_matched": {
            "en": "Too few outputs matched a depth from 0 to 3 to tell which depths were "
                  "drawn (see the check on outputs).",
            "ko": "0~3 중 어느 깊이와 맞는 출력이 너무 적어서 어떤 깊이가 뽑혔는지 판단할 수 "
                  "없습니다 (출력 검사를 보세요).",
        },
        "same_every_call": {
            "en": "{constant} of {instances} models gave the same output on all {calls} calls: "
                  "the depth must be drawn anew inside forward, on every call.",
            "ko": "모델 {instances}개 중 {constant}개가 {calls}번의 호출에서 모두 같은 출력을 "
                  "냈습니다: 깊이는 forward 안에서 호출할 때마다 새로 뽑아야 합니다.",
        },
        "gradients_wrong": {
            "en": "After output.backward(upstream) on a depth-{depth} call (call {call} of model "
                  "{model}), the gradient of {param} is wrong. A shared layer's gradient is the "
                  "sum over all its uses; autograd adds them up when the same "
                  "self.middle_linear is called each time.",
            "ko": "깊이 {depth}인 호출({model}번째 모델의 {call}번째 호출)에서 "
                  "output.backward(upstream) 후 {param}의 기울기가 틀렸습니다. 공유된 층의 기울기는 "
                  "모든 사용에서 나온 기울기의 합이며, 매번 같은 self.middle_linear를 호출하면 "
                  "autograd가 더해 줍니다.",
        },
        # misconceptions
        "swapped_sizes": {
            "en": "a layer got its sizes in the wrong order or the wrong size: "
                  "nn.Linear(in_features, out_features), so input_linear = nn.Linear(D_in, H), "
                  "middle_linear = nn.Linear(H, H), output_linear = nn.Linear(H, D_out).",
            "ko": "층의 크기 순서나 값이 틀렸습니다: nn.Linear(in_features, out_features)이므로 "
                  "input_linear = nn.Linear(D_in, H), middle_linear = nn.Linear(H, H), "
                  "output_linear = nn.Linear(H, D_out)입니다.",
        },
        "extra_layers": {
            "en": "the middle layers are separate copies (a ModuleList or several nn.Linear): "
                  "weight sharing means the SAME self.middle_linear is applied each time.",
            "ko": "가운데 층이 별개의 복사본입니다 (ModuleList나 여러 개의 nn.Linear): 가중치 "
                  "공유란 매번 같은(SAME) self.middle_linear를 적용한다는 뜻입니다.",
        },
        "layer_in_forward": {
            "en": "a new layer is created inside forward, so the repeated layer has fresh "
                  "random weights and shares nothing with self.middle_linear.",
            "ko": "forward 안에서 새 층을 만들고 있어서, 반복되는 층이 새 무작위 가중치를 갖고 "
                  "self.middle_linear와 아무것도 공유하지 않습니다.",
        },
        "middle_relu_missing": {
            "en": "the ReLU after middle_linear is missing: each repetition is "
                  "h = relu(middle_linear(h)).",
            "ko": "middle_linear 뒤의 ReLU가 빠졌습니다: 매 반복은 h = relu(middle_linear(h))입니다.",
        },
        "depth_range": {
            "en": "the depth's range is off by one: random.randint(0, 3) includes both ends "
                  "(0, 1, 2, 3), while range(4) and random.randrange(4) stop before 4.",
            "ko": "깊이의 범위가 하나 어긋났습니다: random.randint(0, 3)은 양 끝(0, 1, 2, 3)을 "
                  "포함하고, range(4)와 random.randrange(4)는 4 직전에서 멈춥니다.",
        },
        "depth_not_uniform": {
            "en": "the four depths are not equally likely: draw the number of repetitions once, "
                  "with random.randint(0, 3). A separate coin flip for each of three possible "
                  "layers makes depths 1 and 2 three times as likely as 0 and 3.",
            "ko": "네 가지 깊이가 같은 확률로 나오지 않습니다: 반복 횟수를 random.randint(0, 3)으로 "
                  "한 번에 뽑으세요. 세 층 각각에 대해 따로 동전을 던지면 깊이 1과 2가 0과 3보다 세 배 "
                  "자주 나옵니다.",
        },
        "depth_pattern": {
            "en": "the depth is not drawn at random: it follows a fixed pattern (a counter, "
                  "a cycle, a list gone through in order), so each call's depth can be told "
                  "from the call before. Draw it with random.randint(0, 3) inside forward.",
            "ko": "깊이를 무작위로 뽑지 않고 정해진 패턴(카운터, 순환, 차례로 도는 리스트)을 "
                  "따르게 해서, 이전 호출로 다음 호출의 깊이를 알 수 있습니다. forward 안에서 "
                  "random.randint(0, 3)으로 뽑으세요.",
        },
        "depth_fixed": {
            "en": "the depth never changes: it must be drawn at random (0 to 3) on every call.",
            "ko": "깊이가 전혀 바뀌지 않습니다: 호출할 때마다 0부터 3까지 무작위로 뽑아야 합니다.",
        },
        "depth_at_init": {
            "en": "the depth is drawn once, when the model is built (in __init__), so each model "
                  "keeps one depth for ever; draw it inside forward instead, on every call.",
            "ko": "깊이를 모델을 만들 때(__init__에서) 한 번만 뽑아서, 모델마다 처음 뽑은 깊이를 "
                  "계속 씁니다. 깊이는 forward 안에서 호출할 때마다 뽑으세요.",
        },
        "graph_cut": {
            "en": "part of the computation is hidden from autograd (torch.no_grad(), .detach(), "
                  ".data or a copy of the layer), so its parameters get no gradient.",
            "ko": "계산의 일부가 autograd에서 가려져 있어서 (torch.no_grad(), .detach(), .data, "
                  "층의 복사본) 그 파라미터가 기울기를 받지 못합니다.",
        },
    },
    hints={
        "en": ("forward is plain Python: draw the depth with random.randint(0, 3) inside "
               "forward, then loop that many times over the SAME self.middle_linear.",
               "h = torch.relu(self.input_linear(x)); for _ in range(random.randint(0, 3)): "
               "h = torch.relu(self.middle_linear(h)); return self.output_linear(h). Create no "
               "layer in forward and draw no depth in __init__."),
        "ko": ("forward는 평범한 파이썬입니다: forward 안에서 random.randint(0, 3)으로 깊이를 "
               "뽑고, 그 횟수만큼 같은(SAME) self.middle_linear를 반복해서 적용하세요.",
               "h = torch.relu(self.input_linear(x)); for _ in range(random.randint(0, 3)): "
               "h = torch.relu(self.middle_linear(h)); return self.output_linear(h). forward "
               "안에서 층을 만들지 말고, __init__에서 깊이를 뽑지 마세요."),
    },
)


# ------------------------------------------------------------------ probes (worker)

def _signature_mismatch(cls) -> str | None:
    """The signature of `cls` when it cannot be called as cls(D_in, H, D_out), else None."""
    import inspect

    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to read: just try to build one
        return None
    try:
        signature.bind(D_IN, H, D_OUT)
    except TypeError:
        return str(signature)[:120]
    return None


@EXERCISE.probe
def calls(sub, inputs):
    """INSTANCES fresh models with the grader's weights, each called CALLS times on one x,
    then DRAWS forward passes of one more model (how often each depth comes up)."""
    import torch

    signature = _signature_mismatch(sub.DynamicNet)
    if signature is not None:
        return {"signature": signature}
    x = torch.tensor(inputs["x"], dtype=torch.float32)
    upstream = torch.tensor(inputs["upstream"], dtype=torch.float32)
    models, structure = [], None
    for _ in range(INSTANCES):
        model = sub.DynamicNet(D_IN, H, D_OUT)
        structure = structure or mc.describe_parameters(model, x)
        load = mc.load_weights(model, weights_of(inputs))
        if load["error"] or load["unexpected"]:
            return {"structure": structure, "load": load}
        results = []
        for _ in range(CALLS):
            for param in model.parameters():
                param.grad = None
            out = model(x)
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == (N, D_OUT):
                (out * upstream).sum().backward()
            results.append({"out": out, "grads": mc.gradients(model, EXPECTED)})
        models.append(results)
    model = sub.DynamicNet(D_IN, H, D_OUT)
    mc.load_weights(model, weights_of(inputs))
    draws = []
    with torch.no_grad():
        for index in range(DRAWS):   # always all of them: a verdict never depends on speed
            if index == DRAWS // 2:
                model.eval()  # the depth is drawn anew in eval mode too (it is no dropout)
            out = model(x)
            if not isinstance(out, torch.Tensor) or out.shape != (N, D_OUT):
                break
            draws.append(out.detach().to(device="cpu", dtype=torch.float32))
    return {"structure": structure, "load": load, "models": models,
            "draws": torch.stack(draws) if draws else None}


@EXERCISE.probe
def large(sub, inputs):
    """LARGE_CALLS calls with backward of one model at the large sizes."""
    import torch

    signature = _signature_mismatch(sub.DynamicNet)
    if signature is not None:
        return {"signature": signature}
    about = mc.sizes_of(inputs, mc.LARGE, "input_linear", "output_linear")
    try:
        model = sub.DynamicNet(about["d_in"], about["h"], about["d_out"])
        load = mc.load_weights(model, weights_of(inputs, mc.LARGE))
        if load["error"] or load["unexpected"]:
            return {"load": load}
        x = torch.tensor(inputs[mc.LARGE + "x"], dtype=torch.float32)
        upstream = torch.tensor(inputs[mc.LARGE + "upstream"], dtype=torch.float32)
        results = []
        for _ in range(LARGE_CALLS):
            for param in model.parameters():
                param.grad = None
            out = model(x)
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == upstream.shape:
                (out * upstream).sum().backward()
            results.append({"out": out, "grads": mc.gradients(model, EXPECTED)})
        with torch.no_grad():
            one = model(x[:1])  # a batch of one row keeps its shape (1, D_out)
    except Exception as exc:  # noqa: BLE001 - reported with the sizes it happened at
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"load": load, "calls": results, "one": one}


# ------------------------------------------------------------------ judges

_LAST: tuple = (None, None, None)


def _judged_calls(ctx):
    """The calls of this submission's probe (inferred once for its four judges), and the
    verdict to give when the model could not even be built."""
    global _LAST
    if _LAST[0] is not ctx.out or _LAST[1] is not ctx.inputs:
        _LAST = (ctx.out, ctx.inputs, _Calls(ctx))
    calls = _LAST[2]
    return calls, calls.load_failure()


class _Calls:
    """The student's calls with each one's depth as the judge infers it from the output."""

    def __init__(self, ctx):
        self.inputs = ctx.inputs
        out = ctx.out if isinstance(ctx.out, dict) else {}
        self.load = out.get("load")
        self.load_problems = mc.load_problems(self.load)
        models = out.get("models") if isinstance(out.get("models"), list) else []
        self.models = [m if isinstance(m, list) else [] for m in models]
        variants = _variants(weights_of(ctx.inputs), ctx.inputs["x"])
        self.signature = out.get("signature")
        self.depth = []      # per model, per call: 0..3 or None
        self.seen = []       # per model, per call: any variant's label or None
        for calls in self.models:
            seen = [next((label for label, want in variants.items()
                          if mc.matches(self._out(call), want)), None) for call in calls]
            self.seen.append(seen)
            self.depth.append([s if s in DEPTHS else None for s in seen])
        # the many forward passes of one more model: each one's variant label or None
        draws = out.get("draws")
        self.draw_seen: list = []
        if isinstance(draws, TensorData) and draws.array.ndim == 3:
            self.draw_seen = [None] * len(draws.array)
            for label, want in variants.items():
                for index in np.flatnonzero(mc.matches_many(draws, want)):
                    if self.draw_seen[index] is None:
                        self.draw_seen[index] = label

    @staticmethod
    def _out(call):
        return call.get("out") if isinstance(call, dict) else None

    def flat(self, table):
        return [value for row in table for value in row]

    @property
    def total(self) -> int:
        return sum(len(m) for m in self.models)

    def load_failure(self):
        if self.signature is not None:
            return signature_failure(self.signature)
        if not self.load_problems:
            return None
        return failed(*self.load_problems, misconception=mc.load_misconception(self.load))

    def constant_models(self) -> list[int]:
        """Models whose output was the same on every call."""
        constant = []
        for index, calls in enumerate(self.models):
            outs = [as_array(self._out(c)) for c in calls]
            if outs and all(o is not None and o.shape == outs[0].shape
                            and np.array_equal(o, outs[0]) for o in outs):
                constant.append(index)
        return constant

    def fixed_misconception(self) -> str | None:
        """depth_fixed / depth_at_init / depth_range, from what was drawn."""
        constant = self.constant_models()
        if self.models and len(constant) == len(self.models):
            firsts = [as_array(self._out(m[0])) for m in self.models if m]
            same = all(f is not None and f.shape == firsts[0].shape
                       and np.allclose(f, firsts[0]) for f in firsts)
            return "depth_fixed" if same else "depth_at_init"
        seen = {s for s in self.flat(self.seen) + self.draw_seen if s is not None}
        numeric = {s for s in seen if isinstance(s, int)}
        if numeric & {4, 5} or (len(numeric) >= 3 and (0 not in numeric or 3 not in numeric)):
            return "depth_range"
        return None

    def unmatched_misconception(self) -> str | None:
        if isinstance(self.load, dict) and self.load.get("missing"):
            return "extra_layers"
        seen = [s for s in self.flat(self.seen)]
        unmatched = [s for d, s in zip(self.flat(self.depth), seen) if d is None]
        if unmatched and all(s in (4, 5) for s in unmatched):
            return "depth_range"
        if unmatched and all(isinstance(s, str) and s.endswith("without ReLU")
                             for s in unmatched):
            return "middle_relu_missing"
        calls = [c for c in self.flat(self.models) if isinstance(c, dict)]
        if unmatched and all(s is None for s in unmatched) and calls and \
                all("middle_linear.weight" in mc.missing_grads(c.get("grads"), EXPECTED)
                    for c in calls):
            return "layer_in_forward"
        return None


def signature_failure(signature):
    return failed(t("wrong_signature", signature=signature, d_in=D_IN, h=H, d_out=D_OUT))


@EXERCISE.check(points=1, probe="calls")
def shared_layers(ctx):
    if isinstance(ctx.out, dict) and ctx.out.get("signature") is not None:
        return signature_failure(ctx.out["signature"])
    info = ctx.out.get("structure") if isinstance(ctx.out, dict) else None
    registration, shapes = mc.structure_problems(info, EXPECTED, MODULES, SIZES,
                                                 "middle_linear")
    if not registration and not shapes:
        return passed()
    key = None
    if any(line.key == "extra_parameters" for line in registration):
        key = "extra_layers"
    elif any(line.key == "wrong_param_shape" for line in shapes):
        key = "swapped_sizes"
    elif mc.missing_only_biases(info, EXPECTED):
        key = "bias_missing"
    return failed(*registration, *shapes, misconception=key)


@EXERCISE.check(points=2, probe="calls")
def outputs_match_a_depth(ctx):
    calls, failure = _judged_calls(ctx)
    if failure:
        return failure
    if not calls.total:
        return failed(t("no_result"))
    for m, row in enumerate(calls.models):
        for c, call in enumerate(row):
            out = calls._out(call)
            if not isinstance(out, TensorData) or out.shape != (N, D_OUT):
                want = mc.chain(ctx.inputs["x"], steps(0), weights_of(ctx.inputs))[0]
                return failed(*mc.output_problems("forward(x)", out, want))
    bad = [(m, c) for m, row in enumerate(calls.depth) for c, d in enumerate(row) if d is None]
    if not bad:
        return passed()
    m, c = bad[0]
    lines = [t("depth_unmatched", bad=len(bad), total=calls.total, model=m + 1, call=c + 1)]
    label = calls.seen[m][c]
    if label is not None:
        lines.append(t("seen_as", what=_label_text(label)))
    return failed(*lines, misconception=calls.unmatched_misconception())


def _label_text(label):
    if isinstance(label, int):
        return t("depth_n", depth=label)
    return t("depth_n_no_relu", depth=int(str(label).split()[0]))


@EXERCISE.check(points=1, probe="calls")
def every_depth_drawn(ctx):
    """How often each depth came up in DRAWS passes of one model, and in which order
    (see the module's docstring for the tests and their failure probability)."""
    calls, failure = _judged_calls(ctx)
    if failure:
        return failure
    drawn = [d for d in calls.draw_seen if d in DEPTHS]
    if len(drawn) < DRAWS // 2:
        # most outputs match no depth (a new layer in forward, say): the depths drawn
        # cannot be told, and the check on outputs already says why
        return failed(t("no_depth_matched"))
    counts = Counter(drawn)
    least, most = binomial_bounds(len(drawn), 1 / 4)
    if not all(least <= counts[d] <= most for d in DEPTHS):
        shown = ", ".join(f"{d}: {counts[d]}" for d in DEPTHS)
        key = calls.fixed_misconception()
        if key is None and all(counts[d] for d in DEPTHS):
            key = "depth_not_uniform"
        return failed(t("depth_spread", total=len(drawn), counts=shown, least=least,
                        most=most), misconception=key)
    # one draw must not depend on the one before: non-overlapping pairs of passes
    seen = calls.draw_seen
    pairs = Counter((a, b) for a, b in zip(seen[0::2], seen[1::2])
                    if a in DEPTHS and b in DEPTHS)
    total = sum(pairs.values())
    least, _ = binomial_bounds(total, 1 / 16)
    rare = [(a, b) for a in DEPTHS for b in DEPTHS if pairs[(a, b)] < least]
    if rare:
        shown = ", ".join(f"{a}\u2192{b}: {pairs[(a, b)]}" for a, b in rare)
        return failed(t("depth_pairs", total=total, rare=shown, least=least),
                      misconception="depth_pattern")
    return passed()


@EXERCISE.check(points=1, probe="calls")
def drawn_every_call(ctx):
    calls, failure = _judged_calls(ctx)
    if failure:
        return failure
    if not calls.total:
        return failed(t("no_result"))
    constant = calls.constant_models()
    if not constant:
        return passed()
    return failed(t("same_every_call", constant=len(constant), instances=len(calls.models),
                    calls=CALLS), misconception=calls.fixed_misconception())


@EXERCISE.check(points=1, probe="calls")
def shared_gradients(ctx):
    calls, failure = _judged_calls(ctx)
    if failure:
        return failure
    matched = [(m, c, d) for m, row in enumerate(calls.depth) for c, d in enumerate(row)
               if d is not None]
    if not matched:
        return failed(t("no_depth_matched"))
    expected = {d: mc.chain(ctx.inputs["x"], steps(d), weights_of(ctx.inputs),
                            ctx.inputs["upstream"])[1] for d in DEPTHS}
    for m, c, d in matched:
        grads = calls.models[m][c].get("grads") or {}
        absent = [k for k in mc.missing_grads(grads, EXPECTED) if k in expected[d]]
        if absent:
            return failed(t("no_grad_for", names=", ".join(absent)), misconception="graph_cut")
        for key, want in expected[d].items():
            problems = compare(key + ".grad", grads.get(key), want, mc.MODULE_RTOL)
            if problems:
                return failed(t("gradients_wrong", depth=d, model=m + 1, call=c + 1, param=key),
                              *problems)
        # a layer not used at this depth (middle_linear at depth 0) must not get a gradient
    return passed()


@EXERCISE.check(points=1, probe="large")
def large_batch(ctx):
    """Each call at the large sizes gives one depth's output and that depth's gradients."""
    out = ctx.out if isinstance(ctx.out, dict) else {}
    if out.get("signature") is not None:
        return signature_failure(out["signature"])
    about = mc.sizes_of(ctx.inputs, mc.LARGE, "input_linear", "output_linear")
    if "error" in out:
        return failed(t("large_failed", error=out["error"], **about))
    problems = mc.load_problems(out.get("load"))
    if problems:
        return failed(*problems, misconception=mc.load_misconception(out.get("load")))
    x, weights = ctx.inputs[mc.LARGE + "x"], weights_of(ctx.inputs, mc.LARGE)
    upstream = ctx.inputs[mc.LARGE + "upstream"]
    outputs, _ = _depth_outputs(weights, x)
    expected_grads = {}   # only for the depths drawn: each costs a backward pass
    results = out.get("calls") if isinstance(out.get("calls"), list) else []
    if len(results) != LARGE_CALLS:
        return failed(t("no_result"))
    for index, call in enumerate(results, start=1):
        got = call.get("out") if isinstance(call, dict) else None
        depth = next((d for d in DEPTHS if mc.matches(got, outputs[d])), None)
        if depth is None:
            if not isinstance(got, TensorData) or got.shape != outputs[0].shape:
                return failed(t("large_depth_unmatched", call=index, **about),
                              *mc.output_problems("forward(x)", got, outputs[0]),
                              *mc.rows_hint(got, outputs[0]))
            return failed(t("large_depth_unmatched", call=index, **about))
        if depth not in expected_grads:
            expected_grads[depth] = mc.chain(x, steps(depth), weights, upstream)[1]
        grads = call.get("grads") or {}
        for key, want in expected_grads[depth].items():
            problems = compare(key + ".grad", grads.get(key), want, mc.MODULE_RTOL)
            if problems:
                return failed(t("large_gradients_wrong", depth=depth, call=index, param=key,
                                **about), *problems)
    one = out.get("one")
    if not any(mc.matches(one, outputs[d][:1]) for d in DEPTHS):
        return failed(*mc.output_problems("forward(x[:1])", one, outputs[0][:1]))
    return passed()


@hookimpl
def grader_exercises():
    return [EXERCISE]
