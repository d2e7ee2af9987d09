"""Grader: e03's own judging rule (losses that keep the graph); the rest is two_layer.judges'."""

from __future__ import annotations

from grader.checks.two_layer.judges import judge_train_losses, unpack
from grader.codec import TensorData
from grader.exercise import JudgeContext, Verdict, failed, passed, t


def train_losses(ctx: JudgeContext) -> Verdict:
    verdict = judge_train_losses(ctx)
    if verdict.passed:
        return verdict
    got = unpack(ctx.out["returned"], 3)
    if got and isinstance(got[2], (list, tuple)) and \
            any(isinstance(v, TensorData) and v.has_grad_fn for v in got[2]):
        return failed(*verdict.lines, fraction=verdict.fraction,
                      misconception="losses_keep_graph")
    return verdict


def gradients_by_autograd(ctx: JudgeContext) -> Verdict:
    """The exercise is autograd: right gradients written out by hand earn this check nothing."""
    if ctx.out.get("calls"):
        reached = {tuple(shape) for shape in ctx.out.get("reached", ()) or ()}
        # either orientation: nn.Linear holds a weight as (out, in), w1.T (correct too)
        missed = [name for name in ("w1", "w2") if "reached" in ctx.out
                  and not {tuple(ctx.inputs[name].shape),
                           tuple(ctx.inputs[name].shape[::-1])} & reached]
        if missed:   # a backward pass on something else, the gradients by hand
            return failed(t("backward_misses_weights", name="autograd_two_layer_grads",
                            weights=", ".join(missed)), misconception="gradients_by_hand")
        return passed()
    return failed(t("no_backward_pass", name="autograd_two_layer_grads"),
                  misconception="gradients_by_hand")
