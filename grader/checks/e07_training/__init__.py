"""e07: a training loop with an optimizer, evaluation, and devices (the declaration,
grader process).

Everything runs on the grader's own reference model (`training.models`), with
the same seeded weights loaded through `load_state_dict` for the student and the
reference, so a broken student `TwoLayerNet` costs only e05.

PROBE PLAN (every size and value drawn from the grader's seed; none is a tutorial
constant, so code that rebuilds the tutorial's tensors or hard-codes a size fails):
- training, training_momentum: small data (N 12-24), 8 steps at explicit arguments, with
  and without momentum: fast, detailed feedback (and the misconceptions' mutants).
- training_defaults: train(model, x, y) with every default left out: the full 500 steps
  at learning_rate 1e-4, momentum 0. The data (N 40-63 rows, so more than 32; inputs of
  very different scales) make the loss fall through all 500 steps without diverging, so a
  learning-rate schedule or decay, a weight-decay / L2 penalty, gradient clipping or a
  wrong default shows.
- training_large: the tutorial's sizes or larger (N 65-127 rows, beyond 64 and never a
  power of two; D_in 1000-1040, H 100-110, D_out 10-12), 3 steps: mini-batching,
  hard-coded sizes and the tutorial's own data show.
- evaluation: evaluate on the small data and on the large data (N beyond 64);
  evaluation_modes: eval() and inference_mode; device, on_cuda: devices.
Tolerances (`*_RTOL`, judges.py) are measured, not guessed: see the figures next to each.

The pieces: inputs.py (make_inputs, the large data, the runs' arguments), probes.py
(worker), judges.py (grader), mutants.py (reference worker), texts/ (messages, en and ko);
the reference model in grader/checks/training/.
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e07_training import judges
from grader.checks.e07_training.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

# ------------------------------------------------------------------ checks
# (points, the probe whose output it judges, the judge: its name is the check's)
for _points, _probe, _judge in (
        (2, "training", judges.train_losses),
        (2, "training_momentum", judges.train_momentum),
        (1, "training", judges.train_weights),
        (2, "training_defaults", judges.train_defaults),
        (1, "training_large", judges.train_large),
        (1, "training", judges.losses_are_floats),
        (1, "evaluation", judges.evaluate_loss),
        (1, "evaluation_modes", judges.evaluate_eval_mode),
        (0.5, "evaluation_modes", judges.evaluate_inference_mode),
        (0.5, "evaluation", judges.evaluate_leaves_model),
        (0.5, "device", judges.device_choice)):
    EXERCISE.check(points=_points, probe=_probe)(_judge)
EXERCISE.check(points=0.5, probe="on_cuda", needs_cuda=True)(judges.train_on_cuda)

# ------------------------------------------------------------------ misconceptions
# In this order: the first whose every listed check shows it is named. A mutant's key is
# its function in mutants.py; detect= is judged here, from the outputs.
TRAIN_CHECKS = ("train_losses", "train_momentum", "train_weights")

# Before "no_update": both leave the given model unchanged; only a copy gets the right losses.
EXERCISE.misconception("trains_a_copy", checks=("train_weights",),
                       detect=judges.trained_a_copy)
for _key, _checks in (
        ("grads_accumulate", TRAIN_CHECKS),
        ("no_update", TRAIN_CHECKS),
        ("loss_after_update", ("train_losses", "train_momentum")),
        ("mean_loss", TRAIN_CHECKS + ("evaluate_loss",)),
        # the mean in one of the two alone (mean_loss, in both, is named first)
        ("train_mean_loss", TRAIN_CHECKS),
        ("evaluate_mean", ("evaluate_loss",)),
        ("ignores_learning_rate", TRAIN_CHECKS),
        ("momentum_lost", ("train_momentum",)),
        # with the large data too: where y has 2 columns, the mean times len(x) is half
        # the sum as well, and only a y of 10-12 columns tells the two apart
        ("half_sse", TRAIN_CHECKS + ("train_large",)),
        ("mean_times_rows", TRAIN_CHECKS + ("train_large",))):
    EXERCISE.misconception(_key, checks=_checks, mutant=_key)
EXERCISE.misconception("ignores_steps", checks=("train_losses", "train_momentum"),
                       detect=judges.length_differs)
EXERCISE.misconception("wrong_default", checks=("train_defaults",),
                       detect=judges.wrong_default)
EXERCISE.misconception("learning_rate_changes", checks=("train_defaults",),
                       detect=judges.learning_rate_changes)


@hookimpl
def grader_exercises():
    return [EXERCISE]
