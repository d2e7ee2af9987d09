"""Grader: e04, ReLU as a custom torch.autograd.Function (the student writes backward).

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
  beyond 6 show a ReLU6), exact zeros, and values within 1e-12..1e-2 of 0 (so a
  threshold that is not 0 shows, 1e-8 included).

Tolerance: ReLU and its gradient only select values, so every correct answer is exact
in the precision it computes in; float32 arithmetic inside (allowed, also on a float64
input) rounds once, by at most 2**-24 ~ 6e-8 of a value. Measured on the reference and
on float32-inside / float64-inside / einsum / where variants: 0 on float32 inputs,
<= 6e-8 relative on float64 inputs. RTOL is 8x that.

The probes are in `probes.py` (worker), the judges in `judges.py`, the misconceptions'
mutants in `mutants.py` (reference worker).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e04_my_relu import judges
from grader.checks.e04_my_relu.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

EXERCISE.check(points=1, probe="backward")(judges.forward_values)
EXERCISE.check(points=2, probe="backward")(judges.backward_values)
EXERCISE.check(points=1, probe="backward")(judges.grad_output_untouched)
EXERCISE.check(points=1, probe="gradcheck")(judges.gradcheck_float64)
EXERCISE.check(points=1, probe="large")(judges.large_inputs)
EXERCISE.check(points=1, probe="alias")(judges.my_relu_alias)

# Where every backward mutant shows (each misconception lists exactly its symptoms,
# tests/test_e04_e05_e06.py checks it): the small probe's gradients, the large inputs',
# and gradcheck.
SYMPTOMS = ("backward_values", "large_inputs", "gradcheck_float64")

EXERCISE.misconception("mask_missing", checks=SYMPTOMS, mutant="mask_missing")
EXERCISE.misconception("mask_inverted", checks=SYMPTOMS, mutant="mask_inverted")
EXERCISE.misconception("mask_not_multiplied", checks=SYMPTOMS, mutant="mask_not_multiplied")
EXERCISE.misconception("relu_on_gradient", checks=SYMPTOMS, mutant="relu_on_gradient")


@hookimpl
def grader_exercises():
    return [EXERCISE]
