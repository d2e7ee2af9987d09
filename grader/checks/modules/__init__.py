"""Shared by the nn.Module exercises (e05, e06): inputs, probes and judges, by process.

- `inputs` (grader): the seeded weights, the large sizes, the inputs' layout.
- `probes` (worker): describe, load and read the gradients of a student's model.
- `judges` (grader): the judge's own NumPy model and the verdicts' shared pieces.

The judge recomputes every expected value in NumPy (float64) from the seeded weights,
so a correct answer never depends on how the student built or ordered the layers: the
weights are loaded with `load_state_dict`.
"""
