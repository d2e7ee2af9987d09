"""Grader: e05, the two-layer network as an nn.Module (linear1, ReLU, linear2).

Probe plan (every shape and value drawn from the grader's seed, none from the tutorial;
TwoLayerNet has no default argument to leave out):
- structure: TwoLayerNet(5, 7, 3) registers linear1 and linear2 with the right shapes.
- forward: the grader's weights loaded, forward twice on a small x (6 rows), then
  backward with a random upstream gradient; forward on one row, and on x's rows in
  reverse order (an output kept from an earlier call shows). Detailed feedback comes
  from here.
- large: the same at the tutorial's sizes or larger, rows beyond any power of two a
  student might batch by: N in 65..140, D_in in 1000..1100, H in 100..130, D_out in
  10..15 (none a power of two), x at twice the scale (some ReLU inputs beyond 6, so a
  ReLU6 shows), forward twice and backward.

Tolerance: MODULE_RTOL, measured (see grader/checks/modules/judges.py).

The probes are in `probes.py` (worker), the judges in `judges.py`; the misconceptions
are named by the judges themselves (no mutant: each is told from the outputs).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e05_two_layer_net import judges
from grader.checks.e05_two_layer_net.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

EXERCISE.check(points=1, probe="structure")(judges.layers_registered)
EXERCISE.check(points=1, probe="structure")(judges.layer_shapes)
EXERCISE.check(points=2, probe="forward")(judges.forward_output)
EXERCISE.check(points=2, probe="forward")(judges.gradients)
EXERCISE.check(points=1, probe="large")(judges.large_batch)


@hookimpl
def grader_exercises():
    return [EXERCISE]
