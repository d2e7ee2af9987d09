"""e05: the two-layer network as an nn.Module (linear1, ReLU, linear2).

Probe plan (every shape and value drawn from the grader's seed, none from the tutorial;
TwoLayerNet has no default argument to leave out):
- structure: TwoLayerNet(5, 7, 3) registers linear1 and linear2 with the right shapes.
- forward: the grader's weights loaded, forward twice on a small x (6 rows), then
  backward with a random upstream gradient. Detailed feedback comes from here.
- large: the same at the tutorial's sizes or larger, rows beyond any power of two a
  student might batch by: N in 65..140, D_in in 1000..1100, H in 100..130, D_out in
  10..15 (none a power of two), forward twice and backward.

Tolerance: mc.MODULE_RTOL, measured (see modules_common).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader import course, hookimpl
from grader.checks import modules_common as mc
from grader.exercise import Exercise, failed, passed, t
from grader.judging import as_array, compare

N, D_IN, H, D_OUT = 6, 5, 7, 3     # all different, so swapped sizes always show
LAYERS = (("linear1", D_IN, H), ("linear2", H, D_OUT))
EXPECTED = {"linear1.weight": (H, D_IN), "linear1.bias": (H,),
            "linear2.weight": (D_OUT, H), "linear2.bias": (D_OUT,)}
MODULES = "linear1, linear2"
SIZES = f"D_in={D_IN}, H={H}, D_out={D_OUT}: linear1 = nn.Linear(D_in, H), " \
        f"linear2 = nn.Linear(H, D_out)"
STEPS = (("linear1", "relu"), ("linear2", None))


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    while True:  # deterministic: the first draw with no ReLU input within rounding of 0
        weights = mc.linear_weights(rng, LAYERS, gain=1.5)
        small = {"x": rng.standard_normal((N, D_IN)),
                 "upstream": rng.standard_normal((N, D_OUT)), **weights}
        if mc.clear_of_kinks(small["x"], STEPS, weights):
            break
    # from a generator of their own, so that the small inputs stay what they were
    large = np.random.default_rng([seed, 5])
    n, d_in, h, d_out = mc.large_sizes(large)
    while True:  # deterministic: the first draw with no ReLU input within rounding of 0
        big = {"x": large.standard_normal((n, d_in)),
               "upstream": large.standard_normal((n, d_out)),
               **mc.linear_weights(large, (("linear1", d_in, h), ("linear2", h, d_out)),
                                   gain=1.5)}
        if mc.clear_of_kinks(big["x"], STEPS, big):
            return {**small, **mc.prefixed(mc.LARGE, big)}


def weights_of(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    return {k: inputs[prefix + k] for k in EXPECTED}


ENTRY = course.entry("e05_two_layer_net")
TEXTS = Path(__file__).parent / "texts"

EXERCISE = Exercise(
    name=ENTRY.name,
    title={"en": ENTRY.title},
    names=ENTRY.names,
    texts=TEXTS,
    make_inputs=make_inputs,
)


# ------------------------------------------------------------------ probes (worker)

@EXERCISE.probe
def structure(sub, inputs):
    import torch

    sample = torch.tensor(inputs["x"], dtype=torch.float32)
    return mc.describe_parameters(sub.TwoLayerNet(D_IN, H, D_OUT), sample)


@EXERCISE.probe
def forward(sub, inputs):
    """forward twice on the grader's weights, then backward with a given upstream gradient."""
    return _forward_twice_and_backward(sub, inputs, "")


@EXERCISE.probe
def large(sub, inputs):
    """The forward probe at the large sizes; an exception is the judge's to explain."""
    try:
        return _forward_twice_and_backward(sub, inputs, mc.LARGE)
    except Exception as exc:  # noqa: BLE001 - reported with the sizes it happened at
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _forward_twice_and_backward(sub, inputs, prefix):
    import torch

    x = torch.tensor(inputs[prefix + "x"], dtype=torch.float32)
    n, d_in, h, d_out = mc.sizes_of(inputs, prefix, "linear1", "linear2").values()
    model = sub.TwoLayerNet(d_in, h, d_out)
    load = mc.load_weights(model, weights_of(inputs, prefix))
    if load["error"] or load["unexpected"]:
        return {"load": load}
    out = model(x)
    again = model(x)
    one = model(x[:1]).detach().clone()  # a batch of one row keeps its shape (1, D_out)
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == (n, d_out):
        (out * torch.tensor(inputs[prefix + "upstream"], dtype=torch.float32)).sum().backward()
    return {"load": load, "out": out, "again": again, "one": one,
            "grads": mc.gradients(model, EXPECTED)}


# ------------------------------------------------------------------ judges

def _structure(ctx):
    return mc.structure_problems(ctx.out, EXPECTED, MODULES, SIZES, "linear1")


@EXERCISE.check(points=1, probe="structure")
def layers_registered(ctx):
    registration, _ = _structure(ctx)
    if not registration:
        return passed()
    if not isinstance(ctx.out, dict):
        return failed(*registration)
    key = "layers_not_registered" if ctx.out.get("count") == 0 else None
    if mc.missing_only_biases(ctx.out, EXPECTED):
        key = "bias_missing"
    return failed(*registration, misconception=key)


@EXERCISE.check(points=1, probe="structure")
def layer_shapes(ctx):
    registration, shapes = _structure(ctx)
    if shapes:
        key = "swapped_sizes" if any(s.key == "wrong_param_shape" for s in shapes) else None
        return failed(*shapes, misconception=key)
    if not isinstance(ctx.out, dict) or not isinstance(ctx.out.get("state"), dict):
        return failed(*registration)
    return passed()


def _expected(inputs, steps=STEPS):
    return mc.chain(inputs["x"], steps, weights_of(inputs), inputs["upstream"])


def _loaded_or_failure(ctx):
    """A failed verdict when the grader's weights did not go into the model, else None."""
    load = ctx.out.get("load") if isinstance(ctx.out, dict) else None
    problems = mc.load_problems(load)
    if not problems:
        return None
    key = mc.load_misconception(load)
    if key is None and isinstance(load, dict) and load.get("unexpected"):
        key = "layers_not_registered"
    return failed(*problems, misconception=key)


@EXERCISE.check(points=2, probe="forward")
def forward_output(ctx):
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    expected, _ = _expected(ctx.inputs)
    problems = mc.output_problems("forward(x)", ctx.out.get("out"), expected)
    if not problems:
        # one row in, one row out: (1, D_out), not squeezed away
        problems = mc.output_problems("forward(x[:1])", ctx.out.get("one"), expected[:1])
        return failed(t("forward_wrong"), *problems) if problems else passed()
    return failed(t("forward_wrong"), *problems, misconception=_forward_misconception(ctx))


def _forward_misconception(ctx):
    out, again = ctx.out.get("out"), ctx.out.get("again")
    if as_array(out) is not None and as_array(again) is not None \
            and not mc.matches(again, as_array(out)):
        # a fresh layer in forward leaves a registered one without gradient; dropout or
        # noise change the output while every registered layer is still used
        if mc.missing_grads(ctx.out.get("grads"), EXPECTED):
            return "layer_in_forward"
        return "random_in_forward"
    variants = {
        "relu_missing": (("linear1", None), ("linear2", None)),
        "relu_after_output": (("linear1", "relu"), ("linear2", "relu")),
        "sigmoid_not_relu": (("linear1", "sigmoid"), ("linear2", None)),
    }
    for key, steps in variants.items():
        if mc.matches(out, _expected(ctx.inputs, steps)[0]):
            return key
    return None


@EXERCISE.check(points=2, probe="forward")
def gradients(ctx):
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    _, expected = _expected(ctx.inputs)
    grads = ctx.out.get("grads") or {}
    absent = mc.missing_grads(grads, EXPECTED)
    if absent:
        return failed(t("no_grad_for", names=", ".join(absent)),
                      misconception=_forward_misconception(ctx))
    for key in EXPECTED:
        problems = compare(key + ".grad", grads.get(key), expected[key], mc.MODULE_RTOL)
        if problems:
            return failed(t("gradients_wrong", param=key), *problems,
                          misconception=_forward_misconception(ctx))
    return passed()


@EXERCISE.check(points=1, probe="large")
def large_batch(ctx):
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    out = ctx.out
    about = mc.sizes_of(ctx.inputs, mc.LARGE, "linear1", "linear2")
    if isinstance(out, dict) and "error" in out:
        return failed(t("large_failed", error=out["error"], **about))
    x, weights = ctx.inputs[mc.LARGE + "x"], weights_of(ctx.inputs, mc.LARGE)
    expected, grads = mc.chain(x, STEPS, weights, ctx.inputs[mc.LARGE + "upstream"])
    problems = mc.output_problems("forward(x)", out.get("out"), expected)
    if problems:
        key = None
        again = as_array(out.get("again"))
        if again is not None and as_array(out.get("out")) is not None \
                and not mc.matches(again, as_array(out.get("out"))):
            key = "random_in_forward"
        return failed(t("large_wrong", what="forward(x)", **about), *problems,
                      *mc.rows_hint(out.get("out"), expected), misconception=key)
    if not mc.matches(out.get("again"), expected):
        return failed(t("large_wrong", what="forward(x)", **about),
                      misconception="random_in_forward")
    got = out.get("grads") or {}
    for key in EXPECTED:
        problems = compare(key + ".grad", got.get(key), grads[key], mc.MODULE_RTOL)
        if problems:
            return failed(t("large_wrong", what=key + ".grad", **about), *problems)
    return passed()


@hookimpl
def grader_exercises():
    return [EXERCISE]
