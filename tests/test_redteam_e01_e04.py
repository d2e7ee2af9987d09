"""Red team for e01-e04: correct answers written in many unusual ways (tutorial code copied
verbatim, ChatGPT-style, float32 inside, helpers, classes, demos at module level) get full
marks, on the default seed and on others; realistic bugs never get full marks, and name
their misconception where one is declared.

Variants are graded in batches (grader.grade_many runs the workers in parallel)."""

from __future__ import annotations

import string
import textwrap

import numpy as np
import pytest

from conftest import exercise_result, solution_source, write_submission
from grader.checks import e01_numpy_grads, e02_tensor_grads, e03_autograd, e04_my_relu
from grader.checks.two_layer import inputs as two_layer_inputs
from grader.checks.two_layer import judges as two_layer_judges
from grader.checks.two_layer import variants as two_layer_variants
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

E01, E02, E03, E04 = "e01_numpy_grads", "e02_tensor_grads", "e03_autograd", "e04_my_relu"
ANY = object()   # the check must fail; which misconception (if any) is not asserted


def bug(source: str, old: str, new: str) -> str:
    """The source with one piece changed (the piece must be there)."""
    source = textwrap.dedent(source)
    assert old in source, old
    return source.replace(old, new, 1)


def grade_all(grader, tmp_path, exercise: str, sources: dict[str, str]) -> dict:
    submissions = [load_paths([write_submission(tmp_path / f"{exercise}_{label}",
                                                {f"{exercise}.py": source})], label)
                   for label, source in sources.items()]
    return {report.id: exercise_result(report, exercise)
            for report in grader.grade_many(submissions)}


def assert_all_full_marks(results: dict) -> None:
    wrong = {label: {c.name: c.feedback for c in result.checks if c.status != "passed"}
             for label, result in results.items() if not result.full_marks}
    assert not wrong, wrong


def assert_bugs_caught(results: dict, bugs: dict) -> None:
    """No bug gets full marks; the named checks fail, with the named misconception."""
    for label, (_, expected) in bugs.items():
        result = results[label]
        assert not result.full_marks, label
        failing = {c.name: c for c in result.checks if c.status != "passed"}
        for check, key in expected.items():
            assert check in failing, (label, check, {n: c.feedback for n, c in failing.items()})
            if key is not ANY:
                assert failing[check].misconception == key, \
                    (label, check, failing[check].misconception, failing[check].feedback)


@pytest.fixture(scope="module")
def course_grader():
    """e01-e03 graded at the grader's own time limit (10 s an exercise): their probes run
    the contract's 500 default steps, and a correct but slow answer (torch.func's first
    call alone takes seconds on a busy machine) must not time out where the session's
    5 s limit would."""
    options = Options(jobs=2, limits=Limits(), only=(E01, E02, E03))
    with Grader(collect_exercises(plugin_manager()), options) as shared:
        yield shared


# ====================================================================== e01

E01_TUT_GRADS = """
import numpy as np

def numpy_two_layer_grads(x, y, w1, w2):
    # Forward pass: compute predicted y
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)

    # Compute and print loss
    loss = np.square(y_pred - y).sum()

    # Backprop to compute gradients of w1 and w2 with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h_relu = grad_y_pred.dot(w2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    return loss, grad_w1, grad_w2
"""

E01_TUT_TRAIN = """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
        if t % 100 == 99:
            print(t, loss)
        losses.append(loss)
        # Update weights
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return w1, w2, losses
"""

E01_REF = E01_TUT_GRADS + E01_TUT_TRAIN

E01_INLINE_TRAIN = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        h = x.dot(w1)
        h_relu = np.maximum(h, 0)
        y_pred = h_relu.dot(w2)
        loss = np.square(y_pred - y).sum()
        losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.T.dot(grad_y_pred)
        grad_h_relu = grad_y_pred.dot(w2.T)
        grad_h = grad_h_relu.copy()
        grad_h[h < 0] = 0
        grad_w1 = x.T.dot(grad_h)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return w1, w2, losses
"""

E01_CORRECT = {
    "tutorial": E01_REF,
    "inline_train_verbatim": E01_INLINE_TRAIN,
    "where_heaviside_lists_tuples": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = np.dot(x, w1)
            h_relu = np.where(h > 0, h, 0.0)
            y_pred = np.dot(h_relu, w2)
            diff = y_pred - y
            loss = float(np.sum(diff ** 2))
            g = 2 * diff
            grad_w2 = np.dot(h_relu.T, g)
            grad_w1 = np.dot(x.T, np.dot(g, w2.T) * np.heaviside(h, 0))
            return [loss, grad_w1, grad_w2]
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = ()
            for _ in range(steps):
                l, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                losses += (l,)
                w1 = w1 - learning_rate * g1
                w2 = w2 - learning_rate * g2
            return [w1, w2, list(losses)]
        """,
    "float32_everything": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            x, y, w1, w2 = (a.astype(np.float32) for a in (x, y, w1, w2))
            h = x @ w1
            h_relu = h.clip(min=0)
            y_pred = h_relu @ w2
            loss = np.float32(((y_pred - y) ** 2).sum())
            grad_y_pred = np.float32(2) * (y_pred - y)
            grad_w2 = h_relu.T @ grad_y_pred
            grad_h = (grad_y_pred @ w2.T) * (h > 0)
            return loss, x.T @ grad_h, grad_w2
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1 = w1.astype(np.float32); w2 = w2.astype(np.float32)
            losses = []
            for _ in range(steps):
                loss, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                losses.append(loss.item())
                w1 -= np.float32(learning_rate) * g1
                w2 -= np.float32(learning_rate) * g2
            return w1, w2, losses
        """,
    "einsum_helpers_class_functools": """
        import numpy as np
        import functools

        def relu(z):
            return np.maximum(z, 0)

        def relu_grad(z):
            return (z > 0).astype(z.dtype)

        class Net:
            def __init__(self, w1, w2):
                self.w1, self.w2 = w1, w2
            def grads(self, x, y):
                h = np.einsum("nd,dh->nh", x, self.w1)
                a = relu(h)
                r = np.einsum("nh,ho->no", a, self.w2) - y
                go = 2 * r
                gh = np.einsum("no,ho->nh", go, self.w2) * relu_grad(h)
                return (np.einsum("no,no->", r, r), np.einsum("nd,nh->dh", x, gh),
                        np.einsum("nh,no->ho", a, go))

        def numpy_two_layer_grads(x, y, w1, w2):
            return Net(w1, w2).grads(x, y)

        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            net = Net(w1.copy(), w2.copy())
            losses = []
            step = functools.partial(numpy_two_layer_grads, x, y)
            for _ in range(steps):
                loss, g1, g2 = step(net.w1, net.w2)
                losses.append(float(loss))
                net.w1 = net.w1 - learning_rate * g1
                net.w2 = net.w2 - learning_rate * g2
            return net.w1, net.w2, losses
        """,
    "in_place_relu_on_fresh_array_le_mask": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = x @ w1
            np.maximum(h, 0, out=h)       # h is now h_relu: mask with <= 0
            y_pred = h @ w2
            loss = ((y_pred - y) ** 2).sum()
            grad_y_pred = 2 * (y_pred - y)
            grad_w2 = h.T @ grad_y_pred
            grad_h = grad_y_pred @ w2.T
            grad_h[h <= 0] = 0
            return loss, x.T @ grad_h, grad_w2
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = []
            for _ in range(steps):
                loss, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                losses.append(loss)
                w1[:] = w1 - learning_rate * g1
                np.subtract(w2, learning_rate * g2, out=w2)
            return w1, w2, losses
        """,
    "tutorial_demo_unguarded": E01_REF + textwrap.dedent("""
        N, D_in, H, D_out = 64, 1000, 100, 10
        x = np.random.randn(N, D_in)
        y = np.random.randn(N, D_out)
        w1 = np.random.randn(D_in, H)
        w2 = np.random.randn(H, D_out)
        w1, w2, losses = numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500)
        print("final loss", losses[-1])
        """),
    "demo_guarded": E01_REF + textwrap.dedent("""
        if __name__ == "__main__":
            raise SystemExit("never run")
        """),
    "matmul_norm_while_prints": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = np.matmul(x, w1)
            mask = h > 0
            h_relu = h * mask
            y_pred = np.matmul(h_relu, w2)
            loss = np.linalg.norm(y_pred - y) ** 2
            d = 2 * (y_pred - y)
            print("loss", loss)
            return (loss, np.transpose(x) @ ((d @ np.transpose(w2)) * mask),
                    np.transpose(h_relu) @ d)
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            history = []
            t = 0
            while t < steps:
                loss, gw1, gw2 = numpy_two_layer_grads(x, y, w1, w2)
                history.append(float(loss))
                w1, w2 = w1 - learning_rate * gw1, w2 - learning_rate * gw2
                t += 1
            return w1, w2, history
        """,
    "loss_0d_array_vdot": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = x @ w1
            h_relu = np.clip(h, 0, None)
            r = h_relu @ w2 - y
            loss = np.array(np.vdot(r, r))    # a 0-d array
            grad_h = np.where(h < 0, 0, (2 * r) @ w2.T)
            return loss, x.T @ grad_h, h_relu.T @ (2 * r)
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = []
            for _ in range(steps):
                out = numpy_two_layer_grads(x, y, w1, w2)
                losses.append(out[0].item())
                w1 = w1 - learning_rate * out[1]
                w2 = w2 - learning_rate * out[2]
            return w1, w2, losses
        """,
    "dict_params_ge_mask": """
        import numpy as np
        def forward(x, w1, w2):
            h = x @ w1
            return h, np.maximum(h, 0), np.maximum(h, 0) @ w2
        def numpy_two_layer_grads(x, y, w1, w2):
            h, a, y_pred = forward(x, w1, w2)
            grad_y_pred = 2.0 * (y_pred - y)
            grads = {"w2": a.T @ grad_y_pred}
            grads["w1"] = x.T @ ((grad_y_pred @ w2.T) * (h >= 0))
            return float(((y_pred - y) * (y_pred - y)).sum()), grads["w1"], grads["w2"]
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            params = {"w1": w1, "w2": w2}
            losses = []
            for step in range(1, steps + 1):
                loss, g1, g2 = numpy_two_layer_grads(x, y, params["w1"], params["w2"])
                losses.append(loss)
                params["w1"] -= learning_rate * g1
                params["w2"] -= learning_rate * g2
            return params["w1"], params["w2"], losses
        """,
    "star_unpack_list_comprehension": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            z = x.dot(w1)
            a = z * (z > 0)
            e = a.dot(w2) - y
            grad_z = (2 * e).dot(w2.T) * np.greater(z, 0)
            return np.sum(np.power(e, 2)), x.T.dot(grad_z), a.T.dot(2 * e)
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            weights = [w1.copy(), w2.copy()]
            losses = []
            for _ in range(steps):
                loss, *grads = numpy_two_layer_grads(x, y, *weights)
                weights = [w - learning_rate * g for w, g in zip(weights, grads)]
                losses.append(loss)
            return weights[0], weights[1], losses
        """,
    "preallocated_losses_partly_float32": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = (np.float32(x) @ np.float32(w1)).astype(np.float64)
            h_relu = np.maximum(0, h)
            y_pred = h_relu @ w2
            gy = 2 * (y_pred - y)
            gh = gy @ w2.T
            gh[h < 0] = 0.0
            return float(((y_pred - y) ** 2).sum()), x.T @ gh, h_relu.T @ gy
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = [None] * steps
            for i in range(steps):
                losses[i], g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                w1 -= learning_rate * g1; w2 -= learning_rate * g2
            return w1, w2, losses
        """,
}

E01_UPDATE_W2_FIRST = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        h = x.dot(w1)
        h_relu = np.maximum(h, 0)
        y_pred = h_relu.dot(w2)
        losses.append(np.square(y_pred - y).sum())
        grad_y_pred = 2.0 * (y_pred - y)
        w2 -= learning_rate * h_relu.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)          # uses the updated w2
        grad_h[h < 0] = 0
        w1 -= learning_rate * x.T.dot(grad_h)
    return w1, w2, losses
"""

E01_SECOND_GRAD_AFTER_UPDATE = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        loss, grad_w1, _ = numpy_two_layer_grads(x, y, w1, w2)
        losses.append(loss)
        w1 -= learning_rate * grad_w1
        _, _, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)   # at the new w1
        w2 -= learning_rate * grad_w2
    return w1, w2, losses
"""

E01_LOSS_AFTER_UPDATE = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
        losses.append(numpy_two_layer_grads(x, y, w1, w2)[0])
    return w1, w2, losses
"""

E01_STALE_GRADS = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
    for t in range(steps):
        losses.append(numpy_two_layer_grads(x, y, w1, w2)[0])
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return w1, w2, losses
"""

E01_UPDATE_LOST = E01_TUT_GRADS + """
def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for t in range(steps):
        loss, grad_w1, grad_w2 = numpy_two_layer_grads(x, y, w1, w2)
        losses.append(loss)
        new_w1 = w1 - learning_rate * grad_w1
        new_w2 = w2 - learning_rate * grad_w2
    return w1, w2, losses
"""

TRAIN = ("train_losses", "train_weights")

E01_BUGS = {
    "steps_minus_one": (bug(E01_REF, "range(steps)", "range(steps - 1)"),
                        {"train_losses": "steps_off_by_one", "train_weights": "steps_off_by_one"}),
    "steps_plus_one": (bug(E01_REF, "range(steps)", "range(steps + 1)"),
                       {"train_losses": "steps_off_by_one", "train_weights": "steps_off_by_one"}),
    "steps_from_one": (bug(E01_REF, "range(steps)", "range(1, steps)"),
                       {"train_losses": "steps_off_by_one"}),
    "reshape_instead_of_transpose_w2": (
        bug(E01_REF, "grad_w2 = h_relu.T.dot(grad_y_pred)",
            "grad_w2 = grad_y_pred.T.dot(h_relu).reshape(w2.shape)"), {"grad_w2": ANY}),
    "reshape_instead_of_transpose_w1": (
        bug(E01_REF, "grad_w1 = x.T.dot(grad_h)", "grad_w1 = grad_h.T.dot(x).reshape(w1.shape)"),
        {"grad_w1": ANY}),
    "relu_on_the_output_too": (bug(E01_REF, "y_pred = h_relu.dot(w2)",
                                   "y_pred = np.maximum(h_relu.dot(w2), 0)"),
                               {"loss": ANY, "grad_w1": ANY, "grad_w2": ANY}),
    "no_relu_in_forward": (bug(E01_REF, "h_relu = np.maximum(h, 0)", "h_relu = h"),
                           {"loss": ANY, "grad_w2": ANY}),
    "mask_on_h_relu_lt_zero": (bug(E01_REF, "grad_h[h < 0] = 0", "grad_h[h_relu < 0] = 0"),
                               {"grad_w1": "relu_mask_missing"}),
    "mask_ge_zero": (bug(E01_REF, "grad_h[h < 0] = 0", "grad_h[h >= 0] = 0"),
                     {"grad_w1": "relu_mask_inverted"}),
    "masked_the_wrong_variable": (bug(E01_REF, "grad_w1 = x.T.dot(grad_h)",
                                      "grad_w1 = x.T.dot(grad_h_relu)"),
                                  {"grad_w1": "relu_mask_missing"}),
    "learning_rate_squared": (bug(bug(E01_REF, "w1 -= learning_rate * grad_w1",
                                      "w1 -= learning_rate * learning_rate * grad_w1"),
                                  "w2 -= learning_rate * grad_w2",
                                  "w2 -= learning_rate * learning_rate * grad_w2"),
                              {"train_losses": ANY, "train_weights": ANY}),
    "update_applied_twice": (bug(bug(E01_REF, "w1 -= learning_rate * grad_w1",
                                     "w1 -= 2 * learning_rate * grad_w1"),
                                 "w2 -= learning_rate * grad_w2",
                                 "w2 -= 2 * learning_rate * grad_w2"),
                             {"train_losses": ANY, "train_weights": ANY}),
    "grad_w1_with_updated_w2": (E01_UPDATE_W2_FIRST, {"train_losses": ANY, "train_weights": ANY}),
    "grad_w2_at_updated_w1": (E01_SECOND_GRAD_AFTER_UPDATE,
                              {"train_losses": ANY, "train_weights": ANY}),
    "y_changed_in_place": (bug(E01_REF, "grad_y_pred = 2.0 * (y_pred - y)",
                               "d = y; d -= y_pred; grad_y_pred = -2.0 * d"),
                           {"leaves_inputs_alone": None}),
    "w2_changed_a_little_in_place": (bug(E01_REF, "grad_h_relu = grad_y_pred.dot(w2.T)",
                                         "w2 *= 1.0000001; grad_h_relu = grad_y_pred.dot(w2.T)"),
                                     {"leaves_inputs_alone": None}),
    "sgd_step_inside_grads": (bug(E01_REF, "    return loss, grad_w1, grad_w2",
                                  "    w1 -= 1e-6 * grad_w1\n    return loss, grad_w1, grad_w2"),
                              {"leaves_inputs_alone": None}),
    "grads_in_the_wrong_order": (bug(E01_REF, "return loss, grad_w1, grad_w2",
                                     "return loss, grad_w2, grad_w1"),
                                 {"grad_w1": None, "grad_w2": None}),
    "loss_abs_not_squared": (bug(E01_REF, "np.square(y_pred - y).sum()",
                                 "np.abs(y_pred - y).sum()"), {"loss": None}),
    "loss_mean_over_one_axis": (bug(E01_REF, "np.square(y_pred - y).sum()",
                                    "np.square(y_pred - y).sum(axis=0).mean()"),
                                {"loss": None, "train_losses": ANY}),
    "factor_two_missing": (bug(E01_REF, "grad_y_pred = 2.0 * (y_pred - y)",
                               "grad_y_pred = (y_pred - y)"),
                           {"grad_w1": "factor_two", "grad_w2": "factor_two"}),
    "factor_two_doubled": (bug(E01_REF, "grad_y_pred = 2.0 * (y_pred - y)",
                               "grad_y_pred = 2.0 * 2.0 * (y_pred - y)"),
                           {"grad_w1": "factor_two", "grad_w2": "factor_two"}),
    "residual_sign": (bug(E01_REF, "grad_y_pred = 2.0 * (y_pred - y)",
                          "grad_y_pred = 2.0 * (y - y_pred)"),
                      {"grad_w1": ANY, "grad_w2": ANY, "train_losses": "gradient_ascent"}),
    "loss_after_update": (E01_LOSS_AFTER_UPDATE, {"train_losses": "loss_after_update"}),
    "stale_gradients": (E01_STALE_GRADS, {"train_losses": ANY, "train_weights": ANY}),
    "update_lost": (E01_UPDATE_LOST, {"train_losses": "no_update", "train_weights": "no_update"}),
    "fixed_learning_rate": (bug(E01_REF, "    for t in range(steps):",
                                "    learning_rate = 1e-6\n    for t in range(steps):"),
                            {"train_losses": "ignores_learning_rate"}),
    "leaky_relu": (bug(bug(E01_REF, "np.maximum(h, 0)", "np.maximum(h, 0.01 * h)"),
                       "grad_h[h < 0] = 0", "grad_h[h < 0] *= 0.01"),
                   {"loss": None, "grad_w1": None, "grad_w2": None}),
    "float16": (bug(E01_REF, "    h = x.dot(w1)",
                    "    x, y, w1, w2 = (a.astype(np.float16) for a in (x, y, w1, w2))\n"
                    "    h = x.dot(w1)"), {"grad_w1": None}),
}


def test_e01_correct_variants_get_full_marks(course_grader, tmp_path):
    assert_all_full_marks(grade_all(course_grader, tmp_path, E01, E01_CORRECT))


def test_e01_bugs_never_get_full_marks(grader, tmp_path):
    results = grade_all(grader, tmp_path, E01,
                        {label: source for label, (source, _) in E01_BUGS.items()})
    assert_bugs_caught(results, E01_BUGS)


# ====================================================================== e02

E02_TUT_TWO = """
import torch

dtype = torch.float
device = torch.device("cpu")

def tensor_two_layer_grads(x, y, w1, w2):
    # Forward pass: compute predicted y
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum().item()

    # Backprop to compute gradients of w1 and w2 with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)
    return loss, grad_w1, grad_w2
"""

E02_TUT_POLY = """
def poly_grads(x, y, coeffs):
    a, b, c, d = coeffs
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    return loss, torch.stack([grad_a, grad_b, grad_c, grad_d])
"""

E02_REF = E02_TUT_TWO + E02_TUT_POLY

E02_CORRECT = {
    "tutorial": E02_REF,
    "torch_tensor_of_0d_grads_float_dtype": bug(
        E02_REF, "return loss, torch.stack([grad_a, grad_b, grad_c, grad_d])",
        "return loss, torch.tensor([grad_a, grad_b, grad_c, grad_d], dtype=dtype, device=device)"),
    "T_where_scalar_vander": """
        import torch
        def tensor_two_layer_grads(x, y, w1, w2):
            h = x @ w1
            relu = torch.where(h > 0, h, 0.0)
            r = relu @ w2 - y
            g = 2 * r
            grad_h = torch.where(h > 0, g @ w2.T, 0.0)
            return float(torch.sum(r * r)), x.T @ grad_h, relu.T @ g
        def poly_grads(x, y, coeffs):
            X = torch.vander(x, N=4, increasing=True)
            r = X @ coeffs - y
            return (r @ r).item(), 2 * X.T @ r
        """,
    "no_grad_decorated_float64_inside": """
        import torch
        @torch.no_grad()
        def tensor_two_layer_grads(x, y, w1, w2):
            x, y, w1, w2 = [t.to(torch.float64) for t in (x, y, w1, w2)]
            h = torch.matmul(x, w1)
            h_relu = torch.maximum(h, torch.zeros_like(h))
            y_pred = torch.matmul(h_relu, w2)
            gy = 2 * (y_pred - y)
            gh = (gy @ w2.transpose(0, 1)) * torch.heaviside(h, torch.tensor(0.0, dtype=h.dtype))
            return (torch.sum(torch.square(y_pred - y)).item(), (x.permute(1, 0) @ gh).float(),
                    (h_relu.transpose(0, 1) @ gy).float())
        @torch.no_grad()
        def poly_grads(x, y, coeffs):
            powers = torch.stack([x.double() ** k for k in range(4)], dim=1)
            resid = powers @ coeffs.double() - y.double()
            return torch.dot(resid, resid).item(), (2 * powers.T @ resid).to(coeffs.dtype)
        """,
    "einsum_mse_loss_masked_fill_horner_tolist": """
        import torch, numpy as np
        import torch.nn.functional as F
        def tensor_two_layer_grads(x, y, w1, w2):
            h = torch.einsum("ij,jk->ik", x, w1)
            a = F.relu(h)
            p = torch.einsum("ik,kl->il", a, w2)
            gp = 2 * (p - y)
            gh = torch.einsum("il,kl->ik", gp, w2).masked_fill(h <= 0, 0)
            return (np.float32(F.mse_loss(p, y, reduction="sum")),
                    torch.einsum("ij,ik->jk", x, gh), torch.einsum("ik,il->kl", a, gp))
        def poly_grads(x, y, coeffs):
            a, b, c, d = coeffs.tolist()
            y_pred = a + x * (b + x * (c + x * d))
            g = 2 * (y_pred - y)
            grads = torch.zeros_like(coeffs)
            for i in range(4):
                grads[i] = torch.sum(g * x ** i)
            return F.mse_loss(y_pred, y, reduction="sum").item(), grads
        """,
    "numpy_inside_polyval": """
        import torch, numpy as np
        def tensor_two_layer_grads(x, y, w1, w2):
            X, Y, W1, W2 = (t.numpy() for t in (x, y, w1, w2))
            h = X @ W1
            hr = np.maximum(h, 0)
            yp = hr @ W2
            g = 2 * (yp - Y)
            gh = g @ W2.T
            gh[h < 0] = 0
            return (float(((yp - Y) ** 2).sum()), torch.from_numpy(X.T @ gh),
                    torch.from_numpy(hr.T @ g))
        def poly_grads(x, y, coeffs):
            xs = x.numpy()
            p = np.polynomial.polynomial.polyval(xs, coeffs.numpy())
            g = 2 * (p - y.numpy())
            grads = np.array([(g * xs ** k).sum() for k in range(4)])
            return ((p - y.numpy()) ** 2).sum(), torch.as_tensor(grads)
        """,
    "mT_in_place_on_fresh_tensors_cat": """
        import torch
        def tensor_two_layer_grads(x, y, w1, w2):
            h = x.matmul(w1)
            h_relu = h.clone()
            h_relu[h_relu < 0] = 0
            y_pred = h_relu.matmul(w2)
            diff = y_pred.sub(y)
            loss = diff.pow(2).sum()
            diff.mul_(2)
            gh = diff.matmul(w2.mT)
            gh.mul_((h > 0).to(gh.dtype))
            return loss.tolist(), x.mT.matmul(gh), h_relu.mT.matmul(diff)
        def poly_grads(x, y, coeffs):
            y_pred = sum(c * x.pow(i) for i, c in enumerate(coeffs))
            g = 2 * (y_pred - y)
            parts = [(g * x.pow(i)).sum().reshape(1) for i in range(4)]
            return float((y_pred - y).square().sum()), torch.cat(parts)
        """,
    "inference_mode_staticmethod_class": """
        import torch

        def relu(t):
            return t.clamp_min(0)

        class Grads:
            @staticmethod
            @torch.inference_mode()
            def two_layer(x, y, w1, w2):
                h = x @ w1
                hr = relu(h)
                yp = hr @ w2
                g = 2.0 * (yp - y)
                gh = (g @ w2.t()) * (h > 0)
                return (yp - y).pow(2).sum().item(), x.t() @ gh, hr.t() @ g

        tensor_two_layer_grads = Grads.two_layer

        @torch.inference_mode()
        def poly_grads(x, y, coeffs):
            X = torch.stack([x ** 0, x, x ** 2, x ** 3])
            r = coeffs @ X - y
            return r.pow(2).sum().item(), (2 * r * X).sum(dim=1)
        """,
    "tutorial_demo_unguarded": E02_REF + textwrap.dedent("""
        import math
        print("running demo")
        x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
        y = torch.sin(x)
        a, b, c, d = (torch.randn((), device=device, dtype=dtype) for _ in range(4))
        learning_rate = 1e-6
        for t in range(2000):
            loss, g = poly_grads(x, y, torch.stack([a, b, c, d]))
            if t % 100 == 99:
                print(t, loss)
            a -= learning_rate * g[0]
            b -= learning_rate * g[1]
            c -= learning_rate * g[2]
            d -= learning_rate * g[3]
        print(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
        """),
    "lists_float64_loss_unbind_dot": """
        import torch
        def tensor_two_layer_grads(x, y, w1, w2):
            h = torch.mm(x, w1)
            h_relu = torch.relu(h)
            y_pred = torch.mm(h_relu, w2)
            loss = ((y_pred.double() - y.double()) ** 2).sum().item()
            grad_y_pred = 2 * (y_pred - y)
            grad_h = torch.mm(grad_y_pred, w2.T) * (h >= 0).float()
            return [loss, torch.mm(x.T, grad_h), torch.mm(h_relu.T, grad_y_pred)]
        def poly_grads(x, y, coeffs):
            a, b, c, d = coeffs.unbind()
            y_pred = a + b * x + c * x * x + d * x * x * x
            g = 2 * (y_pred - y)
            grads = torch.empty(4, dtype=x.dtype)
            grads[0] = g.sum()
            grads[1] = g.dot(x)
            grads[2] = g.dot(x * x)
            grads[3] = g.dot(x * x * x)
            return [torch.sum((y_pred - y) ** 2).item(), grads]
        """,
    "device_variable_moved_back": """
        import torch
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        def tensor_two_layer_grads(x, y, w1, w2):
            x, y, w1, w2 = (t.to(device) for t in (x, y, w1, w2))
            h = x.mm(w1)
            h_relu = h.clamp(min=0)
            y_pred = h_relu.mm(w2)
            grad_y_pred = 2.0 * (y_pred - y)
            grad_h = grad_y_pred.mm(w2.t())
            grad_h[h < 0] = 0
            return ((y_pred - y).pow(2).sum().item(), x.t().mm(grad_h).cpu(),
                    h_relu.t().mm(grad_y_pred).cpu())
        def poly_grads(x, y, coeffs):
            x, y, coeffs = x.to(device), y.to(device), coeffs.to(device)
            y_pred = torch.zeros_like(x)
            for power in range(3, -1, -1):
                y_pred = y_pred * x + coeffs[power]
            g = 2.0 * (y_pred - y)
            grads = torch.stack([torch.sum(g * x ** p) for p in range(4)])
            return (y_pred - y).pow(2).sum().item(), grads.cpu()
        """,
    "functools_reduce_type_mask": """
        import torch, functools, operator
        def tensor_two_layer_grads(x, y, w1, w2):
            h = x @ w1
            mask = (h >= 0).type(h.dtype)
            h_relu = h * mask
            y_pred = h_relu @ w2
            g = (y_pred - y) * 2
            return ((y_pred - y) ** 2).sum().item(), x.t() @ ((g @ w2.t()) * mask), h_relu.t() @ g
        def poly_grads(x, y, coeffs):
            y_pred = functools.reduce(operator.add, [coeffs[i] * x ** i for i in range(4)])
            g = 2 * (y_pred - y)
            return (((y_pred - y) ** 2).sum().item(),
                    torch.stack([(g * x ** i).sum() for i in range(4)]))
        """,
    "powers_by_broadcasting": E02_TUT_TWO + textwrap.dedent("""
        def poly_grads(x, y, coeffs):
            X = x.unsqueeze(-1) ** torch.arange(4, dtype=x.dtype)   # (N, 4)
            y_pred = (X * coeffs).sum(-1)
            g = 2 * (y_pred - y)
            return ((y_pred - y) ** 2).sum().item(), (g.unsqueeze(-1) * X).sum(0)
        """),
}

E02_AUTOGRAD_TWO = E02_TUT_POLY + """
import torch
def tensor_two_layer_grads(x, y, w1, w2):
    with torch.enable_grad():
        w1 = w1.clone().requires_grad_(); w2 = w2.clone().requires_grad_()
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        g1, g2 = torch.autograd.grad(loss, (w1, w2))
    return loss.item(), g1, g2
"""

E02_JACOBIAN_POLY = E02_TUT_TWO + """
def poly_grads(x, y, coeffs):
    f = lambda c: (c[0] + c[1] * x + c[2] * x ** 2 + c[3] * x ** 3 - y).pow(2).sum()
    return f(coeffs).item(), torch.autograd.functional.jacobian(f, coeffs)
"""

E02_FROM_IMPORT_GRAD = E02_TUT_POLY + """
import torch
from torch.autograd import grad          # bound before the grader looks
def tensor_two_layer_grads(x, y, w1, w2):
    with torch.enable_grad():            # so that it also runs under no_grad
        w1 = w1.clone().requires_grad_(); w2 = w2.clone().requires_grad_()
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        g1, g2 = grad(loss, (w1, w2))
    return loss.item(), g1, g2
"""

E02_TORCH_FUNC_POLY = E02_TUT_TWO + """
from torch.func import grad_and_value
def poly_grads(x, y, coeffs):
    f = lambda c: (c[0] + c[1] * x + c[2] * x ** 2 + c[3] * x ** 3 - y).pow(2).sum()
    g, loss = grad_and_value(f)(coeffs)
    return loss.item(), g
"""

E02_BUGS = {
    "autograd_grad_imported_by_name": (E02_FROM_IMPORT_GRAD, {"no_autograd": "uses_autograd"}),
    "torch_func_in_poly": (E02_TORCH_FUNC_POLY, {"no_autograd": "uses_autograd"}),
    "reshape_instead_of_transpose": (
        bug(E02_REF, "grad_w2 = h_relu.t().mm(grad_y_pred)",
            "grad_w2 = grad_y_pred.t().mm(h_relu).reshape(w2.shape)"), {"grad_w2": None}),
    "view_instead_of_transpose": (bug(E02_REF, "grad_w1 = x.t().mm(grad_h)",
                                      "grad_w1 = grad_h.t().mm(x).view(w1.shape)"),
                                  {"grad_w1": None}),
    "relu_after_the_output": (bug(E02_REF, "y_pred = h_relu.mm(w2)",
                                  "y_pred = h_relu.mm(w2).clamp(min=0)"),
                              {"loss": None, "grad_w1": None, "grad_w2": None}),
    "no_relu_in_forward": (bug(E02_REF, "h_relu = h.clamp(min=0)", "h_relu = h"),
                           {"loss": None, "grad_w2": None}),
    "mask_on_h_relu": (bug(E02_REF, "grad_h[h < 0] = 0", "grad_h[h_relu < 0] = 0"),
                       {"grad_w1": "relu_mask_missing"}),
    "mask_inverted": (bug(E02_REF, "grad_h[h < 0] = 0", "grad_h[h > 0] = 0"),
                      {"grad_w1": "relu_mask_inverted"}),
    "grads_in_the_wrong_order": (bug(E02_REF, "return loss, grad_w1, grad_w2",
                                     "return loss, grad_w2, grad_w1"),
                                 {"grad_w1": None, "grad_w2": None}),
    "loss_abs": (bug(E02_REF, "(y_pred - y).pow(2).sum().item()\n\n",
                     "(y_pred - y).abs().sum().item()\n\n"), {"loss": None}),
    "loss_mean_over_one_axis": (bug(E02_REF, "(y_pred - y).pow(2).sum().item()\n\n",
                                    "(y_pred - y).pow(2).sum(0).mean().item()\n\n"),
                                {"loss": None}),
    "factor_two_missing": (bug(E02_REF, "grad_y_pred = 2.0 * (y_pred - y)\n    grad_w2",
                               "grad_y_pred = (y_pred - y)\n    grad_w2"),
                           {"grad_w1": "factor_two", "grad_w2": "factor_two"}),
    "y_changed_in_place": (bug(E02_REF, "grad_y_pred = 2.0 * (y_pred - y)\n    grad_w2",
                               "grad_y_pred = -2.0 * y.sub_(y_pred)\n    grad_w2"),
                           {"leaves_inputs_alone": None}),
    "x_scaled_and_restored_in_place": (bug(E02_REF, "    h = x.mm(w1)",
                                           "    x /= 3.0\n    h = (x * 3.0).mm(w1)\n    x *= 3.0"),
                                       {"leaves_inputs_alone": None}),
    "autograd_under_enable_grad": (E02_AUTOGRAD_TWO, {"no_autograd": "uses_autograd"}),
    "autograd_jacobian_in_poly": (E02_JACOBIAN_POLY, {"no_autograd": "uses_autograd"}),
    "poly_d_derivative_in_x": (bug(E02_REF, "(grad_y_pred * x ** 3).sum()",
                                   "(grad_y_pred * 3 * x ** 2).sum()"),
                               {"poly_grads": "poly_derivative_in_x"}),
    "poly_c_derivative_in_x": (bug(E02_REF, "(grad_y_pred * x ** 2).sum()",
                                   "(grad_y_pred * 2 * x).sum()"),
                               {"poly_grads": "poly_derivative_in_x"}),
    "poly_b_wrong_power": (bug(E02_REF, "grad_b = (grad_y_pred * x).sum()",
                               "grad_b = (grad_y_pred * x ** 2).sum()"), {"poly_grads": None}),
    "poly_a_mean": (bug(E02_REF, "grad_a = grad_y_pred.sum()", "grad_a = grad_y_pred.mean()"),
                    {"poly_grads": None}),
    "poly_factor_two_missing": (bug(E02_REF, "grad_y_pred = 2.0 * (y_pred - y)\n    grad_a",
                                    "grad_y_pred = (y_pred - y)\n    grad_a"),
                                {"poly_grads": "factor_two"}),
    "poly_residual_sign": (bug(E02_REF, "grad_y_pred = 2.0 * (y_pred - y)\n    grad_a",
                               "grad_y_pred = 2.0 * (y - y_pred)\n    grad_a"),
                           {"poly_grads": "poly_residual_sign"}),
    "poly_grads_in_reverse_order": (bug(E02_REF, "torch.stack([grad_a, grad_b, grad_c, grad_d])",
                                        "torch.stack([grad_d, grad_c, grad_b, grad_a])"),
                                    {"poly_grads": None}),
    "poly_coeffs_read_highest_first": (bug(E02_REF, "a, b, c, d = coeffs", "d, c, b, a = coeffs"),
                                       {"poly_loss": "poly_coeffs_reversed",
                                        "poly_grads": "poly_coeffs_reversed"}),
    "poly_loss_mean": (bug(E02_REF, "loss = (y_pred - y).pow(2).sum().item()\n    grad_y_pred",
                           "loss = (y_pred - y).pow(2).mean().item()\n    grad_y_pred"),
                       {"poly_loss": "mean_loss"}),
    "poly_update_step_inside": (bug(E02_REF,
                                    "return loss, torch.stack([grad_a, grad_b, grad_c, grad_d])",
                                    "grads = torch.stack([grad_a, grad_b, grad_c, grad_d])\n"
                                    "    coeffs -= 1e-6 * grads\n    return loss, grads"),
                                {"poly_grads": None}),
    "poly_x_squared_as_2x": (bug(E02_REF, "c * x ** 2 + d", "c * 2 * x + d"),
                             {"poly_loss": None, "poly_grads": None}),
    "poly_d_without_residual": (bug(E02_REF, "grad_d = (grad_y_pred * x ** 3).sum()",
                                    "grad_d = (x ** 3).sum()"),
                                {"poly_grads": "poly_cubic_term"}),
}


def test_e02_correct_variants_get_full_marks(course_grader, tmp_path):
    assert_all_full_marks(grade_all(course_grader, tmp_path, E02, E02_CORRECT))


def test_e02_bugs_never_get_full_marks(grader, tmp_path):
    results = grade_all(grader, tmp_path, E02,
                        {label: source for label, (source, _) in E02_BUGS.items()})
    assert_bugs_caught(results, E02_BUGS)


# ====================================================================== e03

E03_TUT_GRADS = """
import torch

def autograd_two_layer_grads(x, y, w1, w2):
    w1 = w1.detach().clone().requires_grad_(True)
    w2 = w2.detach().clone().requires_grad_(True)
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    return loss.item(), w1.grad, w2.grad
"""

E03_TUT_TRAIN = """
def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    w1.requires_grad_()
    w2.requires_grad_()
    losses = []
    for t in range(steps):
        # Forward pass: compute predicted y using operations on Tensors
        y_pred = x.mm(w1).clamp(min=0).mm(w2)

        # Compute and print loss using operations on Tensors.
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            print(t, loss.item())
        losses.append(loss.item())

        # Use autograd to compute the backward pass.
        loss.backward()

        # Manually update weights using gradient descent. Wrap in torch.no_grad()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad

            # Manually zero the gradients after updating weights
            w1.grad.zero_()
            w2.grad.zero_()
    return w1, w2, losses
"""

E03_REF = E03_TUT_GRADS + E03_TUT_TRAIN

E03_CORRECT = {
    "tutorial": E03_REF,
    "grad_none_functional": """
        import torch
        import torch.nn.functional as F
        def autograd_two_layer_grads(x, y, w1, w2):
            w1 = w1.clone().requires_grad_()
            w2 = w2.clone().requires_grad_()
            loss = F.mse_loss(F.relu(x @ w1) @ w2, y, reduction="sum")
            loss.backward()
            return float(loss), w1.grad.clone(), w2.grad.detach()
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1 = w1.clone().requires_grad_(True)
            w2 = w2.clone().requires_grad_(True)
            losses = []
            for _ in range(steps):
                loss = ((torch.relu(x @ w1) @ w2 - y) ** 2).sum()
                losses.append(loss.item())
                loss.backward()
                with torch.no_grad():
                    w1 -= learning_rate * w1.grad
                    w2 -= learning_rate * w2.grad
                w1.grad = None
                w2.grad = None
            return w1.detach(), w2.detach(), losses
        """,
    "optim_sgd_zero_grad_first": E03_TUT_GRADS + textwrap.dedent("""
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1 = w1.detach().clone().requires_grad_()
            w2 = w2.detach().clone().requires_grad_()
            opt = torch.optim.SGD([w1, w2], lr=learning_rate)
            losses = []
            for step in range(steps):
                opt.zero_grad()
                loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return w1.detach(), w2.detach(), losses
        """),
    "autograd_grad_new_leaf_each_step": """
        import torch
        def autograd_two_layer_grads(x, y, w1, w2):
            a = torch.tensor(w1.tolist(), dtype=torch.float, requires_grad=True)
            b = torch.tensor(w2.tolist(), dtype=torch.float, requires_grad=True)
            loss = (torch.maximum(x @ a, torch.zeros(1)) @ b - y).square().sum()
            ga, gb = torch.autograd.grad(loss, [a, b])
            return loss.item(), ga, gb
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = []
            for _ in range(steps):
                w1 = w1.detach().requires_grad_()
                w2 = w2.detach().requires_grad_()
                loss = ((x @ w1).clamp(0) @ w2 - y).pow(2).sum()
                g1, g2 = torch.autograd.grad(loss, (w1, w2))
                losses.append(loss.item())
                with torch.no_grad():
                    w1 = w1 - learning_rate * g1
                    w2 = w2 - learning_rate * g2
            return w1, w2, losses
        """,
    "old_style_data": E03_TUT_GRADS + textwrap.dedent("""
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1.requires_grad = True
            w2.requires_grad = True
            losses = []
            for t in range(steps):
                loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
                losses.append(loss.data.item())
                loss.backward()
                w1.data -= learning_rate * w1.grad.data
                w2.data -= learning_rate * w2.grad.data
                w1.grad.data.zero_()
                w2.grad.data.zero_()
            return w1.data, w2.data, losses
        """),
    "train_calls_the_pure_grads": E03_TUT_GRADS + textwrap.dedent("""
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = []
            for _ in range(steps):
                loss, g1, g2 = autograd_two_layer_grads(x, y, w1, w2)
                losses.append(loss)
                w1 = w1 - learning_rate * g1
                w2 = w2 - learning_rate * g2
            return w1, w2, losses
        """),
    "float64_inside_device_dtype_globals": """
        import torch
        device = torch.device("cpu")
        dtype = torch.float64
        def autograd_two_layer_grads(x, y, w1, w2):
            x, y = x.to(device, dtype), y.to(device, dtype)
            w1 = w1.to(device, dtype).detach().requires_grad_()
            w2 = w2.to(device, dtype).clone().requires_grad_()
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            return loss.item(), w1.grad.float(), w2.grad.float()
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            x, y = x.to(dtype), y.to(dtype)
            w1 = w1.to(dtype).requires_grad_()
            w2 = w2.to(dtype).requires_grad_()
            losses = []
            for _ in range(steps):
                loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
                losses.append(loss.item())
                loss.backward()
                with torch.no_grad():
                    for w in (w1, w2):
                        w.sub_(learning_rate * w.grad)
                        w.grad.zero_()
            return w1.detach().float(), w2.detach().float(), losses
        """,
    "zero_at_top_enable_grad_tuple_return": E03_TUT_GRADS + textwrap.dedent("""
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            params = [w1.clone().requires_grad_(), w2.clone().requires_grad_()]
            losses = []
            with torch.enable_grad():
                for _ in range(steps):
                    for p in params:
                        if p.grad is not None:
                            p.grad.zero_()
                    loss = (x.mm(params[0]).relu().mm(params[1]) - y).pow(2).sum()
                    loss.backward()
                    with torch.no_grad():
                        for p in params:
                            p -= learning_rate * p.grad
                    losses.append(loss.item())
            return tuple(p.detach() for p in params) + (losses,)
        """),
    "class_preset_zero_grads_add_alpha": """
        import torch
        class TwoLayer:
            def __init__(self, w1, w2):
                self.w1 = w1.detach().clone().requires_grad_()
                self.w2 = w2.detach().clone().requires_grad_()
            def loss(self, x, y):
                return (x.matmul(self.w1).clamp_min(0).matmul(self.w2) - y).pow(2).sum()

        def autograd_two_layer_grads(x, y, w1, w2):
            net = TwoLayer(w1, w2)
            loss = net.loss(x, y)
            loss.backward()
            return loss.detach().numpy(), net.w1.grad, net.w2.grad

        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            net = TwoLayer(w1, w2)
            net.w1.grad = torch.zeros_like(net.w1)
            net.w2.grad = torch.zeros_like(net.w2)
            losses = []
            for _ in range(steps):
                loss = net.loss(x, y)
                losses.append(loss.tolist())
                loss.backward()
                with torch.no_grad():
                    net.w1.add_(net.w1.grad, alpha=-learning_rate)
                    net.w2.add_(net.w2.grad, alpha=-learning_rate)
                    net.w1.grad.zero_(); net.w2.grad.zero_()
            return net.w1, net.w2, losses
        """,
    "tutorial_demo_unguarded": E03_REF + textwrap.dedent("""
        dtype = torch.float
        device = torch.device("cpu")
        N, D_in, H, D_out = 64, 1000, 100, 10
        x = torch.randn(N, D_in, device=device, dtype=dtype)
        y = torch.randn(N, D_out, device=device, dtype=dtype)
        w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
        w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)
        w1, w2, losses = autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=50)
        print(losses[-1])
        """),
    "lists_retain_graph_requires_grad_restored": """
        import torch
        def autograd_two_layer_grads(x, y, w1, w2):
            ws = [w.clone().detach().requires_grad_(True) for w in (w1, w2)]
            h = x.mm(ws[0])
            h_relu = torch.where(h > 0, h, torch.zeros_like(h))
            loss = torch.sum((h_relu.mm(ws[1]) - y) ** 2)
            loss.backward(retain_graph=True)
            return [loss.item(), ws[0].grad, ws[1].grad]
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1.requires_grad_(True); w2.requires_grad_(True)
            losses = []
            for t in range(steps):
                loss = torch.sum((x.mm(w1).clamp(min=0).mm(w2) - y) ** 2)
                loss.backward()
                losses.append(loss.item())
                with torch.no_grad():
                    w1 -= learning_rate * w1.grad
                    w2 -= learning_rate * w2.grad
                w1.grad = None; w2.grad = None
            w1.requires_grad_(False); w2.requires_grad_(False)
            return [w1, w2, losses]
        """,
    "torch_func_typed_chatgpt": """
        from typing import List, Tuple
        import torch
        from torch.func import grad_and_value

        def _loss(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor, y: torch.Tensor):
            return (torch.relu(x @ w1) @ w2 - y).pow(2).sum()

        def autograd_two_layer_grads(x, y, w1, w2) -> Tuple[float, torch.Tensor, torch.Tensor]:
            \"\"\"Loss and gradients with torch.func.\"\"\"
            assert x.shape[1] == w1.shape[0], "shape mismatch"
            (g1, g2), loss = grad_and_value(_loss, argnums=(0, 1))(w1, w2, x, y)
            return loss.item(), g1, g2

        def autograd_train(x, y, w1, w2, learning_rate: float = 1e-6, steps: int = 500
                           ) -> Tuple[torch.Tensor, torch.Tensor, List[float]]:
            w1 = w1.clone().detach().requires_grad_(True)
            w2 = w2.clone().detach().requires_grad_(True)
            losses: List[float] = []
            for step in range(steps):
                loss = _loss(w1, w2, x, y)
                losses.append(loss.item())
                if w1.grad is not None:
                    w1.grad.zero_()
                if w2.grad is not None:
                    w2.grad.zero_()
                loss.backward()
                with torch.no_grad():
                    w1.sub_(learning_rate * w1.grad)
                    w2.sub_(learning_rate * w2.grad)
            return w1.detach(), w2.detach(), losses
        """,
    "detach_shares_storage_with_the_caller": bug(
        E03_REF, "w1.detach().clone().requires_grad_(True)\n    w2 = w2.detach().clone()",
        "w1.detach().requires_grad_(True)\n    w2 = w2.detach()"),
    "copy_update_float_loss_while": bug(E03_TUT_GRADS, "return loss.item(), w1.grad, w2.grad",
                                        "return float(loss.detach()), w1.grad, w2.grad") + textwrap.dedent("""
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1 = w1.detach().clone(); w2 = w2.detach().clone()
            w1.requires_grad = True; w2.requires_grad = True
            losses = []
            step = 0
            while step < steps:
                loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
                w1.grad = None; w2.grad = None
                loss.backward()
                losses.append(float(loss))
                with torch.no_grad():
                    w1.copy_(w1 - learning_rate * w1.grad)
                    w2.copy_(w2 - learning_rate * w2.grad)
                step += 1
            return w1.detach(), w2.detach(), losses
        """),
}

E03_W2_BEFORE_W1 = E03_TUT_GRADS + """
def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for _ in range(steps):
        loss, g1, g2 = autograd_two_layer_grads(x, y, w1, w2)
        losses.append(loss)
        w2 = w2 - learning_rate * g2
        _, g1, _ = autograd_two_layer_grads(x, y, w1, w2)   # with the new w2
        w1 = w1 - learning_rate * g1
    return w1, w2, losses
"""

E03_BACKWARD_ONCE = E03_TUT_GRADS + """
def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    w1 = w1.clone().requires_grad_(); w2 = w2.clone().requires_grad_()
    for t in range(steps):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        losses.append(loss.item())
        if t == 0:
            loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
    return w1.detach(), w2.detach(), losses
"""

E03_CACHED_LEAVES = """
import torch
_w = {}
def autograd_two_layer_grads(x, y, w1, w2):
    if "w1" not in _w:
        _w["w1"] = w1.detach().clone().requires_grad_(True)
        _w["w2"] = w2.detach().clone().requires_grad_(True)
    a, b = _w["w1"], _w["w2"]
    loss = (x.mm(a).clamp(min=0).mm(b) - y).pow(2).sum()
    loss.backward()
    return loss.item(), a.grad, b.grad
""" + E03_TUT_TRAIN

E03_BUGS = {
    "grads_never_zeroed": (bug(bug(E03_REF, "w1.grad.zero_()", "pass"), "w2.grad.zero_()", "pass"),
                           {"train_losses": "grads_accumulate",
                            "train_weights": "grads_accumulate"}),
    "only_w1_zeroed": (bug(E03_REF, "w2.grad.zero_()", "pass"), {"train_losses": ANY}),
    "zeroed_before_the_update": (
        bug(E03_REF, """            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad

            # Manually zero the gradients after updating weights
            w1.grad.zero_()
            w2.grad.zero_()""", """            w1.grad.zero_()
            w2.grad.zero_()
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad"""),
        {"train_losses": "no_update", "train_weights": "no_update"}),
    "steps_minus_one": (bug(E03_REF, "range(steps)", "range(steps - 1)"),
                        {"train_losses": "steps_off_by_one", "train_weights": "steps_off_by_one"}),
    "loss_recorded_after_update": (
        bug(bug(E03_REF, "        losses.append(loss.item())\n", ""),
            "            w2.grad.zero_()", "            w2.grad.zero_()\n        losses.append("
            "(x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().item())"),
        {"train_losses": "loss_after_update"}),
    "loss_tensors_recorded": (bug(E03_REF, "losses.append(loss.item())", "losses.append(loss)"),
                              {"train_losses": "losses_keep_graph"}),
    "grads_on_the_callers_tensors": (
        bug(E03_REF, """    w1 = w1.detach().clone().requires_grad_(True)
    w2 = w2.detach().clone().requires_grad_(True)""", """    w1.requires_grad_(True)
    w2.requires_grad_(True)"""), {"leaves_inputs_alone": None}),
    "sgd_step_inside_grads_on_shared_storage": (
        bug(bug(E03_REF, "w1 = w1.detach().clone().requires_grad_(True)",
                "w1 = w1.detach().requires_grad_(True)"),
            "    return loss.item(), w1.grad, w2.grad",
            "    with torch.no_grad():\n        w1 -= 1e-6 * w1.grad\n"
            "    return loss.item(), w1.grad, w2.grad"), {"leaves_inputs_alone": None}),
    "grads_keep_leaves_between_calls": (E03_CACHED_LEAVES, {"leaves_inputs_alone": None}),
    "backward_twice": (bug(E03_REF, "    loss.backward()\n    return",
                           "    loss.backward(retain_graph=True)\n    loss.backward()\n    return"),
                       {"grad_w1": "grads_doubled", "grad_w2": "grads_doubled"}),
    "learning_rate_squared": (bug(bug(E03_REF, "w1 -= learning_rate * w1.grad",
                                      "w1 -= learning_rate * learning_rate * w1.grad"),
                                  "w2 -= learning_rate * w2.grad",
                                  "w2 -= learning_rate * learning_rate * w2.grad"),
                              {"train_losses": ANY, "train_weights": ANY}),
    "grad_w1_with_updated_w2": (E03_W2_BEFORE_W1, {"train_losses": ANY, "train_weights": ANY}),
    "backward_only_once": (E03_BACKWARD_ONCE, {"train_losses": ANY, "train_weights": ANY}),
    "gradient_ascent": (bug(bug(E03_REF, "w1 -= learning_rate", "w1 += learning_rate"),
                            "w2 -= learning_rate", "w2 += learning_rate"),
                        {"train_losses": "gradient_ascent", "train_weights": "gradient_ascent"}),
    "fixed_learning_rate": (bug(E03_REF, "    losses = []\n    for t",
                                "    learning_rate = 1e-6\n    losses = []\n    for t"),
                            {"train_losses": "ignores_learning_rate"}),
    "mean_loss": (E03_REF.replace("(y_pred - y).pow(2).sum()", "(y_pred - y).pow(2).mean()"),
                  {"loss": "mean_loss", "grad_w1": "mean_loss", "train_losses": "mean_loss"}),
    "relu_on_the_output": (E03_REF.replace("x.mm(w1).clamp(min=0).mm(w2)",
                                           "x.mm(w1).mm(w2).clamp(min=0)"),
                           {"loss": None, "grad_w1": None, "train_losses": None}),
    "grads_in_the_wrong_order": (bug(E03_REF, "return loss.item(), w1.grad, w2.grad",
                                     "return loss.item(), w2.grad, w1.grad"),
                                 {"grad_w1": None, "grad_w2": None}),
    "loss_abs": (E03_REF.replace("(y_pred - y).pow(2).sum()", "(y_pred - y).abs().sum()"),
                 {"loss": None, "grad_w1": None, "train_losses": None}),
    "loss_mean_over_one_axis": (bug(E03_REF, "(y_pred - y).pow(2).sum()",
                                    "(y_pred - y).pow(2).mean(1).sum()"),
                                {"loss": None, "grad_w1": None}),
}


def test_e03_correct_variants_get_full_marks(course_grader, tmp_path):
    assert_all_full_marks(grade_all(course_grader, tmp_path, E03, E03_CORRECT))


def test_e03_bugs_never_get_full_marks(grader, tmp_path):
    results = grade_all(grader, tmp_path, E03,
                        {label: source for label, (source, _) in E03_BUGS.items()})
    assert_bugs_caught(results, E03_BUGS)


# ====================================================================== e04

E04_HEAD = """
import torch

class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
"""


def e04(body: str, alias: str = "my_relu = MyReLU.apply") -> str:
    lines = textwrap.dedent(body).strip().splitlines()
    return E04_HEAD + "".join(f"        {line}\n" for line in lines) + f"\n{alias}\n"


E04_CORRECT = {
    "tutorial": e04("""
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input"""),
    "multiply_by_bool": e04("return grad_output * (input > 0)"),
    "float_mask_ge_first": e04("return (input >= 0).float() * grad_output"),
    "where_scalar": e04("return torch.where(input > 0, grad_output, 0.0)"),
    "where_zeros_like": e04(
        "return torch.where(input < 0, torch.zeros_like(grad_output), grad_output)"),
    "masked_fill_le": e04("return grad_output.masked_fill(input <= 0, 0)"),
    "masked_fill_in_place_on_a_clone": e04(
        "return grad_output.clone().masked_fill_(input < 0, 0.)"),
    "tuple_of_one": e04("return (grad_output * input.gt(0).type_as(grad_output),)"),
    "heaviside": e04("return grad_output * torch.heaviside(input, torch.zeros_like(input))"),
    "sign_clamped": e04("return grad_output * torch.sign(input).clamp(min=0)"),
    "zeros_like_filled": e04("""
        grad_input = torch.zeros_like(grad_output)
        grad_input[input > 0] = grad_output[input > 0]
        return grad_input"""),
    "needs_input_grad": e04("""
        grad_input = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.clone()
            grad_input[input <= 0] = 0
        return grad_input"""),
    "alias_through_another_name": e04("return grad_output * (input > 0)",
                                      "relu_fn = MyReLU.apply\nmy_relu = relu_fn"),
    "saves_output_maximum_alias_function": """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                out = torch.maximum(input, torch.zeros_like(input))
                ctx.save_for_backward(out)
                return out
            @staticmethod
            def backward(ctx, grad_output):
                (out,) = ctx.saved_tensors
                return grad_output * (out > 0).to(grad_output.dtype)
        def my_relu(x):
            return MyReLU.apply(x)
        """,
    "setup_context_style": """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(input):
                return input.clamp(min=0)
            @staticmethod
            def setup_context(ctx, inputs, output):
                (input,) = inputs
                ctx.save_for_backward(input)
            @staticmethod
            def backward(ctx, grad_output):
                (input,) = ctx.saved_tensors
                return grad_output * (input > 0)
        my_relu = MyReLU.apply
        """,
    "once_differentiable_saved_mask_lambda": """
        import torch
        from torch.autograd.function import once_differentiable
        class MyReLU(torch.autograd.Function):
            \"\"\"ReLU.\"\"\"
            @staticmethod
            def forward(ctx, x):
                mask = x > 0
                ctx.save_for_backward(mask)
                return x * mask
            @staticmethod
            @once_differentiable
            def backward(ctx, grad_output):
                mask, = ctx.saved_tensors
                return grad_output * mask
        my_relu = lambda x: MyReLU.apply(x)
        """,
    "ctx_attribute_F_relu_demo_unguarded": """
        import torch
        import torch.nn.functional as F
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.input = input
                return F.relu(input)
            @staticmethod
            def backward(ctx, grad_output):
                grad = grad_output.clone()
                grad[ctx.input < 0] = 0
                return grad
        my_relu = MyReLU.apply
        x = torch.randn(5, requires_grad=True)
        my_relu(x).sum().backward()
        print(x.grad)
        """,
    "forward_on_a_clone_demo_guarded": """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                output = input.clone()
                output[output < 0] = 0
                return output
            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                grad_input = grad_output.clone()
                grad_input[input < 0] = 0
                return grad_input
        my_relu = MyReLU.apply
        if __name__ == "__main__":
            print(my_relu(torch.randn(64, 1000)))
        """,
    "forward_multiplies_by_mask": """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return input * (input > 0).type_as(input)
            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                return grad_output.mul(input.gt(0).type_as(grad_output))
        my_relu = MyReLU.apply
        """,
}

E04_CLASS_STATE = """
import torch
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        MyReLU.input = input              # on the class, not on ctx
        return input.clamp(min=0)
    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output.clone()
        grad[MyReLU.input < 0] = 0
        return grad
my_relu = MyReLU.apply
"""

E04_GLOBAL_STATE = """
import torch
_saved = {}
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        _saved["mask"] = input > 0
        return input.clamp(min=0)
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * _saved["mask"]
my_relu = MyReLU.apply
"""

E04_BUGS = {
    "state_on_the_class": (E04_CLASS_STATE, {"backward_values": "state_outside_ctx"}),
    "state_in_a_global": (E04_GLOBAL_STATE, {"backward_values": "state_outside_ctx"}),
    "mask_missing": (e04("return grad_output"), {"backward_values": "mask_missing"}),
    "mask_inverted": (e04("g = grad_output.clone()\ng[input > 0] = 0\nreturn g"),
                      {"backward_values": "mask_inverted"}),
    "ignores_grad_output": (e04("return (input > 0).float()"),
                            {"backward_values": "mask_not_multiplied"}),
    "grad_output_in_place": (e04("grad_output[input < 0] = 0\nreturn grad_output"),
                             {"grad_output_untouched": "grad_output_in_place"}),
    "saved_input_masked_in_place": (e04("input[input < 0] = 0\nreturn grad_output * (input > 0)"),
                                    {"grad_output_untouched": "input_in_place"}),
    "saved_input_clamped_in_place": (e04("return grad_output * (input.clamp_(min=0) > 0)"),
                                     {"grad_output_untouched": "input_in_place"}),
    "forward_clamps_its_input_in_place": (
        e04("return grad_output * (input > 0)").replace("return input.clamp(min=0)",
                                                        "return input.clamp_(min=0)"),
        {"grad_output_untouched": "input_in_place"}),
    "relu_of_the_gradient": (e04("return grad_output.clamp(min=0)"),
                             {"backward_values": "relu_on_gradient"}),
    "gradient_times_input": (e04("return grad_output * input.clamp(min=0)"),
                             {"backward_values": None, "gradcheck_float64": None}),
    "mask_not_equal_zero": (e04("return grad_output * (input != 0)"),
                            {"backward_values": "mask_missing"}),
    "saves_output_masks_lt_zero": (
        e04("grad_input = grad_output.clone()\ngrad_input[input < 0] = 0\nreturn grad_input")
        .replace("ctx.save_for_backward(input)\n        return input.clamp(min=0)",
                 "output = input.clamp(min=0)\n        ctx.save_for_backward(output)\n"
                 "        return output"),
        {"backward_values": "mask_missing"}),
    "returns_the_unmasked_tensor": (
        e04("grad_input = grad_output.clone()\ngrad_input[input < 0] = 0\nreturn grad_output"),
        {"backward_values": "mask_missing"}),
    "forward_forgets_relu": (
        e04("g = grad_output.clone()\ng[input < 0] = 0\nreturn g").replace(
            "return input.clamp(min=0)", "return input"),
        {"forward_values": None, "my_relu_alias": None}),
    "alias_is_torch_relu": (e04("return grad_output * (input > 0)", "my_relu = torch.relu"),
                            {"my_relu_alias": None}),
    "alias_is_the_class": (e04("return grad_output * (input > 0)", "my_relu = MyReLU"),
                           {"my_relu_alias": None}),
    "half_at_zero": (e04("return grad_output * ((input > 0).float() + 0.5 * (input == 0).float())"),
                     {"backward_values": None}),
    "doubled": (e04("g = grad_output.clone()\ng[input <= 0] = 0\nreturn g * 2"),
                {"backward_values": None, "gradcheck_float64": None}),
    "state_kept_between_calls": (e04("""
        MyReLU.calls = getattr(MyReLU, "calls", 0) + 1
        g = grad_output.clone()
        g[input < 0] = 0
        return g * MyReLU.calls"""), {"gradcheck_float64": None}),
}


def test_e04_correct_variants_get_full_marks(grader, tmp_path):
    assert_all_full_marks(grade_all(grader, tmp_path, E04, E04_CORRECT))


def test_e04_bugs_never_get_full_marks(grader, tmp_path):
    results = grade_all(grader, tmp_path, E04,
                        {label: source for label, (source, _) in E04_BUGS.items()})
    assert_bugs_caught(results, E04_BUGS)
    saved = results["saved_input_masked_in_place"]
    assert "x in place" in next(c.feedback for c in saved.checks
                                if c.name == "grad_output_untouched")
    alias = next(c.feedback for c in results["alias_is_the_class"].checks
                 if c.name == "my_relu_alias")
    assert "MyReLU.apply" in alias


# ====================================================================== other seeds

OTHER_SEED_CORRECT = {
    E01: ["tutorial", "float32_everything", "in_place_relu_on_fresh_array_le_mask"],
    E02: ["tutorial", "no_grad_decorated_float64_inside", "einsum_mse_loss_masked_fill_horner_tolist"],
    E03: ["tutorial", "float64_inside_device_dtype_globals", "optim_sgd_zero_grad_first"],
    E04: ["tutorial", "masked_fill_le", "saves_output_maximum_alias_function"],
}
OTHER_SEED_BUGS = {
    E01: ["grad_w1_with_updated_w2", "mask_on_h_relu_lt_zero", "steps_minus_one",
          "sgd_step_inside_grads"],
    E02: ["poly_c_derivative_in_x", "poly_coeffs_read_highest_first", "mask_inverted"],
    E03: ["grad_w1_with_updated_w2", "grads_never_zeroed", "backward_twice"],
    E04: ["relu_of_the_gradient", "saved_input_masked_in_place", "mask_not_equal_zero",
          "state_on_the_class"],
}
CORRECT = {E01: E01_CORRECT, E02: E02_CORRECT, E03: E03_CORRECT, E04: E04_CORRECT}
BUGS = {E01: E01_BUGS, E02: E02_BUGS, E03: E03_BUGS, E04: E04_BUGS}


@pytest.mark.parametrize("seed", [7, 20240611])
def test_judgement_does_not_depend_on_the_seed(tmp_path, seed):
    options = Options(seed=seed, jobs=2, limits=Limits(timeout=10.0), timeout_given=True,
                      only=(E01, E02, E03, E04))
    submissions, expected = [], {}
    for exercise in (E01, E02, E03, E04):
        for label in OTHER_SEED_CORRECT[exercise]:
            expected[f"{exercise}-ok-{label}"] = (exercise, None)
            source = CORRECT[exercise][label]
            submissions.append((f"{exercise}-ok-{label}", exercise, source))
        for label in OTHER_SEED_BUGS[exercise]:
            source, checks = BUGS[exercise][label]
            expected[f"{exercise}-bug-{label}"] = (exercise, checks)
            submissions.append((f"{exercise}-bug-{label}", exercise, source))
    loaded = [load_paths([write_submission(tmp_path / label, {f"{exercise}.py": source})], label)
              for label, exercise, source in submissions]
    with Grader(collect_exercises(plugin_manager()), options) as grader:
        reports = {report.id: report for report in grader.grade_many(loaded)}
    for label, (exercise, checks) in expected.items():
        result = exercise_result(reports[label], exercise)
        if checks is None:
            assert_all_full_marks({label: result})
        else:
            assert_bugs_caught({label: result}, {label: (None, checks)})


# ====================================================================== the data

@pytest.mark.parametrize("module", [e01_numpy_grads, e03_autograd])
def test_no_relu_kink_near_the_training_run(module):
    """Along the reference's own short training run, no h = x @ w1 comes within rounding of
    0, so a float32 answer's ReLU mask never differs from the float64 reference's."""
    for seed in range(120):
        inputs = module.EXERCISE.make_inputs(seed)
        x, y, w1, w2 = (inputs[k] for k in two_layer_inputs.ORDER)
        for _ in range(module.STEPS + 1):
            assert np.min(np.abs(x @ w1)) >= two_layer_inputs.KINK_MARGIN, seed
            _, g1, g2 = two_layer_variants.buggy_grads(x, y, w1, w2)
            w1, w2 = w1 - module.LEARNING_RATE * g1, w2 - module.LEARNING_RATE * g2


TUTORIAL_SHAPES = {(64, 1000), (64, 10), (1000, 100), (100, 10), (2000,)}


@pytest.mark.parametrize("module", [e01_numpy_grads, e02_tensor_grads, e03_autograd])
def test_every_input_is_drawn_from_the_seed_never_a_tutorial_constant(module):
    """Issue 9: shapes and values come from the seed (another seed, other shapes), none is
    the tutorial's, and the large data are beyond 64 rows and beyond a power of two."""
    first, other = module.EXERCISE.make_inputs(1234), module.EXERCISE.make_inputs(7)
    assert set(first) == set(other)
    assert any(first[k].shape != other[k].shape for k in first if first[k].ndim)
    for inputs in (first, other):
        for key, value in inputs.items():
            assert value.shape not in TUTORIAL_SHAPES, key
            if value.size > 1:
                assert not np.array_equal(value, first[key]) or inputs is first, key
        n, d_in = inputs["large_x"].shape
        assert 64 < n and n & (n - 1) and d_in > 1000 and inputs["large_w1"].shape[1] > 100
        if "poly_x" in inputs:
            x = inputs["poly_x"]
            assert not np.allclose(np.diff(x), np.diff(x)[0])   # not a linspace
            assert not np.allclose(inputs["poly_y"], np.sin(x))


@pytest.mark.parametrize("seed", range(0, 300, 25))
def test_default_run_trains_measurably_to_the_last_step(seed):
    """The run with the contract's defaults (500 steps at 1e-6) neither diverges nor
    stalls: the loss falls steadily and still by 5% or more over the last 100 steps, so a
    schedule or a decay late in the run shows."""
    data = two_layer_inputs.part(e01_numpy_grads.EXERCISE.make_inputs(seed), "default_")
    n = data["x"].shape[0]
    assert n > 64 and n & (n - 1)
    args = [data[k] for k in two_layer_inputs.ORDER]
    losses = np.array(two_layer_variants.buggy_train(*args, 1e-6, 500)[2])
    assert np.all(np.isfinite(losses)) and np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.5 * losses[0] and losses[-1] < 0.95 * losses[400]


def test_a_right_run_from_the_minimum_does_not_move():
    """The at-minimum data: every gradient is 0, so the reference's weights stay put (and
    a weight decay of 1e-4 moves them past the tolerance)."""
    data = two_layer_inputs.part(e01_numpy_grads.EXERCISE.make_inputs(1234), "min_")
    args = [data[k] for k in two_layer_inputs.ORDER]
    w1, w2, _ = two_layer_variants.buggy_train(*args, 3e-3, 8)
    assert np.array_equal(w1, data["w1"]) and np.array_equal(w2, data["w2"])
    w1, _, _ = two_layer_variants.buggy_train(*args, 3e-3, 8, weight_decay=1e-4)
    from grader.judging import compare
    assert compare("w1", w1, data["w1"], two_layer_judges.TOLERANCES.at_minimum)


# ====================================================================== catalogues

@pytest.mark.parametrize("module", [e01_numpy_grads, e02_tensor_grads, e03_autograd, e04_my_relu])
def test_every_misconception_has_a_bilingual_message(module):
    exercise = module.EXERCISE
    for key, texts in exercise.texts_by_key().items():
        assert texts.get("en") and texts.get("ko"), key
        fields = [{name for _, name, _, _ in string.Formatter().parse(texts[lang]) if name}
                  for lang in ("en", "ko")]
        assert fields[0] == fields[1], key
    for misconception in exercise.misconceptions:
        assert misconception.key in exercise.texts_by_key(), misconception.key
    named = {"grads_doubled", "steps_off_by_one", "poly_derivative_in_x", "poly_coeffs_reversed",
             "relu_on_gradient", "input_in_place", "state_outside_ctx", "input_changed",
             "twice_wrong", "twice_failed", "alias_not_a_function"}
    for key in named & set(exercise.texts_by_key()):
        assert exercise.texts_by_key()[key]["en"] != exercise.texts_by_key()[key]["ko"], key


def test_relu_mask_taken_from_the_gradient_is_named(grade):
    e01 = solution_source("e01_numpy_grads").replace("grad_h[h < 0] = 0", "grad_h[grad_h < 0] = 0")
    e02 = solution_source("e02_tensor_grads")
    assert "grad_h[h < 0] = 0" in e02
    e02 = e02.replace("grad_h[h < 0] = 0", "grad_h[grad_h < 0] = 0")
    assert e01 != solution_source("e01_numpy_grads")
    report = grade({"e01_numpy_grads.py": e01, "e02_tensor_grads.py": e02})
    for name in ("e01_numpy_grads", "e02_tensor_grads"):
        grad_w1 = next(c for c in exercise_result(report, name).checks if c.name == "grad_w1")
        assert grad_w1.status == "failed" and grad_w1.misconception == "relu_on_gradient", name
