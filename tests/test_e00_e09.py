"""e00 (tensor basics) and e09 (the linear-regression workflow): correct answers written
in other ways get full marks; typical bugs never do, and where a misconception is declared
for a bug, the feedback names it.

A variant is the reference with one or more lines replaced (`changed`), so each case says
exactly what differs. A bug lists the checks that must fail, each with the misconception it
must name (None: whatever is named, if anything).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import SOLUTIONS, exercise_result, write_submission
from grader.checks import e00_tensor_basics, e09_linear_regression
from grader.checks.e09_linear_regression import detectors as e09_detectors
from grader.checks.e09_linear_regression import inputs as e09_inputs
from grader.judging import compare
from grader.loaders import load_paths

E00, E09 = "e00_tensor_basics", "e09_linear_regression"
REFERENCE = {name: (SOLUTIONS / f"{name}.py").read_text() for name in (E00, E09)}


def changed(exercise: str, *pairs: str) -> str:
    """The reference of `exercise` with each (old, new) pair replaced (old must be there).
    A block of lines may be written at any indentation: it is matched at the file's."""
    text = REFERENCE[exercise]
    for old, new in zip(pairs[::2], pairs[1::2]):
        old, new = textwrap.dedent(old).strip("\n"), textwrap.dedent(new).strip("\n")
        indent = next((i for i in range(12, -1, -4) if textwrap.indent(old, " " * i) in text),
                      None)
        assert indent is not None, old
        text = text.replace(textwrap.indent(old, " " * indent), textwrap.indent(new, " " * indent))
    return text


def replaced_function(exercise: str, name: str, new: str) -> str:
    """The reference with the top-level function or class `name` replaced by `new`."""
    text = REFERENCE[exercise]
    node = next(n for n in ast.parse(text).body if getattr(n, "name", None) == name)
    lines = text.splitlines()
    start = node.lineno - 1 - len(node.decorator_list)
    return "\n".join(lines[:start] + textwrap.dedent(new).strip("\n").splitlines()
                     + lines[node.end_lineno:]) + "\n"


@pytest.fixture
def grade(grader, tmp_path):
    """grade(exercise, source) -> that exercise's result, graded on its own (--only)."""
    counter = iter(range(10**6))

    def run(exercise: str, text: str):
        directory = write_submission(tmp_path / f"sub{next(counter)}", {f"{exercise}.py": text})
        return exercise_result(grader.grade(load_paths([directory], directory.name),
                                            only=[exercise]), exercise)
    return run


def graded(grade, exercise: str, text: str):
    return grade(exercise, text)


def assert_full_marks(result):
    assert result.full_marks and result.max_score > 0, [
        (c.name, c.status, c.feedback) for c in result.checks if c.status != "passed"]


def assert_caught(result, expected: dict[str, str | None]):
    assert not result.full_marks, result.name
    assert not any(c.feedback.startswith("Syntax error") for c in result.checks), \
        "the test's own variant does not compile"
    checks = {c.name: c for c in result.checks}
    for name, misconception in expected.items():
        check = checks[name]
        assert check.status in ("failed", "error"), (name, check.status, check.feedback)
        if misconception is not None:
            assert check.misconception == misconception, (name, check.misconception,
                                                          check.feedback)
            assert "Likely misconception" in check.feedback


# ====================================================================== e00

E00_CORRECT = {
    "fork_rng_flatten_movedim_column_stack": replaced_function(E00, "seeded_normal", """
        def seeded_normal(seed, shape):
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                return torch.randn(shape)
        """).replace("return x.reshape(x.shape[0], -1)", "return x.flatten(1)")
            .replace("return x.permute(0, 2, 3, 1)", "return torch.movedim(x, 1, -1)")
            .replace("return torch.stack(columns, dim=1)", "return torch.column_stack(columns)")
            .replace("return t.numpy()", "return np.asarray(t)")
            .replace("return torch.from_numpy(a)", "return torch.as_tensor(a)")
            .replace("import torch", "import numpy as np\nimport torch"),
    "state_restored_contiguous_view_einsum": replaced_function(E00, "seeded_normal", """
        def seeded_normal(seed, shape):
            saved = torch.get_rng_state()
            torch.manual_seed(seed)
            values = torch.randn(*shape)
            torch.set_rng_state(saved)
            return values
        """).replace("return x.reshape(x.shape[0], -1)",
                     "return x.contiguous().view(x.size(0), -1)")
            .replace("return x.permute(0, 2, 3, 1)", "return torch.einsum('nchw->nhwc', x)")
            .replace("return torch.stack(columns, dim=1)",
                     "return torch.cat([c.unsqueeze(1) for c in columns], dim=1)")
            .replace("return x[x.sum(dim=1) > 0]", "return x[x.mean(dim=1) > 0]")
            .replace("return t.numpy()", "return t.detach().numpy()"),
    "generator_star_shape_transposes_vstack": changed(
        E00,
        "return torch.randn(shape, generator=generator)",
        "return torch.randn(*shape, generator=generator, dtype=torch.float32)",
        "return x.reshape(x.shape[0], -1)", "return x.reshape(len(x), -1)",
        "return x.permute(0, 2, 3, 1)", "return x.transpose(1, 2).transpose(2, 3).contiguous()",
        "return torch.stack(columns, dim=1)", "return torch.vstack(columns).T",
        "return x[x.sum(dim=1) > 0]", "return x[torch.nonzero(torch.sum(x, 1) > 0).squeeze(1)]",
        "return t.numpy()", "return t.numpy(force=True)"),
    # the rows stacked, then turned (not regrouped); the generator passed by keyword
    "stack_then_transpose": changed(
        E00,
        "return torch.stack(columns, dim=1)", "return torch.stack(columns).T.contiguous()",
        "return torch.randn(shape, generator=generator)",
        "return torch.normal(0.0, 1.0, size=tuple(shape), generator=generator)"),
}

E00_BUGS = {
    # the tutorial's way: reproducible, but it reseeds everybody's generator
    "manual_seed_global": (changed(
        E00,
        """
            generator = torch.Generator().manual_seed(seed)
            return torch.randn(shape, generator=generator)
        """,
        """
            torch.manual_seed(seed)
            return torch.randn(shape)
        """), {"seeded_normal_keeps_global_state": "global_seed"}),
    "seed_ignored": (changed(E00, "torch.Generator().manual_seed(seed)",
                             "torch.Generator().manual_seed(42)"),
                     {"seeded_normal_values": None}),
    "float64_draws": (changed(E00, "torch.randn(shape, generator=generator)",
                              "torch.randn(shape, generator=generator, dtype=torch.float64)"),
                      {"seeded_normal_values": None}),
    "view_on_non_contiguous": (changed(E00, "return x.reshape(x.shape[0], -1)",
                                       "return x.view(x.shape[0], -1)"),
                               {"flatten_non_contiguous": "view_not_reshape"}),
    "flatten_copies": (changed(E00, "return x.reshape(x.shape[0], -1)",
                               "return x.clone().reshape(x.shape[0], -1)"),
                       {"flatten_is_view": None}),
    "flatten_everything": (changed(E00, "return x.reshape(x.shape[0], -1)",
                                   "return torch.flatten(x)"),
                           {"flatten_values": "flatten_all_axes",
                            "flatten_non_contiguous": "flatten_all_axes"}),
    # view(-1) raises on the non-contiguous batches: that is the misconception named there
    "view_everything": (changed(E00, "return x.reshape(x.shape[0], -1)", "return x.view(-1)"),
                        {"flatten_values": None, "flatten_non_contiguous": "view_not_reshape"}),
    # a generator seeded, then not passed: the draws come from the global generator
    "generator_not_passed": (changed(E00, "return torch.randn(shape, generator=generator)",
                                     "return torch.randn(shape)"),
                             {"seeded_normal_values": None,
                              "seeded_normal_keeps_global_state": "generator_not_passed"}),
    "seed_never_used": (changed(E00, "generator = torch.Generator().manual_seed(seed)\n", "",
                                "return torch.randn(shape, generator=generator)",
                                "return torch.randn(*shape)"),
                        {"seeded_normal_values": None,
                         "seeded_normal_keeps_global_state": "generator_not_passed"}),
    "stack_then_reshape": (changed(E00, "return torch.stack(columns, dim=1)",
                                   "return torch.stack(columns).reshape(len(columns[0]), "
                                   "len(columns))"),
                           {"stack_columns_values": "reshape_not_transpose"}),
    "cat_then_view": (changed(E00, "return torch.stack(columns, dim=1)",
                              "return torch.cat(columns).view(-1, len(columns))"),
                      {"stack_columns_values": "reshape_not_transpose"}),
    "reshape_for_channels": (changed(E00, "return x.permute(0, 2, 3, 1)",
                                     "return x.reshape(x.shape[0], x.shape[2], x.shape[3], "
                                     "x.shape[1])"),
                             {"channels_last_values": "reshape_not_permute"}),
    "view_for_channels": (changed(E00, "return x.permute(0, 2, 3, 1)",
                                  "n, c, h, w = x.shape\nreturn x.view(n, h, w, c)"),
                          {"channels_last_values": "reshape_not_permute"}),
    "transpose_for_channels": (changed(E00, "return x.permute(0, 2, 3, 1)",
                                       "return x.transpose(1, 3)"),
                               {"channels_last_values": "transpose_not_permute"}),
    "stack_rows": (changed(E00, "return torch.stack(columns, dim=1)",
                           "return torch.stack(columns)"),
                   {"stack_columns_values": "stack_wrong_axis"}),
    "cat_columns": (changed(E00, "return torch.stack(columns, dim=1)",
                            "return torch.cat(columns)"),
                    {"stack_columns_values": "cat_not_stack"}),
    "zero_sum_rows_kept": (changed(E00, "x[x.sum(dim=1) > 0]", "x[x.sum(dim=1) >= 0]"),
                           {"positive_rows_values": "zero_sum_kept"}),
    "elementwise_mask": (changed(E00, "x[x.sum(dim=1) > 0]", "x[x > 0]"),
                         {"positive_rows_values": "mask_per_element",
                          "positive_rows_none": None}),
    "rows_by_loop": (changed(E00, "return x[x.sum(dim=1) > 0]",
                             "return torch.stack([row for row in x if row.sum() > 0])"),
                     {"positive_rows_none": None}),
    "np_array_copies": (changed(E00, "return t.numpy()", "return np.array(t)",
                                "import torch", "import numpy as np\nimport torch"),
                        {"numpy_view_shares": "numpy_copies"}),
    "torch_tensor_copies": (changed(E00, "return torch.from_numpy(a)",
                                    "return torch.tensor(a)"),
                            {"tensor_view_shares": "tensor_copies"}),
    # the tutorial's own line: torch.from_numpy(array).type(torch.float32)
    "tutorial_float32_conversion": (changed(E00, "return torch.from_numpy(a)",
                                            "return torch.from_numpy(a).type(torch.float32)"),
                                    {"tensor_view_shares": "dtype_conversion_copies"}),
    "threshold_not_zero": (changed(E00, "x[x.sum(dim=1) > 0]", "x[x.sum(dim=1) > 0.5]"),
                           {"positive_rows_values": None}),
    "any_positive_element": (changed(E00, "x[x.sum(dim=1) > 0]", "x[(x > 0).any(dim=1)]"),
                             {"positive_rows_values": None}),
    "clone_then_numpy": (changed(E00, "return t.numpy()", "return t.clone().numpy()"),
                         {"numpy_view_shares": "numpy_copies"}),
    "as_tensor_float32": (changed(E00, "return torch.from_numpy(a)",
                                  "return torch.as_tensor(a, dtype=torch.float32)"),
                          {"tensor_view_shares": "dtype_conversion_copies"}),
    "global_draw_inside": (changed(E00, "generator = torch.Generator().manual_seed(seed)",
                                   "generator = torch.Generator().manual_seed(seed)\n"
                                   "torch.rand(1)  # a warm-up draw"),
                           {"seeded_normal_keeps_global_state": None}),
    "tolist_round_trip": (changed(E00, "return t.numpy()",
                                  "return np.array(t.tolist(), dtype=np.float32)",
                                  "import torch", "import numpy as np\nimport torch"),
                          {"numpy_view_shares": None}),
}


@pytest.mark.parametrize("name", sorted(E00_CORRECT))
def test_e00_correct_variants_get_full_marks(grade, name):
    assert_full_marks(graded(grade, E00, E00_CORRECT[name]))


@pytest.mark.parametrize("name", sorted(E00_BUGS))
def test_e00_typical_bugs_are_caught_and_named(grade, name):
    text, expected = E00_BUGS[name]
    assert_caught(graded(grade, E00, text), expected)


def test_e00_inputs_follow_the_seed_and_hold_the_cases_the_checks_need():
    first, second = (e00_tensor_basics.make_inputs(seed) for seed in (1, 2))
    assert not np.array_equal(first["images"], second["images"]) or \
        first["images"].shape != second["images"].shape
    for seed in range(20):
        data = e00_tensor_basics.make_inputs(seed)
        sums = data["rows"].sum(axis=1)
        assert (sums == 0).sum() >= 2 and (sums < 0).sum() >= 2 and (sums > 0).sum() >= 2
        assert ((sums > 0) & (sums < 0.5)).any() and ((sums < 0) & (sums > -0.5)).any()
        assert data["rows"].shape[0] != data["rows"].shape[1]
        n, c, h, w = data["chw"].shape
        assert h != w and c not in (h, w)
        assert data["columns"].shape[0] != data["columns"].shape[1]


# ====================================================================== e09

E09_CORRECT = {
    # NumPy grid and float64 arithmetic inside, torch.split, the tutorial's Parameter line,
    # functional L1, zero_grad after the step, the gradient through np.dot / len
    "numpy_grid_functional_loss": changed(
        E09,
        "X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(dim=1)",
        "X = torch.from_numpy(np.arange(start, end, step)).float().unsqueeze(1)",
        "y = weight * X + bias", "y = (weight * X.double() + bias).float()",
        "return X[:split], y[:split], X[split:], y[split:]",
        """
            X_train, X_test = torch.split(X, [split, len(X) - split])
            y_train, y_test = torch.split(y, [split, len(y) - split])
            return X_train, y_train, X_test, y_test
        """,
        "self.weights = nn.Parameter(torch.randn(1, dtype=torch.float32))",
        "self.weights = nn.Parameter(torch.randn(1, requires_grad=True, dtype=torch.float))",
        "loss_fn = nn.L1Loss()", "loss_fn = torch.nn.functional.l1_loss",
        """
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """,
        """
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
        """,
        "gradient = np.mean(2 * x * (y_pred - y))", "gradient = np.dot(2 * x, y_pred - y) / len(x)"),
    # bias built first (other draw order), float64 inside by hand, reshape, explicit means
    "float64_by_hand_bias_first": changed(
        E09,
        """
                self.weights = nn.Parameter(torch.randn(1, dtype=torch.float32))
                self.bias = nn.Parameter(torch.randn(1, dtype=torch.float32))
        """,
        """
                self.bias = nn.Parameter(torch.randn(1))
                self.weights = nn.Parameter(torch.randn(1))
        """,
        "return self.weights * x + self.bias", "return x * self.weights + self.bias",
        "X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(dim=1)",
        "X = torch.arange(start, end, step).reshape(-1, 1)",
        "y = weight * X + bias", "y = X * weight + bias",
        "split = int(train_fraction * len(X))", "split = int(len(X) * train_fraction)",
        "loss = loss_fn(model(X_train), y_train)",
        "loss = torch.mean(torch.abs(model(X_train) - y_train))",
        "test_losses.append(loss_fn(model(X_test), y_test).item())",
        "test_losses.append(float((model(X_test) - y_test).abs().mean()))",
        "w = 0.0", """
            w = np.float64(0.0)
            x, y = x.astype(np.float64), y.astype(np.float64)
        """,
        "gradient = np.mean(2 * x * (y_pred - y))", "gradient = 2 * np.mean(x * (y_pred - y))"),
    # a float32 grid of its own, addcmul forward, zero_grad first, numpy scalars by hand
    "addcmul_and_numpy_scalars": changed(
        E09,
        "X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(dim=1)",
        """
            count = len(torch.arange(start, end, step))
            X = (start + step * torch.arange(count, dtype=torch.float32)).unsqueeze(dim=1)
        """,
        "return self.weights * x + self.bias", "return torch.addcmul(self.bias, self.weights, x)",
        """
                model.train()
                loss = loss_fn(model(X_train), y_train)
        """,
        """
                model.train()
                optimizer.zero_grad()
                loss = loss_fn(model(X_train), y_train)
        """,
        "losses.append(float(np.mean((y_pred - y) ** 2)))",
        "losses.append(np.mean((y_pred - y) ** 2))",
        "return float(w), losses", "return w, losses"),
}

E09_BUGS = {
    "mse_loss": (changed(E09, "loss_fn = nn.L1Loss()", "loss_fn = nn.MSELoss()"),
                 {"fit_train_losses": "mse_not_l1", "fit_test_losses": "mse_not_l1",
                  "fit_weights": "mse_not_l1"}),
    "grads_never_zeroed": (changed(E09, "        optimizer.zero_grad()\n", ""),
                           {"fit_train_losses": "grads_accumulate",
                            "fit_weights": "grads_accumulate"}),
    "l1_sum": (changed(E09, "loss_fn = nn.L1Loss()", "loss_fn = nn.L1Loss(reduction='sum')"),
               {"fit_train_losses": None, "fit_weights": None}),
    "mini_batches_of_32": (changed(
        E09,
        """
                model.train()
                loss = loss_fn(model(X_train), y_train)
                train_losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """,
        """
                model.train()
                for first in range(0, len(X_train), 32):
                    loss = loss_fn(model(X_train[first:first + 32]), y_train[first:first + 32])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                train_losses.append(loss.item())
        """), {"fit_train_losses": None, "fit_weights": None}),
    "line_float64": (changed(E09, "torch.arange(start, end, step, dtype=torch.float32)",
                             "torch.arange(start, end, step, dtype=torch.float64)"),
                     {"line_float32_column": None}),
    "bias_starts_at_zero": (changed(E09,
                                    "self.bias = nn.Parameter(torch.randn(1, dtype=torch.float32))",
                                    "self.bias = nn.Parameter(torch.zeros(1))"),
                            {"model_init": None}),
    "abs_of_mean": (changed(E09, "loss_fn = nn.L1Loss()",
                            "loss_fn = lambda pred, target: (pred - target).mean().abs()"),
                    {"fit_train_losses": "abs_of_mean"}),
    "shuffled_split": (changed(
        E09, "return X[:split], y[:split], X[split:], y[split:]",
        """
            order = torch.randperm(len(X))
            X, y = X[order], y[order]
            return X[:split], y[:split], X[split:], y[split:]
        """), {"split_default": "shuffled_split", "split_other_fraction": "shuffled_split"}),
    "split_rounds": (changed(E09, "split = int(train_fraction * len(X))",
                             "split = round(train_fraction * len(X))"),
                     {"split_default": "split_off_by_one"}),
    "split_sklearn_order": (changed(E09, "return X[:split], y[:split], X[split:], y[split:]",
                                    "return X[:split], X[split:], y[:split], y[split:]"),
                            {"split_default": "split_order_swapped"}),
    "split_fraction_ignored": (changed(E09, "split = int(train_fraction * len(X))",
                                       "split = int(0.8 * len(X))"),
                               {"split_other_fraction": "ignores_train_fraction"}),
    "test_loss_with_grad": (changed(E09, "with torch.inference_mode():",
                                    "if True:"),
                            {"fit_test_inference_mode": "test_loss_with_grad"}),
    "test_loss_train_mode": (changed(E09, "        model.eval()\n", ""),
                             {"fit_modes": "test_loss_in_train_mode"}),
    "train_mode_once": (changed(
        E09,
        """
            for _ in range(epochs):
                model.train()
        """,
        """
            model.train()
            for _ in range(epochs):
        """), {"fit_modes": "train_mode_not_restored"}),
    "loss_after_update": (changed(
        E09,
        """
                train_losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """,
        """
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    train_losses.append(loss_fn(model(X_train), y_train).item())
        """), {"fit_train_losses": "loss_after_update"}),
    "test_before_the_step": (changed(
        E09,
        """
                model.train()
                loss = loss_fn(model(X_train), y_train)
                train_losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

                model.eval()
                with torch.inference_mode():
                    test_losses.append(loss_fn(model(X_test), y_test).item())
        """,
        """
                model.eval()
                with torch.inference_mode():
                    test_losses.append(loss_fn(model(X_test), y_test).item())

                model.train()
                loss = loss_fn(model(X_train), y_train)
                train_losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """), {"fit_test_losses": "test_before_step"}),
    "fit_ignores_learning_rate": (changed(E09, "lr=learning_rate)", "lr=0.01)"),
                                  {"fit_arguments": "ignores_learning_rate"}),
    "fit_ignores_epochs": (changed(E09, "for _ in range(epochs):", "for _ in range(100):"),
                           {"fit_arguments": "ignores_epochs"}),
    "fit_lr_decay_after_100": (changed(
        E09,
        """
            for _ in range(epochs):
                model.train()
        """,
        """
            for epoch in range(epochs):
                if epoch == 100:
                    for group in optimizer.param_groups:
                        group["lr"] = learning_rate / 10
                model.train()
        """), {"fit_arguments": None}),
    # the tutorial's loss_values.append(loss): tensors that keep their graphs
    "fit_keeps_loss_tensors": (changed(E09, "train_losses.append(loss.item())",
                                       "train_losses.append(loss)"),
                               {"fit_losses_are_floats": None}),
    "fit_returns_arrays": (changed(E09, "return train_losses, test_losses",
                                   "return np.array(train_losses), np.array(test_losses)"),
                           {"fit_losses_are_floats": None}),
    "fit_returns_tensors": (changed(E09, "train_losses.append(loss.item())",
                                    "train_losses.append(loss.detach())"),
                            {"fit_losses_are_floats": None}),
    "plain_tensors": (changed(
        E09,
        """
                self.weights = nn.Parameter(torch.randn(1, dtype=torch.float32))
                self.bias = nn.Parameter(torch.randn(1, dtype=torch.float32))
        """,
        """
                self.weights = torch.randn(1, requires_grad=True)
                self.bias = torch.randn(1, requires_grad=True)
        """), {"model_parameters": "plain_tensor_not_parameter"}),
    "rand_not_randn": (changed(E09, "self.weights = nn.Parameter(torch.randn(1, dtype=torch.float32))",
                               "self.weights = nn.Parameter(torch.rand(1))"),
                       {"model_init": None}),
    "x_not_a_column": (changed(E09, ".unsqueeze(dim=1)", ""),
                       {"line_default": "not_a_column", "line_float32_column": "not_a_column"}),
    "tutorial_line": (changed(
        E09, "X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(dim=1)",
        """
            weight, bias = 0.7, 0.3
            X = torch.arange(0, 1, 0.02).unsqueeze(dim=1)
        """), {"line_arguments": "tutorial_constants"}),
    "wrong_default_step": (changed(E09, "end=1.0, step=0.02)", "end=1.0, step=0.01)"),
                           {"line_default": None, "line_arguments": None}),
    "end_included": (changed(E09, "torch.arange(start, end, step,",
                             "torch.arange(start, end + step, step,"),
                     {"line_default": None, "line_arguments": None}),
    # the tutorial's gradient: np.dot(...) is already the sum, .mean() of one number is it
    "gradient_sum_tutorial": (changed(E09, "gradient = np.mean(2 * x * (y_pred - y))",
                                      "gradient = np.dot(2 * x, y_pred - y).mean()"),
                              {"descent_default": "gradient_sum_not_mean",
                               "descent_arguments": "gradient_sum_not_mean"}),
    "gradient_missing_two": (changed(E09, "gradient = np.mean(2 * x * (y_pred - y))",
                                     "gradient = np.mean(x * (y_pred - y))"),
                             {"descent_default": "gradient_missing_two",
                              "descent_arguments": "gradient_missing_two"}),
    "w_starts_at_one": (changed(E09, "w = 0.0", "w = 1.0"),
                        {"descent_default": "w_not_zero", "descent_arguments": "w_not_zero"}),
    "gd_loss_after_update": (changed(
        E09,
        """
                losses.append(float(np.mean((y_pred - y) ** 2)))
                gradient = np.mean(2 * x * (y_pred - y))
                w -= learning_rate * gradient
        """,
        """
                gradient = np.mean(2 * x * (y_pred - y))
                w -= learning_rate * gradient
                losses.append(float(np.mean((w * x - y) ** 2)))
        """), {"descent_default": "gd_loss_after_update"}),
    "gd_ignores_steps": (changed(E09, "for _ in range(steps):", "for _ in range(20):"),
                         {"descent_arguments": "gd_ignores_steps"}),
    "gd_ignores_learning_rate": (changed(E09, "w -= learning_rate * gradient",
                                         "w -= 0.01 * gradient"),
                                 {"descent_arguments": "gd_ignores_learning_rate"}),
    "gd_decay_after_20_steps": (changed(
        E09,
        """
            for _ in range(steps):
                y_pred = w * x
        """,
        """
            for step in range(steps):
                if step == 20:
                    learning_rate = learning_rate / 2
                y_pred = w * x
        """), {"descent_arguments": None}),
    "zero_grad_after_backward": (changed(
        E09,
        """
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """,
        """
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
        """), {"fit_train_losses": "no_update",
               "fit_test_losses": "no_update",
               "fit_weights": "no_update"}),
    "step_before_backward": (changed(
        E09,
        """
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """,
        """
                optimizer.zero_grad()
                optimizer.step()
                loss.backward()
        """), {"fit_train_losses": "no_update",
               "fit_weights": "no_update"}),
    "step_never_called": (changed(
        E09,
        """
                loss.backward()
                optimizer.step()
        """, "loss.backward()"), {"fit_train_losses": "no_update", "fit_weights": "no_update"}),
    "test_loss_on_train_data": (changed(
        E09, "test_losses.append(loss_fn(model(X_test), y_test).item())",
        "test_losses.append(loss_fn(model(X_train), y_train).item())"),
        {"fit_test_losses": "test_loss_on_train_data", "fit_modes": None}),
    "split_one_more": (changed(E09, "split = int(train_fraction * len(X))",
                               "split = int(train_fraction * len(X)) + 1"),
                       {"split_default": "split_off_by_one",
                        "split_other_fraction": "split_off_by_one"}),
    "mse_functional": (changed(E09, "loss_fn = nn.L1Loss()",
                               "loss_fn = torch.nn.functional.mse_loss"),
                       {"fit_train_losses": "mse_not_l1", "fit_weights": "mse_not_l1"}),
    "gradient_ascent": (changed(E09, "w -= learning_rate * gradient",
                                "w += learning_rate * gradient"),
                        {"descent_default": "gradient_ascent",
                         "descent_arguments": "gradient_ascent"}),
    "gradient_np_sum": (changed(E09, "gradient = np.mean(2 * x * (y_pred - y))",
                                "gradient = np.sum(2 * x * (y_pred - y))"),
                        {"descent_default": "gradient_sum_not_mean",
                         "descent_arguments": "gradient_sum_not_mean"}),
    "w_random_start": (changed(E09, "w = 0.0", "w = float(np.random.randn())"),
                       {"descent_default": "w_not_zero", "descent_arguments": "w_not_zero"}),
    "gd_returns_array": (changed(E09, "return float(w), losses",
                                 "return np.array([w]), np.array(losses)"),
                         {"descent_types": None}),
}


@pytest.mark.parametrize("name", sorted(E09_CORRECT))
def test_e09_correct_variants_get_full_marks(grade, name):
    assert_full_marks(graded(grade, E09, E09_CORRECT[name]))


@pytest.mark.parametrize("name", sorted(E09_BUGS))
def test_e09_typical_bugs_are_caught_and_named(grade, name):
    text, expected = E09_BUGS[name]
    assert_caught(graded(grade, E09, text), expected)


@pytest.mark.parametrize("name", ["fit_keeps_loss_tensors", "fit_returns_arrays"])
def test_e09_right_losses_of_the_wrong_type_lose_only_the_type_check(grade, name):
    text, _ = E09_BUGS[name]
    result = graded(grade, E09, text)
    assert {c.name for c in result.checks if c.status != "passed"} == {"fit_losses_are_floats"}


def test_the_course_notebook_holds_all_ten_exercises():
    from grader.notebook import build_notebook

    exercises = build_notebook().metadata["torchkit"]["exercises"]
    assert exercises[0] == E00 and exercises[-1] == E09 and len(exercises) == 10


def test_e09_no_grad_test_loss_gets_half_of_its_check(grade):
    result = graded(grade, E09, changed(E09, "with torch.inference_mode():",
                                        "with torch.no_grad():"))
    check = next(c for c in result.checks if c.name == "fit_test_inference_mode")
    assert check.status == "failed" and check.score == pytest.approx(0.5)
    assert sum(c.status != "passed" for c in result.checks) == 1


def test_e09_fit_is_graded_on_the_graders_own_model(grade):
    """A broken LinearRegressionModel costs the model's checks only."""
    text = changed(E09, "return self.weights * x + self.bias", "return self.weights * x")
    result = graded(grade, E09, text)
    failing = {c.name for c in result.checks if c.status != "passed"}
    assert failing == {"model_forward_values"}


def test_e09_inputs_follow_the_seed_and_keep_the_splits_unambiguous():
    for seed in range(12):
        data = e09_linear_regression.make_inputs(seed)
        n = len(data["split_X"])
        assert int(0.8 * n) != round(0.8 * n)
        fraction, n2 = float(data["split_fraction"][0]), len(data["split_X2"])
        assert int(fraction * n2) != round(fraction * n2)
        assert len(data["X_train"]) != len(data["X_test"])
        weight, bias, start, end, step = data["line"]
        assert 0.2 < ((end - start) / step) % 1 < 0.8
    first, second = (e09_linear_regression.make_inputs(seed) for seed in (3, 4))
    assert not np.array_equal(first["gd_x"][:3], second["gd_x"][:3])
    assert e09_linear_regression.make_inputs(3)["gd_x"] is not first["gd_x"]   # fresh copies


def test_e09_fit_data_keep_every_residual_clear_of_zero():
    """The L1 gradient is a sign: along both reference runs no training residual comes
    within RESIDUAL_MARGIN of 0, so float32 and float64 answers take the same path."""
    module = e09_inputs
    for seed in range(8):
        data = module.make_inputs(seed)
        X, y = data["X_train"], data["y_train"]
        rate, epochs = data["fit_other"]
        for lr, steps in ((module.DEFAULT_FIT_LR, module.DEFAULT_EPOCHS), (rate, int(epochs))):
            assert module._l1_margin(X, y, *data["fit_init"], lr, steps) > \
                module.RESIDUAL_MARGIN


def test_e09_by_hand_descent_mutants_follow_the_reference_formula():
    """descent_run (which the detectors use) is the reference in float64."""
    from solutions.e09_linear_regression import manual_gradient_descent

    data = e09_linear_regression.make_inputs(7)
    w, losses = manual_gradient_descent(data["gd_x"], data["gd_y"])
    w_run, losses_run = e09_detectors.descent_run(data["gd_x"], data["gd_y"], 0.01, 20)
    assert not compare("", losses, losses_run, 1e-9) and abs(w - w_run) < 1e-9


GRADER_SIDE = ("__init__", "inputs", "judges", "detectors")


@pytest.mark.parametrize("module", [e00_tensor_basics, e09_linear_regression])
def test_grader_side_modules_import_neither_torch_nor_worker_code(module):
    """The declaration, inputs, judges and detectors run in the grader: no torch, and
    none of the worker's modules (probes, mutants) at top level."""
    folder = Path(module.__file__).parent
    for path in (folder / f"{name}.py" for name in GRADER_SIDE):
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = [a.name for n in top for a in n.names] + \
            [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
        assert not any(name.split(".")[0] == "torch" for name in names), path
        assert not {"probes", "mutants"} & {part for name in names for part in name.split(".")}, \
            path
    assert all(len(p.read_text().splitlines()) < 400 for p in folder.glob("*.py"))


@pytest.mark.parametrize("module", [e00_tensor_basics, e09_linear_regression])
def test_every_mutant_is_named_and_has_its_texts(module):
    """Each misconception names a mutant of mutants.py or has a detector, and its text
    exists in English and Korean."""
    tree = ast.parse((Path(module.__file__).parent / "mutants.py").read_text())
    mutants = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    texts = module.EXERCISE.texts_by_key()
    for misconception in module.EXERCISE.misconceptions:
        assert misconception.detect is not None or misconception.mutant in mutants, \
            misconception.key
        assert {"en", "ko"} <= set(texts[misconception.key]), misconception.key
