"""Reference worker: e01's mutants, the two-layer ideas on numpy_two_layer_grads and numpy_train."""

from __future__ import annotations

from grader.checks.two_layer.mutants import grads_mutant, train_mutant

GRADS, TRAIN = "numpy_two_layer_grads", "numpy_train"

half_sse_grads = grads_mutant(GRADS, "half_sse")
half_sse_train = train_mutant(TRAIN, "half_sse")
factor_two_grads = grads_mutant(GRADS, "factor_two")
factor_two_train = train_mutant(TRAIN, "factor_two")
mean_loss_grads = grads_mutant(GRADS, "mean_loss")
mean_loss_train = train_mutant(TRAIN, "mean_loss")
relu_mask_missing_grads = grads_mutant(GRADS, "relu_mask_missing")
relu_mask_missing_train = train_mutant(TRAIN, "relu_mask_missing")
relu_mask_inverted_grads = grads_mutant(GRADS, "relu_mask_inverted")
relu_mask_inverted_train = train_mutant(TRAIN, "relu_mask_inverted")
relu_on_gradient_grads = grads_mutant(GRADS, "relu_on_gradient")
relu_on_gradient_train = train_mutant(TRAIN, "relu_on_gradient")
loss_after_update_train = train_mutant(TRAIN, "loss_after_update")
gradient_ascent_train = train_mutant(TRAIN, "gradient_ascent")
ignores_learning_rate_train = train_mutant(TRAIN, "ignores_learning_rate")
