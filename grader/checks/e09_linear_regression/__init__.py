"""e09: the PyTorch workflow on a straight line (data, split, model, fit), and gradient
descent by hand with NumPy (the declaration, grader process).

`fit` is graded with the grader's own line model (probes.py's `_line_model`, parameters `weights`
and `bias`, which notes the mode of every forward call), never with the student's
`LinearRegressionModel`: a broken model costs only its own checks.

PROBE PLAN (every input drawn from the grader's seed, never the tutorial's constants):
- make_line_data: no arguments at all (the contract's defaults); seeded random weight,
  bias, start, end and step by keyword and by position (20 to 90 points, `end` between
  two grid points so the length cannot depend on rounding); and a call giving only
  weight and end (the other defaults must hold).
- split_data: default fraction on N rows where int(0.8 * N) and round(0.8 * N) differ
  (N from 40 to 130); a seeded random fraction on other N.
- LinearRegressionModel: built after torch.manual_seed(s) (its parameters and their
  first values), and its forward pass with seeded weights on seeded x.
- fit: the default call (100 epochs, learning rate 0.01), and a call with seeded random
  epochs (120 to 180: a change after epoch 100 shows) and learning rate, on seeded
  noisy line data (40 to 100 training rows, never a power of two by design). The L1 gradient is a sign: data are redrawn
  until no training residual along either reference run comes within RESIDUAL_MARGIN of
  0, so that no correct answer's trajectory depends on rounding, and until the line
  crosses the data along both runs (residuals of both signs for MIXED_EPOCHS epochs).
- manual_gradient_descent: the default call (20 steps, 0.01) on float32 data scaled so
  that each step shrinks the error by 5-30%, and a call with seeded random steps
  (25 to 80) and learning rate on float64 data; lengths 5 to 130.
Tolerances: see judges.py (each about 4-10x the largest deviation measured between
correct variants); splits and the model's first values are compared exactly.

The pieces: inputs.py (make_inputs, the contract's defaults), probes.py (worker),
judges.py and detectors.py (grader), mutants.py (reference worker), texts/ (en, ko).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e09_linear_regression import detectors, judges
from grader.checks.e09_linear_regression.inputs import DEFAULT_GD_LR, DEFAULT_STEPS, make_inputs


EXERCISE = course.declare(__name__, make_inputs)

# ------------------------------------------------------------------ checks
# (points, the probe whose output it judges, the judge: its name is the check's)
for _points, _probe, _judge in (
        (1, "line", judges.line_default),
        (1.5, "line", judges.line_arguments),
        (0.5, "line", judges.line_float32_column),
        (1, "split", judges.split_default),
        (1, "split_fraction", judges.split_other_fraction),
        (1, "model", judges.model_parameters),
        (0.5, "model", judges.model_init),
        (1, "model_forward", judges.model_forward_values),
        (2, "fitting", judges.fit_train_losses),
        (1, "fitting", judges.fit_test_losses),
        (1, "fitting", judges.fit_weights),
        (1.5, "fitting_other", judges.fit_arguments),
        (0.5, "fitting", judges.fit_losses_are_floats),
        (1, "fitting", judges.fit_modes),
        (1, "fitting", judges.fit_test_inference_mode),
        (2, "descent", judges.descent_default),
        (1.5, "descent_other", judges.descent_arguments),
        (0.5, "descent", judges.descent_types)):
    EXERCISE.check(points=_points, probe=_probe)(_judge)

# ------------------------------------------------------------------ misconceptions
# Mutants (key = its message and its function in mutants.py; the checks on which a
# student must match it). The judges name not_a_column, the split's mistakes
# (split_order_swapped, split_off_by_one, shuffled_split), plain_tensor_not_parameter
# and the modes of fit (test_loss_in_train_mode, train_mode_not_restored,
# test_loss_with_grad) themselves.
FIT_VALUES = ("fit_train_losses", "fit_test_losses", "fit_weights")
BY_HAND = ("descent_default", "descent_arguments")
for _key, _checks in (
        ("tutorial_constants", ("line_arguments",)),
        ("ignores_train_fraction", ("split_other_fraction",)),
        ("mse_not_l1", FIT_VALUES),
        ("abs_of_mean", FIT_VALUES),
        ("grads_accumulate", FIT_VALUES),
        ("no_update", FIT_VALUES),
        ("ignores_learning_rate", ("fit_arguments",)),
        ("test_loss_on_train_data", ("fit_test_losses",)),
        ("gradient_ascent", BY_HAND)):
    EXERCISE.misconception(_key, checks=_checks, mutant=_key)

# Detectors (detectors.py), for what no one mutant stands for.
EXERCISE.misconception("loss_after_update", checks=("fit_train_losses",),
                       detect=detectors.loss_after_update)
EXERCISE.misconception("test_before_step", checks=("fit_test_losses",),
                       detect=detectors.test_before_step)
EXERCISE.misconception("ignores_epochs", checks=("fit_arguments",),
                       detect=detectors.stopped_at_default_epochs)
for _check, _other in zip(BY_HAND, (False, True)):
    for _key, _change in (("gradient_missing_two", {"factor": 1.0}),
                          ("gradient_sum_not_mean", {"mean": False}),
                          ("gd_loss_after_update", {"after": True}),
                          ("w_not_zero", {"start_from_loss": True})):
        EXERCISE.misconception(_key, checks=(_check,),
                               detect=detectors.descent_with(_other, **_change))
EXERCISE.misconception("gd_ignores_learning_rate", checks=("descent_arguments",),
                       detect=detectors.descent_with(True, rate=DEFAULT_GD_LR))
EXERCISE.misconception("gd_ignores_steps", checks=("descent_arguments",),
                       detect=detectors.descent_with(True, steps=DEFAULT_STEPS))


@hookimpl
def grader_exercises():
    return [EXERCISE]
