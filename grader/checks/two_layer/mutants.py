"""Reference worker: the two-layer ideas (variants.GRADS_IDEAS, TRAIN_IDEAS) as mutants.

Each exercise's `mutants` module names one per idea it declares, for its own public
functions: `half_sse_grads = grads_mutant("numpy_two_layer_grads", "half_sse")`. A mutant
takes the reference's names and returns the buggy versions that replace them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from grader.checks.two_layer.variants import GRADS_IDEAS, buggy_grads, buggy_train, train_change

Mutant = Callable[[Mapping[str, Any]], dict[str, Callable]]


def grads_mutant(public_name: str, idea: str) -> Mutant:
    """A mutant of the *_two_layer_grads function `public_name`: buggy_grads with `idea`."""
    change = GRADS_IDEAS[idea]

    def wrong_grads(x, y, w1, w2):
        return buggy_grads(x, y, w1, w2, **change)

    def mutant(submitted: Mapping[str, Any]) -> dict[str, Callable]:
        return {public_name: wrong_grads}
    mutant.__name__ = mutant.__qualname__ = f"{idea}_grads"
    return mutant


def train_mutant(public_name: str, idea: str) -> Mutant:
    """A mutant of the *_train function `public_name`: buggy_train with `idea` (an idea
    about training, or one about the gradients taken at every step)."""
    change = train_change(idea)

    def wrong_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        return buggy_train(x, y, w1, w2, learning_rate, steps, **change)

    def mutant(submitted: Mapping[str, Any]) -> dict[str, Callable]:
        return {public_name: wrong_train}
    mutant.__name__ = mutant.__qualname__ = f"{idea}_train"
    return mutant
