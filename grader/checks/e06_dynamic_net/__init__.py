"""Grader: e06, a network whose depth is drawn anew on every forward pass (weight sharing).

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
  D_in in 1000..1100, H in 100..130, D_out in 10..15, none a power of two; x at twice the
  scale, so that the input and middle ReLUs get inputs beyond 6 and a ReLU6 shows).

The statistics use a FIXED number of draws, never "as many as fit in a time window":
a slow but correct model gets the same verdict as a fast one. A model that seeds its own
generator once in __init__ repeats its draws in every instance, so only the DRAWS passes
of one single model are counted as independent samples.

Failure probability for a correct submission (depths i.i.d. uniform on 0..3), by the
union bound over every test it must pass, each bound from the exact binomial law
(`judges.binomial_bounds`, each tail <= TAIL = 1e-11):
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

The probes are in `probes.py` (worker), the judges in `judges.py`; the misconceptions
are named by the judges themselves (no mutant: each is told from the outputs).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e06_dynamic_net import judges
from grader.checks.e06_dynamic_net.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

EXERCISE.check(points=1, probe="calls")(judges.shared_layers)
EXERCISE.check(points=2, probe="calls")(judges.outputs_match_a_depth)
EXERCISE.check(points=1, probe="calls")(judges.every_depth_drawn)
EXERCISE.check(points=1, probe="calls")(judges.drawn_every_call)
EXERCISE.check(points=1, probe="calls")(judges.shared_gradients)
EXERCISE.check(points=1, probe="large")(judges.large_batch)


@hookimpl
def grader_exercises():
    return [EXERCISE]
