"""Grader: e06's judges (NumPy only): each call's depth inferred from its output, the
depth statistics (see the package's docstring for their failure probability), gradients.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from math import lgamma, log, log1p

import numpy as np

from grader.checks.e06_dynamic_net.inputs import (CALLS, D_IN, D_OUT, DEPTHS, DRAWS,
                                                  EXPECTED, H, LARGE_CALLS, N, depth_outputs,
                                                  steps, variants, weights_of)
from grader.checks.modules.inputs import LARGE, sizes_of
from grader.checks.modules.judges import (MODULE_RTOL, chain, load_misconception,
                                          load_problems, matches, matches_many,
                                          missing_grads, missing_only_biases,
                                          output_problems, rows_hint, structure_problems)
from grader.codec import TensorData
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare

MODULES = "input_linear, middle_linear, output_linear"
SIZES = (f"D_in={D_IN}, H={H}, D_out={D_OUT}: input_linear = nn.Linear(D_in, H), "
         f"middle_linear = nn.Linear(H, H), output_linear = nn.Linear(H, D_out)")
TAIL = 1e-11                 # each one-sided test's failure probability (see the docstring)


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
        self.structure = out.get("structure")
        self.load_problems = load_problems(self.load)
        models = out.get("models") if isinstance(out.get("models"), list) else []
        self.models = [m if isinstance(m, list) else [] for m in models]
        candidates = variants(weights_of(ctx.inputs), ctx.inputs["x"])
        self.signature = out.get("signature")
        self.depth = []      # per model, per call: 0..3 or None
        self.seen = []       # per model, per call: any variant's label or None
        for calls in self.models:
            seen = [next((label for label, want in candidates.items()
                          if matches(self._out(call), want)), None) for call in calls]
            self.seen.append(seen)
            self.depth.append([s if s in DEPTHS else None for s in seen])
        # the many forward passes of one more model: each one's variant label or None
        draws = out.get("draws")
        self.draw_seen: list = []
        if isinstance(draws, TensorData) and draws.array.ndim == 3:
            self.draw_seen = [None] * len(draws.array)
            for label, want in candidates.items():
                for index in np.flatnonzero(matches_many(draws, want)):
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
        return failed(*self.load_problems, misconception=load_misconception(self.load))

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
        if isinstance(self.load, dict) and self.load.get("missing") \
                and middle_copies(self.structure) > 1:
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
                all("middle_linear.weight" in missing_grads(c.get("grads"), EXPECTED)
                    for c in calls):
            return "layer_in_forward"
        return None


def middle_copies(info) -> int:
    """How many distinct parameters of a `describe_parameters` result have middle_linear's
    weight's shape: more than one are separate middle layers (a layer registered under two
    names, in a ModuleList and as an attribute, is one)."""
    if not isinstance(info, dict) or not isinstance(info.get("state"), dict):
        return 0
    shape = list(EXPECTED["middle_linear.weight"])
    names = info.get("params") or [[name] for name in info["state"]]
    return sum(1 for aliases in names if isinstance(aliases, list) and aliases
               and info["state"].get(str(aliases[0])) == shape)


def signature_failure(signature):
    return failed(t("wrong_signature", signature=signature, d_in=D_IN, h=H, d_out=D_OUT))


def shared_layers(ctx):
    if isinstance(ctx.out, dict) and ctx.out.get("signature") is not None:
        return signature_failure(ctx.out["signature"])
    info = ctx.out.get("structure") if isinstance(ctx.out, dict) else None
    registration, shapes = structure_problems(info, EXPECTED, MODULES, SIZES, "middle_linear")
    if not registration and not shapes:
        return passed()
    # this is the check on registered layers: the line that refers to it is the others'
    shapes = [line for line in shapes if line.key != "load_missing"]
    key = None
    if isinstance(info, dict) and info.get("count") == 0:
        key = "layers_not_registered"
    elif middle_copies(info) > 1:
        # separate middle layers, not one shared; layers only renamed (all of them in
        # one nn.ModuleList) are no copies, nor is an extra parameter of another shape
        key = "extra_layers"
    elif any(line.key == "wrong_param_shape" for line in shapes):
        key = "swapped_sizes"
    elif missing_only_biases(info, EXPECTED):
        key = "bias_missing"
    return failed(*registration, *shapes, misconception=key)


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
                want = chain(ctx.inputs["x"], steps(0), weights_of(ctx.inputs))[0]
                return failed(*output_problems("forward(x)", out, want))
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


def every_depth_drawn(ctx):
    """How often each depth came up in DRAWS passes of one model, and in which order
    (see the package's docstring for the tests and their failure probability)."""
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
                        most=most), *_by_mode(calls.draw_seen), misconception=key)
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


def _by_mode(seen: list) -> list:
    """A line when the depths drawn in training mode (the first half of the passes) are
    not those drawn in eval mode (the second half): the depth depends on model.training."""
    half = DRAWS // 2
    train = sorted({d for d in seen[:half] if d in DEPTHS})
    evaluation = sorted({d for d in seen[half:] if d in DEPTHS})
    if not train or not evaluation or train == evaluation:
        return []
    return [t("depths_by_mode", train=", ".join(map(str, train)),
              eval=", ".join(map(str, evaluation)))]


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


def shared_gradients(ctx):
    calls, failure = _judged_calls(ctx)
    if failure:
        return failure
    matched = [(m, c, d) for m, row in enumerate(calls.depth) for c, d in enumerate(row)
               if d is not None]
    if not matched:
        return failed(t("no_depth_matched"))
    expected = {d: chain(ctx.inputs["x"], steps(d), weights_of(ctx.inputs),
                         ctx.inputs["upstream"])[1] for d in DEPTHS}
    for m, c, d in matched:
        grads = calls.models[m][c].get("grads") or {}
        absent = [k for k in missing_grads(grads, EXPECTED) if k in expected[d]]
        if absent:
            return failed(t("no_grad_for", names=", ".join(absent)), misconception="graph_cut")
        for key, want in expected[d].items():
            problems = compare(key + ".grad", grads.get(key), want, MODULE_RTOL)
            if problems:
                return failed(t("gradients_wrong", depth=d, model=m + 1, call=c + 1, param=key),
                              *problems)
        # a layer not used at this depth (middle_linear at depth 0) must not get a gradient
    return passed()


def large_batch(ctx):
    """Each call at the large sizes gives one depth's output and that depth's gradients."""
    out = ctx.out if isinstance(ctx.out, dict) else {}
    if out.get("signature") is not None:
        return signature_failure(out["signature"])
    about = sizes_of(ctx.inputs, LARGE, "input_linear", "output_linear")
    if "error" in out:
        return failed(t("large_failed", error=out["error"], **about))
    problems = load_problems(out.get("load"))
    if problems:
        return failed(*problems, misconception=load_misconception(out.get("load")))
    x, weights = ctx.inputs[LARGE + "x"], weights_of(ctx.inputs, LARGE)
    upstream = ctx.inputs[LARGE + "upstream"]
    outputs, _ = depth_outputs(weights, x)
    expected_grads = {}   # only for the depths drawn: each costs a backward pass
    results = out.get("calls") if isinstance(out.get("calls"), list) else []
    if len(results) != LARGE_CALLS:
        return failed(t("no_result"))
    for index, call in enumerate(results, start=1):
        got = call.get("out") if isinstance(call, dict) else None
        depth = next((d for d in DEPTHS if matches(got, outputs[d])), None)
        if depth is None:
            if not isinstance(got, TensorData) or got.shape != outputs[0].shape:
                return failed(t("large_depth_unmatched", call=index, **about),
                              *output_problems("forward(x)", got, outputs[0]),
                              *rows_hint(got, outputs[0]))
            return failed(t("large_depth_unmatched", call=index, **about))
        if depth not in expected_grads:
            expected_grads[depth] = chain(x, steps(depth), weights, upstream)[1]
        grads = call.get("grads") or {}
        for key, want in expected_grads[depth].items():
            problems = compare(key + ".grad", grads.get(key), want, MODULE_RTOL)
            if problems:
                return failed(t("large_gradients_wrong", depth=depth, call=index, param=key,
                                **about), *problems)
    one = out.get("one")
    if not any(matches(one, outputs[d][:1]) for d in DEPTHS):
        return failed(*output_problems("forward(x[:1])", one, outputs[0][:1]))
    return passed()
