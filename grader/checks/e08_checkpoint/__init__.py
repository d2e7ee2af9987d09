"""e08: save and restore a training checkpoint (model, optimizer, epoch) (the declaration,
grader process).

The probes hand the student a model and an SGD-with-momentum optimizer in a known state
(the grader's own reference model, `training.models`; weights and momentum buffers drawn
from the seed), so the grader knows every saved value exactly, without running torch.

PROBE PLAN (all sizes and values drawn from the grader's seed, the epoch handed to
save_checkpoint and the files' names too: no fixed epoch or file name passes):
- file_format: save_checkpoint(path, model, optimizer, epoch) with a str path; the probe
  sends back the file's raw bytes (at most `checkpoint_file.MAX_FILE_BYTES`). The grader
  reads them itself, under torch's weights_only rules, without torch
  (`training.checkpoint_file`): the worker ran student code, so nothing it says about the
  file is trusted. The file must hold the model's weights exactly (bit for bit, so half,
  bfloat16 or rounded copies fail), and the momentum buffers exactly where it holds them.
- resume: save, let the original train on (`MOVE_ON`), load into a FRESH model (other
  weights) and a FRESH optimizer (no momentum buffers), then K more steps with momentum.
  The loaded weights must equal the saved ones exactly; the K steps must match the
  uninterrupted run to float32 round-off (`RESUME_RTOL`), so a lost or rounded optimizer
  state shows.
- pathlike: a pathlib.Path, map_location given by name. without_optimizer:
  load_checkpoint(path, model), optimizer left at its default. cuda_to_cpu (GPU only).
The pieces: inputs.py (make_inputs, the runs' fixed values), probes.py (worker),
judges.py (grader), mutants.py (reference worker), texts/ (messages, en and ko); the
reference model and the checkpoint reader in grader/checks/training/.
"""

from __future__ import annotations

from grader import course, hookimpl
from grader.checks.e08_checkpoint import judges
from grader.checks.e08_checkpoint.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)

# ------------------------------------------------------------------ checks
# (points, the probe whose output it judges, the judge: its name is the check's)
for _points, _probe, _judge in (
        (1.5, "file_format", judges.weights_only_file),
        (2, "resume", judges.resume_model),
        (2, "resume", judges.resume_training),
        (1, "resume", judges.returns_epoch),
        (0.5, "pathlike", judges.path_like),
        (0.5, "without_optimizer", judges.optimizer_optional)):
    EXERCISE.check(points=_points, probe=_probe)(_judge)
EXERCISE.check(points=0.5, probe="cuda_to_cpu", needs_cuda=True)(judges.cuda_checkpoint_on_cpu)

# ------------------------------------------------------------------ misconceptions
# In this order: the first whose every listed check shows it is named. A mutant's key is
# its function in mutants.py; detect= is judged here, from the outputs.
EXERCISE.misconception("load_not_in_place", mutant="load_not_in_place",
                       checks=("resume_model", "resume_training", "path_like",
                               "optimizer_optional"))
EXERCISE.misconception("optimizer_state_missing", mutant="optimizer_state_missing",
                       checks=("resume_training",))
# Its only symptom is without an optimizer: listed on that check alone (a misconception
# is named only when every check it lists shows the mutant's outputs).
EXERCISE.misconception("model_only_with_optimizer", mutant="model_only_with_optimizer",
                       checks=("optimizer_optional",))
EXERCISE.misconception("precision_lost", detect=judges.precision_lost,
                       checks=("resume_model", "path_like", "optimizer_optional"))
EXERCISE.misconception("live_state", detect=judges.live_state,
                       checks=("resume_model", "resume_training", "path_like",
                               "optimizer_optional"))


@hookimpl
def grader_exercises():
    return [EXERCISE]
