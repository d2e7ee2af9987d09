"""e00: tensor basics: a generator of one's own, views and copies, permute, stack,
boolean indexing, and memory shared with NumPy (the declaration, grader process).

PROBE PLAN (every input drawn from the grader's seed; no function here has defaults):
- seeded_normal: three seeded random seeds with random 1-D, 2-D and 3-D shapes, the
  first again (repeatable), and the first seed with the second shape; then, in a probe of its own, draws from the global generator
  before and after a call (those after must be an untouched generator's).
- flatten_images: a contiguous (N, C, H, W) batch (N up to 70), values, and whether
  writing through the result reaches x (a view); two non-contiguous batches (the
  permuted view of an (N, H, W, C) batch, a strided slice), where `view` raises.
- channels_last: (N, C, H, W) with H != W and C apart from both, so that reshape and
  transpose(1, 3) give other shapes or other values.
- stack_columns: K seeded columns of length N != K.
- positive_rows: rows of multiples of 1/1024 (exact sums) with rows summing to exactly 0,
  to just under and just over 0 (+-1/8, +-1/1024), and more; and a batch with no positive row at all
  ((0, D) back), then with exactly one ((1, D) back, not the row alone).
- numpy_view / tensor_view: float32 and float64, a marker written on each side.
Tolerances: every value here is a copy, a permutation or a selection of the input, or
the generator's own draws, so results are compared exactly (measured difference between
correct variants: 0).

The pieces: inputs.py (make_inputs), probes.py (worker), judges.py (grader),
mutants.py (reference worker), texts/ (messages, en and ko).
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e00_tensor_basics import judges
from grader.checks.e00_tensor_basics.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

# ------------------------------------------------------------------ checks
# (points, the probe whose output it judges, the judge: its name is the check's)
for _points, _probe, _judge in (
        (1.5, "normal", judges.seeded_normal_values),
        (1, "global_state", judges.seeded_normal_keeps_global_state),
        (1, "flatten", judges.flatten_values),
        (1, "flatten", judges.flatten_is_view),
        (1, "flatten_strided", judges.flatten_non_contiguous),
        (1.5, "channels", judges.channels_last_values),
        (1, "stacking", judges.stack_columns_values),
        (1.5, "rows", judges.positive_rows_values),
        (0.5, "rows_none", judges.positive_rows_none),
        (0.5, "to_numpy", judges.numpy_view_values),
        (1, "to_numpy", judges.numpy_view_shares),
        (0.5, "to_tensor", judges.tensor_view_values),
        (1, "to_tensor", judges.tensor_view_shares)):
    EXERCISE.check(points=_points, probe=_probe)(_judge)

# ------------------------------------------------------------------ misconceptions
# (key = its message and its mutant in mutants.py, the checks on which a student must
# match the mutant). flatten_non_contiguous names view_not_reshape itself, from the error.
for _key, _checks in (
        ("global_seed", ("seeded_normal_keeps_global_state",)),
        ("generator_not_passed", ("seeded_normal_keeps_global_state",)),
        ("flatten_all_axes", ("flatten_values", "flatten_non_contiguous")),
        ("reshape_not_permute", ("channels_last_values",)),
        ("transpose_not_permute", ("channels_last_values",)),
        ("stack_wrong_axis", ("stack_columns_values",)),
        ("cat_not_stack", ("stack_columns_values",)),
        ("reshape_not_transpose", ("stack_columns_values",)),
        ("zero_sum_kept", ("positive_rows_values",)),
        ("mask_per_element", ("positive_rows_values",)),
        ("numpy_copies", ("numpy_view_shares",)),
        ("dtype_conversion_copies", ("tensor_view_shares",)),
        ("tensor_copies", ("tensor_view_shares",))):
    EXERCISE.misconception(_key, checks=_checks, mutant=_key)


@hookimpl
def grader_exercises():
    return [EXERCISE]
