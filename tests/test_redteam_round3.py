"""A third red team (round 3): 115 new submissions over all ten exercises, graded on several
seeds. Kept here: the ones that found a defect (each must now lose marks where it shows,
and say why) and a few correct variants in new styles (each must keep full marks).

Defects found: a checkpoint always written to "checkpoint.pt" (the probe's own file name),
a fixed epoch; e09 parameters that do not require grad; an e05 output cached by shape;
ReLU6 in e05/e06 on a third of the seeds (no large ReLU input beyond 6); e09 fit data where
the line never crossed the points (L1 = mean residual: |mean| and an (N,) x (N, 1)
broadcast passed, seed 13); a threshold of 0.1 in positive_rows (sums on a 1/8 grid); a
seeded_normal cached by seed alone; poly_grads by forward-mode autodiff (jacfwd, dual
numbers) passing no_autograd; feedback that said "could not load the weights: None" for an
error, "never zeroed" for gradients zeroed every 10 steps.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import assert_full_marks, changed, exercise_result, failing, write_submission
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

E00, E01, E02 = "e00_tensor_basics", "e01_numpy_grads", "e02_tensor_grads"
E04, E05, E06 = "e04_my_relu", "e05_two_layer_net", "e06_dynamic_net"
E07, E08, E09 = "e07_training", "e08_checkpoint", "e09_linear_regression"


# ====================================================================== bugs, default seed

BUGS = {
    E00: changed(E00, "return x[x.sum(dim=1) > 0]", "return x[x.sum(dim=1) > 0.1]"),
    E05: changed(E05, "    def forward(self, x):\n        return self.linear2(torch.relu(self.linear1(x)))",
                 "    def forward(self, x):\n        cache = self.__dict__.setdefault('_cache', {})\n"
                 "        if x.shape not in cache:\n"
                 "            cache[x.shape] = self.linear2(torch.relu(self.linear1(x)))\n"
                 "        return cache[x.shape]"),
    E07: changed(E07, "    for _ in range(steps):", "    for step in range(steps):",
                 "        optimizer.zero_grad()",
                 "        if step % 10 == 0:\n            optimizer.zero_grad()"),
    E08: changed(E08, "        path,\n    )", '        "checkpoint.pt",\n    )',
                 "torch.load(path,", 'torch.load("checkpoint.pt",'),
    E09: changed(E09, "nn.Parameter(torch.randn(1, dtype=torch.float32))",
                 "nn.Parameter(torch.randn(1, dtype=torch.float32), requires_grad=False)"),
    E02: changed(E02, "h_relu = h.clamp(min=0)", "h_relu = h.clamp_(min=0)"),
    E01: changed(E01, "    losses = []\n    for _ in range(steps):",
                 "    losses = []\n    best = (np.inf, w1.copy(), w2.copy())\n    for _ in range(steps):",
                 "        losses.append(loss)\n",
                 "        losses.append(loss)\n        if loss < best[0]:\n"
                 "            best = (loss, w1.copy(), w2.copy())\n",
                 "    return w1, w2, losses", "    return best[1], best[2], losses"),
}

#: (exercise, the check that must fail, a phrase its feedback must hold, misconception)
WHERE = {
    "positive_rows_threshold_0_1": (E00, "positive_rows_values", "kept", None),
    "forward_cached_by_shape": (E05, "forward_output", "forward(x.flip(0))", None),
    "zero_grad_every_10_steps": (E07, "train_losses", "not zeroed before every backward pass",
                                 "grads_accumulate"),
    "checkpoint_always_checkpoint_pt": (E08, "weights_only_file", "", None),
    "parameters_do_not_require_grad": (E09, "model_parameters", "requires_grad=False", None),
    "h_clamped_in_place": (E02, "grad_w1", "h.clamp_(min=0)", "relu_mask_missing"),
    "best_weights_returned": (E01, "train_weights", "before the last update", "steps_off_by_one"),
}


@pytest.fixture(scope="module")
def bug_results(grader, tmp_path_factory):
    """Every bug above, graded in one submission (one file per exercise)."""
    directory = write_submission(tmp_path_factory.mktemp("round3") / "bugs",
                                 {f"{exercise}.py": text for exercise, text in BUGS.items()})
    return grader.grade(load_paths([directory], directory.name))


@pytest.mark.parametrize("name", sorted(WHERE))
def test_round3_bugs_lose_marks_where_they_show(bug_results, name):
    exercise, check, phrase, misconception = WHERE[name]
    result = exercise_result(bug_results, exercise)
    assert not result.full_marks
    failed = failing(result)
    assert check in failed, {c.name: c.status for c in result.checks}
    assert phrase in failed[check].feedback, failed[check].feedback
    if misconception is not None:
        assert failed[check].misconception == misconception, failed[check].feedback


def test_a_fixed_epoch_returned_loses_returns_epoch(grade):
    """The epoch handed to save_checkpoint is drawn from the seed: no constant passes."""
    source = changed(E08, 'return int(checkpoint["epoch"])', "return 7")
    result = exercise_result(grade({f"{E08}.py": source}), E08)
    assert set(failing(result)) == {"returns_epoch"}


def test_seeded_normal_cached_by_seed_alone_loses_its_values(grade):
    """seeded_normal is called again with the first seed and another call's shape."""
    source = changed(E00, "def seeded_normal(seed, shape):",
                     "_CACHE = {}\n\n\ndef seeded_normal(seed, shape):\n"
                     "    if seed not in _CACHE:\n        _CACHE[seed] = _draw(seed, shape)\n"
                     "    return _CACHE[seed].clone()\n\n\ndef _draw(seed, shape):")
    result = exercise_result(grade({f"{E00}.py": source}), E00)
    assert set(failing(result)) == {"seeded_normal_values"}
    assert "expected shape" in failing(result)["seeded_normal_values"].feedback


FORWARD_MODE = {
    "jacfwd": "    loss_of = lambda c: ((c[0] + c[1] * x + c[2] * x ** 2 + c[3] * x ** 3 - y) ** 2)"
              ".sum()\n    return loss_of(coeffs).item(), torch.func.jacfwd(loss_of)(coeffs)\n",
    "dual_numbers": "    import torch.autograd.forward_ad as fwAD\n"
                    "    grads = torch.empty(4, dtype=coeffs.dtype)\n"
                    "    for i in range(4):\n"
                    "        with fwAD.dual_level():\n"
                    "            c = fwAD.make_dual(coeffs, torch.eye(4, dtype=coeffs.dtype)[i])\n"
                    "            loss = ((c[0] + c[1] * x + c[2] * x ** 2 + c[3] * x ** 3 - y) ** 2)"
                    ".sum()\n"
                    "            grads[i] = fwAD.unpack_dual(loss).tangent\n"
                    "    return fwAD.unpack_dual(loss).primal.item(), grads\n",
}


@pytest.mark.parametrize("how", sorted(FORWARD_MODE))
def test_forward_mode_autodiff_is_autograd_too(grade, how):
    """poly_grads by forward-mode autodiff runs no backward pass: it passed no_autograd."""
    source = changed(E02, "def poly_grads(x, y, coeffs):",
                     "def poly_grads(x, y, coeffs):\n" + FORWARD_MODE[how] +
                     "\n\ndef _by_hand(x, y, coeffs):")
    result = exercise_result(grade({f"{E02}.py": source}), E02)
    assert set(failing(result)) == {"no_autograd"}
    check = failing(result)["no_autograd"]
    assert check.misconception == "uses_autograd" and "poly_grads" in check.feedback


def test_an_error_in_the_large_probe_is_told_as_the_error(grade):
    """relu_ on the caller's x breaks backward: large_batch says so (it said 'the grader
    could not load its weights: None')."""
    source = changed(E05, "return self.linear2(torch.relu(self.linear1(x)))",
                     "x = torch.relu_(x)\n        return self.linear2(torch.relu(self.linear1(x)))")
    result = exercise_result(grade({f"{E05}.py": source}), E05)
    large = failing(result)["large_batch"]
    assert "RuntimeError" in large.feedback and "could not load" not in large.feedback


# ====================================================================== correct variants

CORRECT = {
    E00: """
        import numpy as np
        import torch

        _GEN = torch.Generator()

        def seeded_normal(seed, shape):
            _GEN.manual_seed(int(seed))
            return torch.empty(shape).normal_(generator=_GEN)

        def flatten_images(x):
            return torch.flatten(x, 1)

        def channels_last(x):
            return x.transpose(1, 2).transpose(2, 3)

        def stack_columns(columns):
            return torch.column_stack(columns)

        def positive_rows(x):
            keep = [i for i in range(len(x)) if x[i].sum() > 0]
            return x[keep]

        def numpy_view(t):
            return np.asarray(t)

        def tensor_view(a):
            return torch.from_dlpack(a)
        """,
    E04: changed(E04, "        grad_input = grad_output.clone()\n        grad_input[input < 0] = 0\n"
                      "        return grad_input",
                 "        return grad_output * (input > 0), None   # extra None: allowed"),
    E05: """
        import torch
        from torch import nn

        class TwoLayerNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                for name, (a, b) in {"linear1": (D_in, H), "linear2": (H, D_out)}.items():
                    setattr(self, name, nn.Linear(a, b, dtype=torch.float64))
                self.register_buffer("calls", torch.zeros((), dtype=torch.long))

            def forward(self, x):
                self.calls += 1
                return self.linear2(torch.clamp_min(self.linear1(x.double()), 0.0)).to(x.dtype)

            @torch.no_grad()
            def predict(self, x):
                return self(x)
        """,
    E06: changed(E06, "        self.output_linear = nn.Linear(H, D_out)\n",
                 "        self.output_linear = nn.Linear(H, D_out)\n"
                 "        self.gen = torch.Generator()\n        self.gen.seed()\n",
                 "random.randint(0, 3)", "int(torch.randint(0, 4, (), generator=self.gen))"),
    E08: """
        from pathlib import Path
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save((torch.tensor(epoch), model.state_dict(), optimizer.state_dict()), path)

        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            epoch, model_state, optimizer_state = torch.load(
                Path(path), map_location=torch.device(map_location), weights_only=True)
            model.load_state_dict(model_state)
            if optimizer:
                optimizer.load_state_dict(optimizer_state)
            return int(epoch.item())
        """,
    E09: changed(E09, "    split = int(train_fraction * len(X))\n"
                      "    return X[:split], y[:split], X[split:], y[split:]",
                 "    n = int(train_fraction * len(X))\n"
                 "    X_train, X_test = torch.split(X, [n, len(X) - n])\n"
                 "    y_train, y_test = torch.split(y, [n, len(y) - n])\n"
                 "    return X_train, y_train, X_test, y_test",
                 "    w = 0.0\n", "    w = np.float64(0.0)\n",
                 "    return float(w), losses",
                 "    return np.float32(w), [np.float32(v) for v in losses]"),
}


def test_round3_correct_variants_keep_full_marks(grade):
    report = grade({f"{exercise}.py": textwrap.dedent(text) for exercise, text in CORRECT.items()})
    for exercise in CORRECT:
        assert_full_marks(exercise_result(report, exercise))


# ====================================================================== other seeds

SQUEEZED = changed(E09, "        loss = loss_fn(model(X_train), y_train)",
                   "        loss = loss_fn(model(X_train).squeeze(), y_train)")
ABS_OF_MEAN = changed(E09, "    loss_fn = nn.L1Loss()",
                      "    loss_fn = lambda pred, target: (pred - target).mean().abs()")
RELU6_E05 = changed(E05, "torch.relu(self.linear1(x))", "torch.nn.functional.relu6(self.linear1(x))")
RELU6_E06 = changed(E06, "h = torch.relu(self.middle_linear(h))",
                    "h = torch.nn.functional.relu6(self.middle_linear(h))")


@pytest.mark.parametrize("seed", [13, 2024])
def test_seed_dependent_escapes_are_caught(tmp_path, seed):
    """Seed 13: the e09 line never crossed the training points (an (N,) prediction against
    (N, 1) targets, and |mean residual|, got full marks). Seed 2024: no ReLU input of e05's
    large probe reached 6 (ReLU6 got full marks). Each in a submission of its own."""
    options = Options(seed=seed, jobs=2, limits=Limits(timeout=10.0), timeout_given=True,
                      only=(E05, E06, E09))
    cases = {"squeezed": {f"{E09}.py": SQUEEZED}, "abs_of_mean": {f"{E09}.py": ABS_OF_MEAN},
             "relu6": {f"{E05}.py": RELU6_E05, f"{E06}.py": RELU6_E06}}
    with Grader(collect_exercises(plugin_manager()), options) as seeded:
        for name, files in cases.items():
            directory = write_submission(tmp_path / name, files)
            report = seeded.grade(load_paths([directory], name))
            for file in files:
                result = exercise_result(report, file[:-3])
                assert not result.full_marks, (seed, name, file)
            if name == "abs_of_mean":
                check = failing(result)["fit_train_losses"]
                assert check.misconception == "abs_of_mean", check.feedback
