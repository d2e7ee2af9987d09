"""Grader: e05's judges (NumPy only): each expected value from the judge's own model."""

from __future__ import annotations

from grader.checks.e05_two_layer_net.inputs import (D_IN, D_OUT, EXPECTED, H, REWEIGHT, STEPS,
                                                     weights_of)
from grader.checks.modules.inputs import LARGE, sizes_of
from grader.checks.modules.judges import (MODULE_RTOL, chain, load_misconception,
                                          load_problems, matches, missing_grads,
                                          missing_only_biases, output_problems, rows_hint,
                                          structure_problems)
from grader.exercise import failed, passed, t
from grader.judging import as_array, compare

MODULES = "linear1, linear2"
SIZES = f"D_in={D_IN}, H={H}, D_out={D_OUT}: linear1 = nn.Linear(D_in, H), " \
        f"linear2 = nn.Linear(H, D_out)"


def _structure(ctx):
    return structure_problems(ctx.out, EXPECTED, MODULES, SIZES, "linear1")


def layers_registered(ctx):
    registration, _ = _structure(ctx)
    if not registration:
        return passed()
    if not isinstance(ctx.out, dict):
        return failed(*registration)
    key = "layers_not_registered" if ctx.out.get("count") == 0 else None
    if missing_only_biases(ctx.out, EXPECTED):
        key = "bias_missing"
    return failed(*registration, misconception=key)


def layer_shapes(ctx):
    registration, shapes = _structure(ctx)
    if shapes:
        key = "swapped_sizes" if any(s.key == "wrong_param_shape" for s in shapes) else None
        if key is None and isinstance(ctx.out, dict) and ctx.out.get("count") == 0:
            key = "layers_not_registered"   # no layer to measure, for the same reason
        return failed(*shapes, misconception=key)
    if not isinstance(ctx.out, dict) or not isinstance(ctx.out.get("state"), dict):
        return failed(*registration)
    return passed()


def _expected(inputs, steps=STEPS):
    return chain(inputs["x"], steps, weights_of(inputs), inputs["upstream"])


def _reweighted(inputs):
    """The output on x.flip(0) once every weight is multiplied by REWEIGHT."""
    weights = {k: v * REWEIGHT for k, v in weights_of(inputs).items()}
    return chain(inputs["x"][::-1], STEPS, weights)[0]


def _loaded_or_failure(ctx):
    """A failed verdict when the grader's weights did not go into the model, else None."""
    load = ctx.out.get("load") if isinstance(ctx.out, dict) else None
    problems = load_problems(load)
    if not problems:
        return None
    return failed(*problems, misconception=load_misconception(load))


def forward_output(ctx):
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    expected, _ = _expected(ctx.inputs)
    problems = output_problems("forward(x)", ctx.out.get("out"), expected)
    if not problems:
        # one row in, one row out: (1, D_out), not squeezed away; and other rows of the same
        # shape give their own outputs (nothing kept from an earlier call)
        problems = output_problems("forward(x[:1])", ctx.out.get("one"), expected[:1]) or \
            output_problems("forward(x.flip(0))", ctx.out.get("other"), expected[::-1]) or \
            output_problems("forward(x) after x.copy_(x.flip(0))", ctx.out.get("rewritten"),
                            expected[::-1]) or \
            output_problems(f"forward(x) after every parameter p.mul_({REWEIGHT})",
                            ctx.out.get("reweighted"), _reweighted(ctx.inputs))
        return failed(t("forward_wrong"), *problems) if problems else passed()
    return failed(t("forward_wrong"), *problems, misconception=_forward_misconception(ctx))


def _forward_misconception(ctx):
    out, again = ctx.out.get("out"), ctx.out.get("again")
    if as_array(out) is not None and as_array(again) is not None \
            and not matches(again, as_array(out)):
        # a fresh layer in forward leaves a registered one without gradient; dropout or
        # noise change the output while every registered layer is still used
        if missing_grads(ctx.out.get("grads"), EXPECTED):
            return "layer_in_forward"
        return "random_in_forward"
    variants = {
        "relu_missing": (("linear1", None), ("linear2", None)),
        "relu_after_output": (("linear1", "relu"), ("linear2", "relu")),
        "sigmoid_not_relu": (("linear1", "sigmoid"), ("linear2", None)),
    }
    for key, steps in variants.items():
        if matches(out, _expected(ctx.inputs, steps)[0]):
            return key
    return None


def gradients(ctx):
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    _, expected = _expected(ctx.inputs)
    grads = ctx.out.get("grads") or {}
    absent = missing_grads(grads, EXPECTED)
    if absent:
        return failed(t("no_grad_for", names=", ".join(absent)),
                      misconception=_forward_misconception(ctx))
    for key in EXPECTED:
        problems = compare(key + ".grad", grads.get(key), expected[key], MODULE_RTOL)
        if problems:
            return failed(t("gradients_wrong", param=key), *problems,
                          misconception=_forward_misconception(ctx))
    return passed()


def large_batch(ctx):
    out = ctx.out
    about = sizes_of(ctx.inputs, LARGE, "linear1", "linear2")
    # an error first: the probe's result then holds no load report to judge (it was read
    # as "could not load the weights: None", red team)
    if isinstance(out, dict) and "error" in out:
        return failed(t("large_failed", error=out["error"], **about))
    failure = _loaded_or_failure(ctx)
    if failure:
        return failure
    x, weights = ctx.inputs[LARGE + "x"], weights_of(ctx.inputs, LARGE)
    expected, grads = chain(x, STEPS, weights, ctx.inputs[LARGE + "upstream"])
    problems = output_problems("forward(x)", out.get("out"), expected)
    if problems:
        key = None
        again = as_array(out.get("again"))
        if again is not None and as_array(out.get("out")) is not None \
                and not matches(again, as_array(out.get("out"))):
            key = "random_in_forward"
        return failed(t("large_wrong", what="forward(x)", **about), *problems,
                      *rows_hint(out.get("out"), expected), misconception=key)
    if not matches(out.get("again"), expected):
        return failed(t("large_wrong", what="forward(x)", **about),
                      misconception="random_in_forward")
    got = out.get("grads") or {}
    for key in EXPECTED:
        problems = compare(key + ".grad", got.get(key), grads[key], MODULE_RTOL)
        if problems:
            return failed(t("large_wrong", what=key + ".grad", **about), *problems)
    return passed()
