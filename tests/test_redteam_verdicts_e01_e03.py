"""Red team for issue 9 (verdicts), e01-e03: submissions nobody had graded before the
probes were reworked. Correct answers written in unusual ways must get full marks on
their exercise; subtle bugs that only show late in a run, beyond 32 rows, at the
tutorial's sizes, on inputs the student could not know, or below the old tolerances must
not, and name their misconception where one is declared.

Graded before the rework (commit 745c40a), 13 of these 22 were misjudged: 10 wrong answers
got full marks (a wrong default, a rate halved at step 100, rows averaged in batches of 32
in e01, e02 and e03, an L2 penalty, weight decay, poly_grads rebuilding the tutorial's
points or ignoring y), and 3 lost marks without their idea named (the 1/2 * SSE
convention twice, a decaying rate). All 7 correct ones got full marks then and now."""

from __future__ import annotations

import textwrap

import pytest

from conftest import exercise_result, write_submission
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits
from test_redteam_e01_e04 import E01_REF, E02_REF, E03_REF

E01, E02, E03 = "e01_numpy_grads", "e02_tensor_grads", "e03_autograd"
ANY = object()   # the check must fail; which misconception (if any) is not asserted


def bug(source: str, old: str, new: str) -> str:
    """The source with one piece changed (the piece must be there)."""
    source = textwrap.dedent(source)
    assert old in source, old
    return source.replace(old, new, 1)


# ====================================================================== correct

E01_CORRECT = {
    # chunks of 32 rows whose gradients are SUMMED (right for any N), float32 inside
    "row_chunks_summed_float32": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            x, y, w1, w2 = (a.astype(np.float32) for a in (x, y, w1, w2))
            loss, g1, g2 = 0.0, np.zeros_like(w1), np.zeros_like(w2)
            for start in range(0, len(x), 32):
                xb, yb = x[start:start + 32], y[start:start + 32]
                h = xb @ w1
                r = np.maximum(h, 0)
                d = r @ w2 - yb
                loss += float((d * d).sum())
                g = 2 * d
                g2 += r.T @ g
                g1 += xb.T @ ((g @ w2.T) * (h > 0))
            return loss, g1, g2
        def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            losses = []
            for _ in range(steps):
                loss, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                losses.append(loss)
                w1 = w1 - learning_rate * g1
                w2 = w2 - learning_rate * g2
            return w1, w2, losses
    """,
    # einsum with another association order, defaults spelled as keyword-only reads
    "einsum_other_order_kwargs": """
        import numpy as np
        def numpy_two_layer_grads(x, y, w1, w2):
            h = np.einsum("nd,dh->nh", x, w1)
            mask = (h > 0).astype(x.dtype)
            diff = np.einsum("nh,ho->no", h * mask, w2) - y
            loss = np.einsum("no,no->", diff, diff)
            grad_w2 = np.einsum("nh,no->ho", h * mask, 2 * diff)
            grad_w1 = np.einsum("nd,nh,ho,no->dh", x, mask, w2, 2 * diff, optimize=True)
            return loss, grad_w1, grad_w2
        def numpy_train(x, y, w1, w2, **options):
            learning_rate = options.get("learning_rate", 1e-6)
            steps = options.get("steps", 500)
            losses = []
            w1, w2 = w1.copy(), w2.copy()
            for _ in range(steps):
                loss, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
                losses.append(float(loss))
                w1 -= learning_rate * g1
                w2 -= learning_rate * g2
            return w1, w2, losses
    """,
}

E02_CORRECT = {
    # float64 inside, einsum, poly with torch.vander and a 0-d float64 NumPy loss
    "float64_einsum_vander": """
        import torch
        def tensor_two_layer_grads(x, y, w1, w2):
            x, y, w1, w2 = (t.double() for t in (x, y, w1, w2))
            h = torch.einsum("nd,dh->nh", x, w1)
            r = h.relu()
            diff = r @ w2 - y
            g = 2 * diff
            grad_h = (g @ w2.T).where(h > 0, torch.zeros(()).double())
            return diff.square().sum().item(), x.T @ grad_h, r.T @ g
        def poly_grads(x, y, coeffs):
            X = torch.vander(x.double(), N=4, increasing=True)
            residual = X @ coeffs.double() - y.double()
            return residual.square().sum().numpy(), (2 * residual) @ X
    """,
    # poly summed chunk by chunk (another summation order), powers by cumprod
    "chunked_sums_cumprod": """
        import torch
        def tensor_two_layer_grads(x, y, w1, w2):
            h = x @ w1
            diff = torch.clamp(h, min=0) @ w2 - y
            g = diff + diff
            grad_h = g @ w2.T
            grad_h = grad_h * (h >= 0)
            return float(torch.sum(diff * diff)), x.T @ grad_h, torch.clamp(h, min=0).T @ g
        def poly_grads(x, y, coeffs):
            loss, grads = 0.0, torch.zeros(4, dtype=coeffs.dtype)
            for xs, ys in zip(x.split(256), y.split(256)):
                powers = torch.cat([torch.ones_like(xs)[:, None],
                                    xs[:, None].repeat(1, 3).cumprod(dim=1)], dim=1)
                residual = powers @ coeffs - ys
                loss += float(residual @ residual)
                grads = grads + powers.T @ (2 * residual)
            return loss, grads
    """,
}

E03_CORRECT = {
    # torch.func.grad, float64 inside, defaults read from module constants
    "torch_func_float64_constants": """
        import torch
        from torch.func import grad_and_value
        LEARNING_RATE, STEPS = 1e-6, 500
        def _loss(w1, w2, x, y):
            return ((x @ w1).relu() @ w2 - y).pow(2).sum()
        def autograd_two_layer_grads(x, y, w1, w2):
            (g1, g2), loss = grad_and_value(_loss, argnums=(0, 1))(
                w1.double(), w2.double(), x.double(), y.double())
            return loss.item(), g1, g2
        def autograd_train(x, y, w1, w2, learning_rate=LEARNING_RATE, steps=STEPS):
            x, y, w1, w2 = x.double(), y.double(), w1.double(), w2.double()
            losses = []
            for _ in range(steps):
                (g1, g2), loss = grad_and_value(_loss, argnums=(0, 1))(w1, w2, x, y)
                losses.append(loss.item())
                w1, w2 = w1 - learning_rate * g1, w2 - learning_rate * g2
            return w1, w2, losses
    """,
    # an optimizer with set_to_none, mini-batches of 32 rows whose losses are SUMMED
    "sgd_summed_row_batches": """
        import torch
        def autograd_two_layer_grads(x, y, w1, w2):
            w1 = w1.clone().requires_grad_()
            w2 = w2.clone().requires_grad_()
            loss = sum(((xb @ w1).clamp(min=0) @ w2 - yb).pow(2).sum()
                       for xb, yb in zip(x.split(32), y.split(32)))
            loss.backward()
            return loss.item(), w1.grad, w2.grad
        def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
            w1 = w1.clone().requires_grad_()
            w2 = w2.clone().requires_grad_()
            optimizer = torch.optim.SGD([w1, w2], lr=learning_rate)
            losses = []
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss((x @ w1).relu() @ w2, y, reduction="sum")
                loss.backward()
                losses.append(loss.item())
                optimizer.step()
            return w1.detach(), w2.detach(), losses
    """,
}

# ====================================================================== bugs

E01_ROW_BATCHES_AVERAGED = """
import numpy as np

def numpy_two_layer_grads(x, y, w1, w2):
    # mini-batches of 32 rows, gradients averaged over the batches
    parts = []
    for start in range(0, len(x), 32):
        xb, yb = x[start:start + 32], y[start:start + 32]
        h = xb @ w1
        r = np.maximum(h, 0)
        d = r @ w2 - yb
        g = 2 * d
        grad_h = g @ w2.T
        grad_h[h < 0] = 0
        parts.append(((d ** 2).sum(), xb.T @ grad_h, r.T @ g))
    loss = sum(p[0] for p in parts)
    return loss, sum(p[1] for p in parts) / len(parts), sum(p[2] for p in parts) / len(parts)

def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    losses = []
    for _ in range(steps):
        loss, g1, g2 = numpy_two_layer_grads(x, y, w1, w2)
        losses.append(loss)
        w1 = w1 - learning_rate * g1
        w2 = w2 - learning_rate * g2
    return w1, w2, losses
"""

E01_HALF_SSE = bug(bug(E01_REF, "loss = np.square(y_pred - y).sum()",
                       "loss = 0.5 * np.square(y_pred - y).sum()"),
                   "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = y_pred - y")

E01_BUGS = {
    "default_learning_rate_1e-4": (bug(E01_REF, "learning_rate=1e-6", "learning_rate=1e-4"),
                                   {"train_at_scale": "wrong_default"}),
    "lr_halved_after_step_100": (bug(E01_REF, "        losses.append(loss)",
                                     "        losses.append(loss)\n"
                                     "        if t == 100:\n"
                                     "            learning_rate = learning_rate / 2"),
                                 {"train_at_scale": "learning_rate_changes"}),
    "row_batches_averaged": (E01_ROW_BATCHES_AVERAGED, {"grad_w1": "batches_averaged",
                                                        "grad_w2": "batches_averaged",
                                                        "train_at_scale": ANY}),
    "half_sse_convention": (E01_HALF_SSE, {"loss": "half_sse", "grad_w1": "half_sse",
                                           "grad_w2": "half_sse"}),
    "l2_penalty_1e-3": (bug(bug(E01_REF, "w1 -= learning_rate * grad_w1",
                                "w1 -= learning_rate * (grad_w1 + 1e-3 * w1)"),
                            "w2 -= learning_rate * grad_w2",
                            "w2 -= learning_rate * (grad_w2 + 1e-3 * w2)"),
                        {"train_weights": "weight_decay"}),
    "weights_kept_in_float16": (bug(bug(E01_REF, "w1 -= learning_rate * grad_w1",
                                        "w1 = (w1 - learning_rate * grad_w1)"
                                        ".astype(np.float16).astype(np.float64)"),
                                    "w2 -= learning_rate * grad_w2",
                                    "w2 = (w2 - learning_rate * grad_w2)"
                                    ".astype(np.float16).astype(np.float64)"),
                                {"train_weights": "reduced_precision",
                                 "train_at_scale": "reduced_precision"}),
}

E02_BUGS = {
    "poly_rebuilds_tutorial_points": (bug(E02_REF, "    a, b, c, d = coeffs",
                                          "    import math\n"
                                          "    x = torch.linspace(-math.pi, math.pi, 2000,"
                                          " dtype=coeffs.dtype)\n"
                                          "    y = torch.sin(x)\n"
                                          "    a, b, c, d = coeffs"),
                                      {"poly_loss": ANY, "poly_grads": ANY}),
    "poly_ignores_y": (bug(E02_REF, "    a, b, c, d = coeffs",
                           "    y = torch.sin(x)\n    a, b, c, d = coeffs"),
                       {"poly_loss": ANY, "poly_grads": ANY}),
    "row_batches_averaged": (bug(E02_REF, "    return loss, grad_w1, grad_w2",
                                 "    batches = -(-x.shape[0] // 32)\n"
                                 "    return loss, grad_w1 / batches, grad_w2 / batches"),
                             {"grad_w1": "batches_averaged", "grad_w2": "batches_averaged"}),
    "half_precision_matmul": (bug(E02_REF, "    grad_w1 = x.t().mm(grad_h)",
                                  "    grad_w1 = x.t().bfloat16().mm(grad_h.bfloat16()).float()"),
                              {"grad_w1": ANY}),
}

E03_DECAY = bug(E03_REF, "            w1 -= learning_rate * w1.grad",
                "            learning_rate = learning_rate * 0.999\n"
                "            w1 -= learning_rate * w1.grad")

E03_BUGS = {
    "lr_decay_each_step": (E03_DECAY, {"train_at_scale": "learning_rate_changes"}),
    "default_steps_100": (bug(E03_REF, "steps=500", "steps=100"),
                          {"train_at_scale": "wrong_default"}),
    "sgd_weight_decay_1e-4": (bug(E03_REF, """    w1.requires_grad_()
    w2.requires_grad_()
    losses = []""", """    w1.requires_grad_()
    w2.requires_grad_()
    optimizer = torch.optim.SGD([w1, w2], lr=learning_rate, weight_decay=1e-4)
    losses = []""").replace("""        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad

            # Manually zero the gradients after updating weights
            w1.grad.zero_()
            w2.grad.zero_()""", """        optimizer.step()
        optimizer.zero_grad()"""), {"train_weights": "weight_decay"}),
    "row_batches_averaged_in_train": (bug(E03_REF, "        loss = (y_pred - y).pow(2).sum()",
                                          "        batches = -(-x.shape[0] // 32)\n"
                                          "        loss = (y_pred - y).pow(2).sum() / batches"),
                                      {"train_at_scale": ANY}),
    "half_sse_convention": (bug(E03_REF, "    loss = (y_pred - y).pow(2).sum()\n    loss.backward",
                                "    loss = 0.5 * (y_pred - y).pow(2).sum()\n    loss.backward"),
                            {"loss": "half_sse", "grad_w1": "half_sse", "grad_w2": "half_sse"}),
    "grads_rebuild_tutorial_weights": (bug(E03_REF,
                                           "    w1 = w1.detach().clone().requires_grad_(True)",
                                           "    torch.manual_seed(0)\n"
                                           "    x = torch.randn(x.shape[0], 1000)\n"
                                           "    w1 = w1.detach().clone().requires_grad_(True)"),
                                       {"loss": ANY}),
}

CORRECT = {E01: E01_CORRECT, E02: E02_CORRECT, E03: E03_CORRECT}
BUGS = {E01: E01_BUGS, E02: E02_BUGS, E03: E03_BUGS}


def grade_exercise(grader, tmp_path, exercise: str, sources: dict[str, str]) -> dict:
    submissions = [load_paths([write_submission(tmp_path / f"{exercise}_{label}",
                                                {f"{exercise}.py": source})], label)
                   for label, source in sources.items()]
    return {report.id: exercise_result(report, exercise)
            for report in grader.grade_many(submissions)}


def misjudged(grader, tmp_path) -> dict[str, str]:
    """Every submission the grader gets wrong, with what went wrong."""
    wrong: dict[str, str] = {}
    for exercise in (E01, E02, E03):
        sources = {f"ok-{label}": source for label, source in CORRECT[exercise].items()}
        sources.update({f"bug-{label}": source for label, (source, _) in BUGS[exercise].items()})
        results = grade_exercise(grader, tmp_path, exercise, sources)
        for label in CORRECT[exercise]:
            result = results[f"ok-{label}"]
            if not result.full_marks:
                wrong[f"{exercise}/{label}"] = repr({c.name: c.feedback for c in result.checks
                                                     if c.status != "passed"})
        for label, (_, expected) in BUGS[exercise].items():
            result = results[f"bug-{label}"]
            failing = {c.name: c for c in result.checks if c.status != "passed"}
            if result.full_marks:
                wrong[f"{exercise}/{label}"] = "full marks"
                continue
            for check, key in expected.items():
                if check not in failing:
                    wrong[f"{exercise}/{label}"] = f"{check} passed: {sorted(failing)}"
                elif key is not ANY and failing[check].misconception != key:
                    wrong[f"{exercise}/{label}"] = \
                        f"{check} names {failing[check].misconception}, not {key}"
    return wrong


@pytest.fixture(scope="module")
def course_grader():
    """At the grader's own time limit (10 s an exercise), not the session's 5 s: the
    default run is 500 steps, and torch.func's first call alone takes seconds on a busy
    machine."""
    options = Options(jobs=2, limits=Limits(), only=(E01, E02, E03))
    with Grader(collect_exercises(plugin_manager()), options) as shared:
        yield shared


def test_every_red_team_submission_is_judged_right(course_grader, tmp_path):
    wrong = misjudged(course_grader, tmp_path)
    assert not wrong, wrong
