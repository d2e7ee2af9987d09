"""Grader: what the two-layer exercises (e01-e03) declare alike, by process.

- `inputs` (grader): the seeded data sets (SMALL, LARGE, DEFAULT_RUN, at a minimum).
- `probes` (worker): call a student's *_two_layer_grads and *_train functions.
- `judges` (grader): the checks' verdicts and their measured TOLERANCES.
- `detectors` (grader): the misconceptions told from outputs alone.
- `variants` (grader and reference worker): the computation in NumPy, right or with one
  idea changed (GRADS_IDEAS, TRAIN_IDEAS).
- `mutants` (reference worker): those ideas as mutants of an exercise's public functions.

Here: the declarations themselves. An exercise's `mutants` module holds the mutants they
name: `<key>_grads` for every idea about the gradients, and with a training function
`<key>_train` for those and for every idea about training it declares.
"""

from __future__ import annotations

from typing import Any, Callable

from grader.checks.two_layer import detectors, judges
from grader.checks.two_layer.variants import train_change
from grader.exercise import Exercise

SHORT_RUN = ("train_losses", "train_weights")
EVERY_TRAIN_CHECK = SHORT_RUN + ("train_at_scale",)


def declare_grad_checks(exercise: Exercise,
                        extra: Callable[[str, Any], list] | None = None) -> None:
    """The checks of a `*_two_layer_grads` function (probe "grads"): loss 1 point,
    grad_w1 2, grad_w2 2, leaves_inputs_alone 1. `extra` adds a type rule for the grads."""
    exercise.check(points=1, probe="grads", name="loss")(judges.judge_loss)
    for label in ("grad_w1", "grad_w2"):
        exercise.check(points=2, probe="grads", name=label)(
            lambda ctx, label=label: judges.judge_grad(ctx, label, extra=extra))
    exercise.check(points=1, probe="grads", name="leaves_inputs_alone")(judges.judge_pure)


def declare_two_layer_misconceptions(exercise: Exercise, training: bool,
                                     autograd: bool = False, dtype: str = "float64") -> None:
    """The typical wrong ideas of e01-e03, as mutants of the correct computation.

    A mutant is named only when the student matches it on every check it lists, so each
    lists exactly the checks where it shows: an idea about the gradients is declared twice,
    once with a mutant of the grads function on the grads checks it changes, once with a
    mutant of the training function on the training checks (a student may get one function
    right and the other wrong). Without `training` (e02 has no training function) only
    the first. Training ideas need the checks train_losses, train_weights, train_at_scale.
    `dtype` is the one the probes hand the student's code (detectors compute in it too).
    """
    def grads_idea(key: str, checks: tuple[str, ...]) -> None:
        exercise.misconception(key, checks=checks, mutant=f"{key}_grads")
        if training:
            train_idea(key, EVERY_TRAIN_CHECK)

    def train_idea(key: str, checks: tuple[str, ...]) -> None:
        """A mutant of the training function on the short run's checks; on train_at_scale
        a detector that runs the mutant itself, in the grader and only for a student who
        failed there: 500 steps of every mutant in the reference would cost more than the
        rest of the exercise."""
        exercise.misconception(key, checks=tuple(c for c in checks if c in SHORT_RUN),
                               mutant=f"{key}_train")
        if "train_at_scale" in checks:
            exercise.misconception(key, checks=("train_at_scale",),
                                   detect=detectors.matches_at_scale(train_change(key), dtype))

    # Before factor_two: a loss of 0.5 * sum with grad_y_pred = y_pred - y halves the
    # gradients too, and only the loss tells the two apart.
    grads_idea("half_sse", ("loss", "grad_w1", "grad_w2"))
    grads_idea("factor_two", ("grad_w1", "grad_w2"))
    # Gradients exactly doubled: by hand, a 2 too many (factor_two's "or doubled"); with
    # autograd, the loss is right, so backward ran twice into the same .grad.
    exercise.misconception("grads_doubled" if autograd else "factor_two",
                           checks=("grad_w1", "grad_w2"), detect=detectors.grads_doubled)
    grads_idea("mean_loss", ("loss", "grad_w1", "grad_w2"))
    exercise.misconception("batches_averaged", checks=("grad_w1", "grad_w2"),
                           detect=detectors.batches_averaged)
    grads_idea("relu_mask_missing", ("grad_w1",))
    grads_idea("relu_mask_inverted", ("grad_w1",))
    grads_idea("relu_on_gradient", ("grad_w1",))
    if not training:
        return
    exercise.misconception("wrong_default", checks=("train_at_scale",),
                           detect=detectors.wrong_default)
    # The weights are the reference's: only the recorded losses shift.
    train_idea("loss_after_update", ("train_losses", "train_at_scale"))
    # Not on train_at_scale: 500 steps uphill overflow in float32 long before the float64
    # mutant does, so a student's run can never match it there.
    train_idea("gradient_ascent", SHORT_RUN)
    exercise.misconception("gradient_ascent", checks=SHORT_RUN, detect=detectors.ascends)
    # Weights returned exactly as given. Checked before ignores_learning_rate: a run at a
    # fixed 1e-6 can be, within the judges' tolerance, the same as no update at all (the
    # losses of seed 1, say), so only this stricter test tells the two apart.
    exercise.misconception("no_update", checks=EVERY_TRAIN_CHECK,
                           detect=detectors.weights_unchanged)
    exercise.misconception("weight_decay", checks=SHORT_RUN,
                           detect=detectors.decays_at_minimum)
    exercise.misconception("reduced_precision", checks=EVERY_TRAIN_CHECK,
                           detect=detectors.reduced_precision)
    # On train_at_scale only the LARGE run shows it: the default run is at 1e-6 itself.
    train_idea("ignores_learning_rate", EVERY_TRAIN_CHECK)
    exercise.misconception("ignores_learning_rate", checks=SHORT_RUN,
                           detect=detectors.same_at_other_rate)
    if autograd:
        train_idea("grads_accumulate", EVERY_TRAIN_CHECK)
    # Checked before ignores_steps: range(steps - 1), range(1, steps), range(steps + 1).
    exercise.misconception("learning_rate_changes", checks=("train_at_scale",),
                           detect=detectors.learning_rate_changes)
    exercise.misconception("steps_off_by_one", checks=("train_losses",),
                           detect=lambda ctx: detectors.length_differs(ctx, by=1))
    exercise.misconception("steps_off_by_one", checks=("train_weights",),
                           detect=detectors.weights_off_by_one_step)
    exercise.misconception("ignores_steps", checks=("train_losses",),
                           detect=detectors.length_differs)
