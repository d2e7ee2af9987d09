"""Shared by e07 and e08 (no code here: any process may import the package): the grader's
own reference model and its data, and the reader of e08's checkpoint files.

Which process runs which module:
* inputs.py (grader): `make_data`, the seeded data and weights. NumPy only.
* models.py (the workers, through e07's and e08's probes): the reference TwoLayerNet and
  its recording variant, loaded with the seeded weights; the grader's own SGD loop.
* checkpoint_file.py, weights_only.py (grader): read a file written by torch.save,
  without torch, as torch.load(weights_only=True) would.
"""
