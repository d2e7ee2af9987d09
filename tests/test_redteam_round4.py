"""A fourth red team (round 4): 126 new submissions over all ten exercises, graded on the
default seed and seeds 1, 7 and 12345. Kept here: the ones that found a defect (each must
now lose marks where it shows, and say why) and correct variants in new styles (each must
keep full marks).

Defects found: an e05 forward cached by the input's address (x.data_ptr() and shape: the
flip probe makes a new tensor, so a stale output came back only for the same tensor
rewritten in place; keyed by x's version too, only once the weights change in place); an
e04 backward with a threshold of 1e-8 (the large inputs' values near 0 started at 1e-6); e03 gradients written by hand beside a throwaway backward pass (or
autograd for w2 alone) passed gradients_by_autograd, which only counted backward passes;
an e00 positive_rows through nonzero().squeeze() returned a single kept row as shape (D,)
(no probe had exactly one positive row).
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import assert_full_marks, changed, exercise_result, failing, write_submission
from grader.loaders import load_paths

E00, E01, E02, E03 = "e00_tensor_basics", "e01_numpy_grads", "e02_tensor_grads", "e03_autograd"
E04, E05, E06 = "e04_my_relu", "e05_two_layer_net", "e06_dynamic_net"
E07, E08, E09 = "e07_training", "e08_checkpoint", "e09_linear_regression"


# ====================================================================== defects found

E03_GRADS = ("    w1 = w1.detach().clone().requires_grad_(True)\n"
             "    w2 = w2.detach().clone().requires_grad_(True)\n"
             "    y_pred = x.mm(w1).clamp(min=0).mm(w2)\n"
             "    loss = (y_pred - y).pow(2).sum()\n"
             "    loss.backward()\n"
             "    return loss.item(), w1.grad, w2.grad")

BUGS = {
    # gaming: the output kept by the tensor's address (a new tensor, x.flip(0), misses it)
    E05: changed(E05, "    def forward(self, x):\n        return self.linear2(torch.relu(self.linear1(x)))",
                 "    def forward(self, x):\n        key = (x.data_ptr(), tuple(x.shape))\n"
                 "        cache = self.__dict__.setdefault('_c', {})\n"
                 "        if key not in cache:\n"
                 "            cache[key] = self.linear2(torch.relu(self.linear1(x)))\n"
                 "        return cache[key]"),
    # gaming: a backward pass on a throwaway tensor, the gradients by hand
    E03: changed(E03, E03_GRADS,
                 "    (torch.zeros(1, requires_grad=True) * 1).sum().backward()\n"
                 "    h = x.mm(w1)\n    r = h.clamp(min=0)\n    d = r.mm(w2) - y\n    g = 2 * d\n"
                 "    gh = g.mm(w2.t()) * (h > 0)\n"
                 "    return float((d * d).sum()), x.t().mm(gh), r.t().mm(g)"),
    # a real bug: one kept row comes back as shape (D,)
    E00: changed(E00, "return x[x.sum(dim=1) > 0]",
                 "return x[(x.sum(dim=1) > 0).nonzero().squeeze()]"),
    # a threshold of 1e-8 in backward: no probe value lay between 0 and 1e-6
    E04: changed(E04, "        grad_input[input < 0] = 0", "        grad_input[input < 1e-8] = 0"),
}

#: (exercise, the check that must fail, a phrase its feedback must hold, misconception)
WHERE = {
    "forward_cached_by_data_ptr": (E05, "forward_output", "x.copy_(x.flip(0))", None),
    "throwaway_backward_hand_grads": (E03, "gradients_by_autograd", "w1, w2",
                                      "gradients_by_hand"),
    "one_positive_row_squeezed": (E00, "positive_rows_none", "expected shape (1,", None),
    "backward_threshold_1e_8": (E04, "large_inputs", "within 1e-12 to 1e-2 of 0", None),
}


@pytest.fixture(scope="module")
def bug_results(grader, tmp_path_factory):
    """Every bug above, graded in one submission (one file per exercise)."""
    directory = write_submission(tmp_path_factory.mktemp("round4") / "bugs",
                                 {f"{exercise}.py": text for exercise, text in BUGS.items()})
    return grader.grade(load_paths([directory], directory.name))


@pytest.mark.parametrize("name", sorted(WHERE))
def test_round4_bugs_lose_marks_where_they_show(bug_results, name):
    exercise, check, phrase, misconception = WHERE[name]
    result = exercise_result(bug_results, exercise)
    assert not result.full_marks
    failed = failing(result)
    assert set(failed) == {check}, {c.name: c.status for c in result.checks}
    assert phrase in failed[check].feedback, failed[check].feedback
    if misconception is not None:
        assert failed[check].misconception == misconception, failed[check].feedback


def test_forward_cached_by_address_and_version_loses_forward_output(grade):
    """Keyed by x's data_ptr, version and shape, the cache misses a rewritten x but keeps
    its output when the weights change in place (as an optimizer step changes them)."""
    source = changed(E05, "    def forward(self, x):\n        return self.linear2(torch.relu(self.linear1(x)))",
                     "    def forward(self, x):\n"
                     "        key = (x.data_ptr(), x._version, tuple(x.shape))\n"
                     "        cache = self.__dict__.setdefault('_c', {})\n"
                     "        if key not in cache:\n"
                     "            cache[key] = self.linear2(torch.relu(self.linear1(x)))\n"
                     "        return cache[key]")
    result = exercise_result(grade({f"{E05}.py": source}), E05)
    assert set(failing(result)) == {"forward_output"}
    assert "p.mul_(-0.5)" in failing(result)["forward_output"].feedback


def test_autograd_for_w2_alone_names_w1(grade):
    """w2's gradient by autograd, w1's by hand: the backward pass never reaches w1."""
    source = changed(E03, E03_GRADS,
                     "    h = x.mm(w1)\n    r = h.clamp(min=0)\n"
                     "    b = w2.detach().clone().requires_grad_(True)\n"
                     "    d = r.mm(b) - y\n    loss = (d * d).sum()\n    loss.backward()\n"
                     "    gh = (2 * d.detach()).mm(w2.t()) * (h > 0)\n"
                     "    return loss.item(), x.t().mm(gh), b.grad")
    result = exercise_result(grade({f"{E03}.py": source}), E03)
    check = failing(result)["gradients_by_autograd"]
    assert set(failing(result)) == {"gradients_by_autograd"}
    assert "shape of w1:" in check.feedback, check.feedback


# ====================================================================== correct variants

CORRECT = {
    E00: """
        import numpy as np
        import torch

        def seeded_normal(seed, shape, dtype=torch.float32):
            g = torch.Generator()
            g.manual_seed(int(seed))
            return torch.randn(*shape, generator=g, dtype=dtype)

        def flatten_images(x):
            return torch.flatten(x, start_dim=1)

        def channels_last(x):
            return torch.einsum("nchw->nhwc", x)

        def stack_columns(columns):
            return torch.vstack([c.reshape(1, -1) for c in columns]).t()

        def positive_rows(x):
            keep = torch.where(torch.sum(x, -1) > 0)[0]
            return torch.index_select(x, 0, keep)

        def numpy_view(t):
            return np.asarray(t)

        def tensor_view(a):
            return torch.as_tensor(a)
        """,
    E01: """
        import numpy as np

        def numpy_two_layer_grads(x, y, w1, w2):
            h = np.einsum("nd,dh->nh", x, w1)
            relu = np.where(h > 0, h, 0.0)
            diff = relu @ w2 - y
            g = 2 * diff
            gh = (g @ w2.T) * (h > 0)
            return float(np.linalg.norm(diff) ** 2), x.T @ gh, (g.T @ relu).T

        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500, verbose=False):
            losses = [0.0] * steps
            step = 0
            while step < steps:
                losses[step], g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                np.subtract(w1, learning_rate * g1, out=w1)
                np.subtract(w2, learning_rate * g2, out=w2)
                step += 1
            return w1, w2, losses
        """,
    # the gradients by autograd through torch.func.grad, and through nn.Linear layers that
    # hold the weights transposed (the backward pass reaches w1.T and w2.T)
    E03: changed(E03, E03_GRADS,
                 "    def loss_of(a, b):\n"
                 "        return (x.mm(a).clamp(min=0).mm(b) - y).pow(2).sum()\n"
                 "    g1, g2 = torch.func.grad(loss_of, argnums=(0, 1))(w1, w2)\n"
                 "    return loss_of(w1, w2).item(), g1, g2"),
    E04: changed(E04, "        grad_input = grad_output.clone()\n        grad_input[input < 0] = 0\n"
                      "        return grad_input",
                 "        return grad_output.masked_fill(input < 0, 0)",
                 "return input.clamp(min=0)",
                 "return torch.maximum(input, torch.zeros((), dtype=input.dtype))"),
    E05: changed(E05, "return self.linear2(torch.relu(self.linear1(x)))",
                 "h = (x @ self.linear1.weight.T + self.linear1.bias).clamp(min=0)\n"
                 "        return torch.addmm(self.linear2.bias, h, self.linear2.weight.T)"),
    E06: changed(E06, "        for _ in range(random.randint(0, 3)):\n"
                      "            h = torch.relu(self.middle_linear(h))",
                 "        n = random.choice([0, 1, 2, 3])\n        while n > 0:\n"
                 "            h = torch.nn.functional.relu(self.middle_linear(h))\n"
                 "            n -= 1"),
    E07: changed(E07, "        optimizer.zero_grad()\n", "        model.zero_grad()\n"),
    E08: changed(E08, "import torch", "import copy\nimport torch",
                 '"model": model.state_dict()', '"model": copy.deepcopy(model.state_dict())',
                 'return int(checkpoint["epoch"])', 'return checkpoint.get("epoch", 0)'),
    E09: changed(E09, "        gradient = np.mean(2 * x * (y_pred - y))\n"
                      "        w -= learning_rate * gradient",
                 "        gradient = np.mean(2 * x * (y - y_pred))\n"
                 "        w += learning_rate * gradient",
                 "        return self.weights * x + self.bias",
                 "        return torch.addcmul(self.bias, x, self.weights)"),
}

E03_LINEAR_TRANSPOSED = changed(
    E03, E03_GRADS,
    "    l1 = torch.nn.Linear(w1.shape[0], w1.shape[1], bias=False).to(w1.dtype)\n"
    "    l2 = torch.nn.Linear(w2.shape[0], w2.shape[1], bias=False).to(w2.dtype)\n"
    "    with torch.no_grad():\n        l1.weight.copy_(w1.t())\n        l2.weight.copy_(w2.t())\n"
    "    loss = torch.nn.functional.mse_loss(l2(torch.relu(l1(x))), y, reduction='sum')\n"
    "    loss.backward(inputs=[l1.weight, l2.weight])\n"
    "    return loss.item(), l1.weight.grad.t(), l2.weight.grad.t()")


def test_round4_correct_variants_keep_full_marks(grade):
    report = grade({f"{exercise}.py": textwrap.dedent(text) for exercise, text in CORRECT.items()})
    for exercise in CORRECT:
        assert_full_marks(exercise_result(report, exercise))


def test_autograd_through_transposed_linear_layers_keeps_full_marks(grade):
    assert_full_marks(exercise_result(grade({f"{E03}.py": E03_LINEAR_TRANSPOSED}), E03))


def test_autograd_through_activation_checkpointing_keeps_full_marks(grade):
    """torch.utils.checkpoint asks autograd's engine whether checkpointing is valid: the
    probe's counting stand-in for the engine must still answer (it raised AttributeError)."""
    source = "import torch.utils.checkpoint\n" + changed(
        E03, "y_pred = x.mm(w1).clamp(min=0).mm(w2)",
        "y_pred = torch.utils.checkpoint.checkpoint(\n"
        "        lambda a, b: a.mm(b).clamp(min=0), x, w1, use_reentrant=True).mm(w2)")
    assert_full_marks(exercise_result(grade({f"{E03}.py": source}), E03))
