"""Reference worker: e02's mutants, the two-layer ideas on tensor_two_layer_grads (the cubic
fit's ideas are detectors: judges.poly_variant replays them in the grader)."""

from __future__ import annotations

from grader.checks.two_layer.mutants import grads_mutant

GRADS = "tensor_two_layer_grads"

half_sse_grads = grads_mutant(GRADS, "half_sse")
factor_two_grads = grads_mutant(GRADS, "factor_two")
mean_loss_grads = grads_mutant(GRADS, "mean_loss")
relu_mask_missing_grads = grads_mutant(GRADS, "relu_mask_missing")
relu_mask_inverted_grads = grads_mutant(GRADS, "relu_mask_inverted")
relu_on_gradient_grads = grads_mutant(GRADS, "relu_on_gradient")
