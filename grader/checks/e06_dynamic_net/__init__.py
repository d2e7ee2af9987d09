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

from pathlib import Path

from collections import Counter
from functools import lru_cache
from math import lgamma, log, log1p

import numpy as np

from grader import course, hookimpl
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


ENTRY = course.entry("e06_dynamic_net")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
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
