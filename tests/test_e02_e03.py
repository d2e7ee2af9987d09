"""e02 (gradients by hand with tensors, cubic fit) and e03 (autograd): correct variants
written differently get full marks; typical bugs fail the right checks, named."""

from __future__ import annotations

import textwrap

import pytest

from conftest import exercise_result, write_submission
from grader.loaders import load_paths
from grader.model import Report
from grader.plugins import collect_exercises, plugin_manager

E02, E03 = "e02_tensor_grads", "e03_autograd"
ANY = object()   # the check must fail; which misconception (if any) is not asserted


def grade_all(grader, tmp_path, filename: str, sources: dict[str, str]) -> dict[str, Report]:
    """Grade several one-file submissions in one batch (the grader's workers run in parallel)."""
    submissions = [load_paths([write_submission(tmp_path / label, {filename: source})], label)
                   for label, source in sources.items()]
    return {report.id: report for report in grader.grade_many(submissions)}


def src(*parts: str) -> str:
    return "import numpy as np\nimport torch\nimport torch.nn.functional as F\n\n" + \
        "\n\n".join(textwrap.dedent(p) for p in parts)


def bug(source: str, old: str, new: str) -> str:
    """The source with one line changed (the line must be there)."""
    source = textwrap.dedent(source)
    assert old in source, old
    return source.replace(old, new)


def check_names(exercise: str) -> set[str]:
    found = next(e for e in collect_exercises(plugin_manager()) if e.name == exercise)
    return {c.name for c in found.checks}


def assert_failures(reports: dict[str, Report], exercise: str, cases: dict) -> set[str]:
    """Each case fails exactly the expected checks, naming the expected misconceptions.

    Returns the checks seen failing, so that a test can show every check fails somewhere."""
    seen: set[str] = set()
    for label, (_, expected) in cases.items():
        result = exercise_result(reports[label], exercise)
        failing = {c.name: c for c in result.checks if c.status != "passed"}
        assert set(failing) == set(expected), (label, {n: c.feedback for n, c in failing.items()})
        for name, key in expected.items():
            assert failing[name].status == "failed", (label, name, failing[name].feedback)
            if key is not ANY:
                assert failing[name].misconception == key, (label, name, failing[name].feedback)
        seen |= set(failing)
    return seen


def feedback(report: Report, exercise: str, check: str) -> str:
    return next(c.feedback for c in exercise_result(report, exercise).checks if c.name == check)


def score(report: Report, exercise: str, check: str) -> float:
    return next(c.score for c in exercise_result(report, exercise).checks if c.name == check)


# ====================================================================== e02

TWO_LAYER = """
def tensor_two_layer_grads(x, y, w1, w2):
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h = grad_y_pred.mm(w2.t()).clone()
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)
    return loss, grad_w1, grad_w2
"""

TWO_LAYER_VARIANTS = [
    TWO_LAYER,
    """
    def tensor_two_layer_grads(x, y, w1, w2):   # @, relu, where, <= 0
        h = x @ w1
        h_relu = torch.relu(h)
        diff = h_relu @ w2 - y
        loss = float((diff * diff).sum())
        g = 2 * diff
        grad_h = torch.where(h <= 0, torch.zeros_like(h), g @ w2.T)
        return loss, x.T @ grad_h, h_relu.T @ g
    """,
    """
    def tensor_two_layer_grads(x, y, w1, w2):   # matmul, maximum, float64 inside
        x, y, w1, w2 = (t.double() for t in (x, y, w1, w2))
        h = torch.matmul(x, w1)
        h_relu = torch.maximum(h, torch.zeros_like(h))
        y_pred = torch.matmul(h_relu, w2)
        loss = torch.sum((y_pred - y) ** 2).item()
        grad_y_pred = 2 * (y_pred - y)
        grad_w2 = torch.matmul(h_relu.transpose(0, 1), grad_y_pred)
        grad_h = torch.matmul(grad_y_pred, w2.transpose(0, 1)) * (h > 0).double()
        return loss, torch.matmul(x.transpose(0, 1), grad_h), grad_w2
    """,
    """
    def tensor_two_layer_grads(x, y, w1, w2):   # einsum, F.relu, masked_fill, NumPy scalar
        h = torch.einsum("nd,dh->nh", x, w1)
        h_relu = F.relu(h)
        y_pred = torch.einsum("nh,ho->no", h_relu, w2)
        loss = np.float32(((y_pred - y) ** 2).sum().item())
        grad_y_pred = 2 * (y_pred - y)
        grad_w2 = torch.einsum("nh,no->ho", h_relu, grad_y_pred)
        grad_h = torch.einsum("no,ho->nh", grad_y_pred, w2).masked_fill(h < 0, 0.0)
        return loss, torch.einsum("nd,nh->dh", x, grad_h), grad_w2
    """,
]

POLY = """
def poly_grads(x, y, coeffs):
    a, b, c, d = coeffs
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grads = torch.stack([grad_y_pred.sum(), (grad_y_pred * x).sum(),
                         (grad_y_pred * x ** 2).sum(), (grad_y_pred * x ** 3).sum()])
    return loss, grads
"""

POLY_VARIANTS = [
    POLY,
    """
    def poly_grads(x, y, coeffs):   # design matrix
        X = torch.stack([torch.ones_like(x), x, x ** 2, x ** 3], dim=1)
        residual = X @ coeffs - y
        return float(residual @ residual), X.T @ (2 * residual)
    """,
    """
    def poly_grads(x, y, coeffs):   # Horner, and a loop filling zeros_like
        y_pred = coeffs[3]
        for c in (coeffs[2], coeffs[1], coeffs[0]):
            y_pred = y_pred * x + c
        g = 2 * (y_pred - y)
        grads = torch.zeros_like(coeffs)
        for i in range(4):
            grads[i] = (g * x.pow(i)).sum()
        return ((y_pred - y) ** 2).sum().item(), grads
    """,
    """
    def poly_grads(x, y, coeffs):   # float64 inside, powers as rows, loss a 0-d array
        x, y, coeffs = x.double(), y.double(), coeffs.double()
        powers = torch.stack([x ** i for i in range(4)])
        y_pred = (coeffs[:, None] * powers).sum(0)
        g = 2 * (y_pred - y)
        return torch.sum((y_pred - y) ** 2).numpy(), (powers * g).sum(dim=1)
    """,
]

AUTOGRAD_TWO_LAYER = """
def tensor_two_layer_grads(x, y, w1, w2):
    w1 = w1.clone().requires_grad_()
    w2 = w2.clone().requires_grad_()
    loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
    loss.backward()
    return loss.item(), w1.grad, w2.grad
"""

AUTOGRAD_POLY = """
def poly_grads(x, y, coeffs):
    coeffs = coeffs.clone().requires_grad_()
    a, b, c, d = coeffs
    loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
    grads, = torch.autograd.grad(loss, coeffs)
    return loss.item(), grads
"""

POLY_LOOP = """
def poly_grads(x, y, coeffs):
    y_pred = sum(coeffs[i] * x ** i for i in range(4))
    g = 2 * (y_pred - y)
    grads = torch.stack([(g * x ** i).sum() for i in range(4)])
    return ((y_pred - y) ** 2).sum().item(), grads
"""

E02_BUGS = {
    # the two-layer function (with a correct poly_grads)
    "factor_two": (src(bug(TWO_LAYER, "2.0 * (y_pred - y)", "(y_pred - y)"), POLY),
                   {"grad_w1": "factor_two", "grad_w2": "factor_two"}),
    "mean_loss": (src(bug(bug(TWO_LAYER, ".sum().item()", ".mean().item()"),
                          "2.0 * (y_pred - y)", "2.0 * (y_pred - y) / y.numel()"), POLY),
                  {"loss": "mean_loss", "grad_w1": "mean_loss", "grad_w2": "mean_loss"}),
    "half_sse": (src(bug(bug(TWO_LAYER, ".pow(2).sum().item()", ".pow(2).sum().item() / 2"),
                         "2.0 * (y_pred - y)", "(y_pred - y)"), POLY),
                 {"loss": "half_sse", "grad_w1": "half_sse", "grad_w2": "half_sse"}),
    "mask_missing": (src(bug(TWO_LAYER, "grad_h[h < 0] = 0", "pass"), POLY),
                     {"grad_w1": "relu_mask_missing"}),
    "mask_inverted": (src(bug(TWO_LAYER, "grad_h[h < 0] = 0", "grad_h[h > 0] = 0"), POLY),
                      {"grad_w1": "relu_mask_inverted"}),
    "transposes_swapped": (src(bug(bug(TWO_LAYER, "h_relu.t().mm(grad_y_pred)",
                                       "grad_y_pred.t().mm(h_relu)"),
                                   "x.t().mm(grad_h)", "grad_h.t().mm(x)"), POLY),
                           {"grad_w1": ANY, "grad_w2": ANY}),
    "numpy_returned": (src(bug(TWO_LAYER, "return loss, grad_w1, grad_w2",
                               "return loss, grad_w1.numpy(), grad_w2.numpy()"), POLY),
                       {"grad_w1": None, "grad_w2": None}),
    "loss_tensor": (src(bug(TWO_LAYER, ".sum().item()", ".sum()"), POLY), {"loss": None}),
    "y_in_place": (src(bug(TWO_LAYER, "grad_y_pred = 2.0 * (y_pred - y)",
                           "grad_y_pred = 2.0 * y.sub_(y_pred).neg_()"), POLY),
                   {"leaves_inputs_alone": None}),
    "x_transposed_in_place": (src(bug(TWO_LAYER, "x.t().mm(grad_h)", "x.t_().mm(grad_h)"), POLY),
                              {"leaves_inputs_alone": None}),
    "autograd": (src(AUTOGRAD_TWO_LAYER, POLY), {"no_autograd": "uses_autograd"}),
    "autograd_in_poly": (src(TWO_LAYER, AUTOGRAD_POLY), {"no_autograd": "uses_autograd"}),
    # poly_grads (with a correct two-layer function)
    "poly_factor_two": (src(TWO_LAYER, bug(POLY, "2.0 * (y_pred - y)", "(y_pred - y)")),
                        {"poly_grads": "factor_two"}),
    "poly_half_sse": (src(TWO_LAYER, bug(bug(POLY, ".pow(2).sum().item()",
                                             ".pow(2).sum().item() * 0.5"),
                                         "2.0 * (y_pred - y)", "(y_pred - y)")),
                      {"poly_loss": "half_sse", "poly_grads": "half_sse"}),
    "poly_mean": (src(TWO_LAYER, bug(bug(POLY, ".sum().item()", ".mean().item()"),
                                     "2.0 * (y_pred - y)", "2.0 * (y_pred - y) / x.numel()")),
                  {"poly_loss": "mean_loss", "poly_grads": "mean_loss"}),
    "poly_three_grads": (src(TWO_LAYER, bug(POLY, ", (grad_y_pred * x ** 3).sum()])", "])")),
                         {"poly_grads": "poly_cubic_term"}),
    "poly_last_grad_copied": (src(TWO_LAYER, bug(POLY, "(grad_y_pred * x ** 3).sum()",
                                                 "(grad_y_pred * x ** 2).sum()")),
                              {"poly_grads": "poly_cubic_term"}),
    "poly_model_without_cubic": (src(TWO_LAYER, bug(POLY, " + d * x ** 3", "")),
                                 {"poly_loss": "poly_cubic_term",
                                  "poly_grads": "poly_cubic_term"}),
    "poly_grad_powers_shifted": (src(TWO_LAYER, bug(POLY_LOOP, "(g * x ** i)",
                                                    "(g * x ** (i + 1))")),
                                 {"poly_grads": "poly_power_off_by_one"}),
    "poly_all_powers_shifted": (src(TWO_LAYER, POLY_LOOP.replace("x ** i", "x ** (i + 1)")),
                                {"poly_loss": "poly_power_off_by_one",
                                 "poly_grads": "poly_power_off_by_one"}),
    "poly_residual_sign": (src(TWO_LAYER, bug(POLY, "2.0 * (y_pred - y)", "2.0 * (y - y_pred)")),
                           {"poly_grads": "poly_residual_sign"}),
    "poly_numpy_returned": (src(TWO_LAYER, bug(POLY, "return loss, grads",
                                               "return loss, grads.numpy()")),
                            {"poly_grads": None}),
    "poly_loss_tensor": (src(TWO_LAYER, bug(POLY, ".pow(2).sum().item()", ".pow(2).sum()")),
                         {"poly_loss": None}),
    "poly_y_in_place": (src(TWO_LAYER, bug(POLY, "grad_y_pred = 2.0 * (y_pred - y)",
                                           "grad_y_pred = 2.0 * y.sub_(y_pred).neg_()")),
                        {"poly_grads": None}),
}


def test_e02_correct_variants_get_full_marks(grader, tmp_path):
    sources = {f"v{i}": src(two, poly)
               for i, (two, poly) in enumerate(zip(TWO_LAYER_VARIANTS, POLY_VARIANTS))}
    sources["loop"] = src(TWO_LAYER_VARIANTS[1], POLY_LOOP)
    reports = grade_all(grader, tmp_path, f"{E02}.py", sources)
    for label, report in reports.items():
        result = exercise_result(report, E02)
        assert result.full_marks, (label, [(c.name, c.feedback) for c in result.checks
                                           if c.status != "passed"])
        assert result.max_score == 10


def test_e02_bugs_fail_the_right_checks_and_are_named(grader, tmp_path):
    reports = grade_all(grader, tmp_path, f"{E02}.py",
                        {label: source for label, (source, _) in E02_BUGS.items()})
    seen = assert_failures(reports, E02, E02_BUGS)
    assert seen == check_names(E02)   # every check is shown failing on a wrong answer

    assert "transposed" in feedback(reports["transposes_swapped"], E02, "grad_w2")
    for check in ("grad_w1", "grad_w2"):   # right values, wrong kind: half credit
        assert score(reports["numpy_returned"], E02, check) == 1.0
        assert "torch tensor" in feedback(reports["numpy_returned"], E02, check)
    assert score(reports["poly_numpy_returned"], E02, "poly_grads") == 1.0
    assert "torch tensor" in feedback(reports["poly_numpy_returned"], E02, "poly_grads")
    assert "real number" in feedback(reports["loss_tensor"], E02, "loss")
    assert "real number" in feedback(reports["poly_loss_tensor"], E02, "poly_loss")
    assert "changed its inputs (y)" in feedback(reports["y_in_place"], E02, "leaves_inputs_alone")
    assert "changed its inputs (x)" in feedback(reports["x_transposed_in_place"], E02,
                                                "leaves_inputs_alone")
    assert "inputs (y)" in feedback(reports["poly_y_in_place"], E02, "poly_grads")
    assert "torch.no_grad()" in feedback(reports["autograd"], E02, "no_autograd")
    assert "poly_grads" in feedback(reports["autograd_in_poly"], E02, "no_autograd")
    assert "x**3" in feedback(reports["poly_three_grads"], E02, "poly_grads")


def test_e02_no_autograd_catches_enable_grad(grade):
    """Autograd switched back on inside the function: caught by counting backward calls."""
    report = grade({f"{E02}.py": src(bug(AUTOGRAD_TWO_LAYER, "    loss = (",
                                         "    with torch.enable_grad():\n        loss = ("),
                                     POLY)})
    check = next(c for c in exercise_result(report, E02).checks if c.name == "no_autograd")
    assert check.status == "failed" and check.misconception == "uses_autograd", check.feedback
    assert exercise_result(report, E02).score == 9


def test_e02_partial_submission_is_graded_per_function(grade):
    """poly_grads not written yet: the two-layer checks (no_autograd included) still pass."""
    stub = 'def poly_grads(x, y, coeffs):\n    raise NotImplementedError("TODO")\n'
    status = {c.name: c.status
              for c in exercise_result(grade({f"{E02}.py": src(TWO_LAYER, stub)}), E02).checks}
    assert status == {"loss": "passed", "grad_w1": "passed", "grad_w2": "passed",
                      "leaves_inputs_alone": "passed", "no_autograd": "passed",
                      "poly_loss": "failed", "poly_grads": "failed"}


# ====================================================================== e03

GRADS = """
def autograd_two_layer_grads(x, y, w1, w2):
    w1 = w1.detach().clone().requires_grad_(True)
    w2 = w2.detach().clone().requires_grad_(True)
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    return loss.item(), w1.grad, w2.grad
"""

GRADS_VARIANTS = [
    GRADS,
    """
    def autograd_two_layer_grads(x, y, w1, w2):   # autograd.grad, @, relu, mse_loss(sum)
        w1 = w1.clone().requires_grad_()
        w2 = w2.clone().requires_grad_()
        loss = F.mse_loss(torch.relu(x @ w1) @ w2, y, reduction="sum")
        grad_w1, grad_w2 = torch.autograd.grad(loss, [w1, w2])
        return float(loss), grad_w1, grad_w2
    """,
    """
    def autograd_two_layer_grads(x, y, w1, w2):   # float64 inside
        x, y = x.double(), y.double()
        w1 = w1.double().requires_grad_()
        w2 = w2.double().requires_grad_()
        h = torch.matmul(x, w1)
        loss = ((torch.maximum(h, torch.zeros_like(h)) @ w2 - y) ** 2).sum()
        loss.backward()
        return loss.item(), w1.grad, w2.grad
    """,
    """
    def autograd_two_layer_grads(x, y, w1, w2):   # detach() shares storage: still pure
        a = w1.detach().requires_grad_()
        b = w2.detach().requires_grad_()
        h = torch.einsum("nd,dh->nh", x, a)
        y_pred = torch.einsum("nh,ho->no", torch.where(h > 0, h, 0.0), b)
        loss = torch.sum((y_pred - y) ** 2)
        loss.backward()
        return loss.item(), a.grad.clone(), b.grad.clone()
    """,
]

TRAIN = """
def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    w1 = w1.detach().requires_grad_(True)
    w2 = w2.detach().requires_grad_(True)
    losses = []
    for _ in range(steps):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return w1.detach(), w2.detach(), losses
"""

TRAIN_VARIANTS = [
    TRAIN,
    """
    def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        w1.requires_grad_()          # the grader's own copies: updating in place is fine
        w2.requires_grad_()
        losses = []
        for _ in range(steps):
            loss = ((torch.relu(x @ w1) @ w2 - y) ** 2).sum()
            losses.append(float(loss))
            loss.backward()
            with torch.no_grad():
                w1 -= learning_rate * w1.grad
                w2 -= learning_rate * w2.grad
            w1.grad = None
            w2.grad = None
        return w1, w2, losses        # not detached
    """,
    """
    def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        w1 = w1.clone().requires_grad_()
        w2 = w2.clone().requires_grad_()
        losses = []
        for _ in range(steps):
            for w in (w1, w2):       # zeroed at the start of the step
                if w.grad is not None:
                    w.grad.zero_()
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            losses.append(loss.item())
            with torch.no_grad():
                w1.sub_(learning_rate * w1.grad)
                w2.sub_(learning_rate * w2.grad)
        return w1.detach(), w2.detach(), losses
    """,
    """
    def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        w1 = w1.clone().requires_grad_()
        w2 = w2.clone().requires_grad_()
        optimizer = torch.optim.SGD([w1, w2], lr=learning_rate)
        losses = []
        for _ in range(steps):
            loss = F.mse_loss(F.relu(x @ w1) @ w2, y, reduction="sum")
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return w1.detach(), w2.detach(), losses
    """,
    """
    def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        x, y = x.double(), y.double()          # float64 inside, .data updates
        w1 = w1.double().requires_grad_()
        w2 = w2.double().requires_grad_()
        losses = []
        for _ in range(steps):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            losses.append(loss.item())
            loss.backward()
            w1.data -= learning_rate * w1.grad.data
            w2.data -= learning_rate * w2.grad.data
            w1.grad.data.zero_()
            w2.grad.data.zero_()
        return w1, w2, losses
    """,
    """
    def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
        losses = []
        w1 = w1.clone().requires_grad_()
        w2 = w2.clone().requires_grad_()
        for _ in range(steps):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            losses.append(loss.item())
            loss.backward()
            with torch.no_grad():             # fresh leaves each step: no .grad to zero
                w1 = (w1 - learning_rate * w1.grad).requires_grad_()
                w2 = (w2 - learning_rate * w2.grad).requires_grad_()
        return w1.detach(), w2.detach(), losses
    """,
]

TRAIN_LOSS_AFTER = """
def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    w1 = w1.clone().requires_grad_()
    w2 = w2.clone().requires_grad_()
    losses = []
    for _ in range(steps):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
            losses.append((x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().item())
    return w1.detach(), w2.detach(), losses
"""

TRAIN_ZEROED_FIRST = bug(TRAIN, """            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()""", """            w1.grad.zero_()
            w2.grad.zero_()
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad""")

E03_BUGS = {
    "caller_requires_grad": (src(bug(GRADS, ".detach().clone().requires_grad_(True)",
                                     ".requires_grad_(True)"), TRAIN),
                             {"leaves_inputs_alone": None}),
    "mse_mean": (src(bug(GRADS, "loss = (y_pred - y).pow(2).sum()",
                         "loss = F.mse_loss(y_pred, y)"), TRAIN),
                 {"loss": "mean_loss", "grad_w1": "mean_loss", "grad_w2": "mean_loss"}),
    "train_mse_mean": (src(GRADS, bug(TRAIN, "loss = (y_pred - y).pow(2).sum()",
                                      "loss = F.mse_loss(y_pred, y)")),
                       {"train_losses": "mean_loss", "train_weights": "mean_loss",
                        "train_at_scale": "mean_loss"}),
    "loss_tensor": (src(bug(GRADS, "return loss.item(),", "return loss,"), TRAIN),
                    {"loss": None}),
    "numpy_grads": (src(bug(GRADS, "w1.grad, w2.grad", "w1.grad.numpy(), w2.grad.numpy()"),
                        TRAIN),
                    {"grad_w1": None, "grad_w2": None}),
    "loss_after_update": (src(GRADS, TRAIN_LOSS_AFTER),
                          {"train_losses": "loss_after_update",
                           "train_at_scale": "loss_after_update"}),
    "never_zeroed": (src(GRADS, bug(bug(TRAIN, "w1.grad.zero_()", "pass"),
                                    "w2.grad.zero_()", "pass")),
                     {"train_losses": "grads_accumulate", "train_weights": "grads_accumulate",
                      "train_at_scale": "grads_accumulate"}),
    "zeroed_before_update": (src(GRADS, TRAIN_ZEROED_FIRST),
                             {"train_losses": "no_update", "train_weights": "no_update",
                              "train_at_scale": "no_update"}),
    "gradient_ascent": (src(GRADS, TRAIN.replace(" -= learning_rate", " += learning_rate")),
                        {"train_losses": "gradient_ascent", "train_weights": "gradient_ascent",
                         "train_at_scale": ANY}),
    "fixed_rate_1e-6": (src(GRADS, TRAIN.replace("learning_rate * w", "1e-6 * w")),
                        {"train_losses": "ignores_learning_rate",
                         "train_weights": "ignores_learning_rate",
                         "train_at_scale": "ignores_learning_rate"}),
    "fixed_rate_1e-4": (src(GRADS, TRAIN.replace("learning_rate * w", "1e-4 * w")),
                        {"train_losses": "ignores_learning_rate",
                         "train_weights": "ignores_learning_rate", "train_at_scale": ANY}),
    "losses_keep_graph": (src(GRADS, bug(TRAIN, "losses.append(loss.item())",
                                         "losses.append(loss)")),
                          {"train_losses": "losses_keep_graph", "train_at_scale": ANY}),
    "losses_detached_tensors": (src(GRADS, bug(TRAIN, "losses.append(loss.item())",
                                               "losses.append(loss.detach())")),
                                {"train_losses": None, "train_at_scale": None}),
    "ignores_steps": (src(GRADS, bug(TRAIN, "range(steps)", "range(20)")),
                      {"train_losses": "ignores_steps", "train_weights": ANY,
                       "train_at_scale": ANY}),
    # right gradients written out by hand (e02's way): the one thing e03 teaches is missing
    "gradients_by_hand": (src("""
        def autograd_two_layer_grads(x, y, w1, w2):
            h = x.mm(w1)
            h_relu = h.clamp(min=0)
            y_pred = h_relu.mm(w2)
            loss = (y_pred - y).pow(2).sum()
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h_relu.t().mm(grad_y_pred)
            grad_h = grad_y_pred.mm(w2.t()).clone()
            grad_h[h < 0] = 0
            return loss.item(), x.t().mm(grad_h), grad_w2
        """, TRAIN),
                          {"gradients_by_autograd": "gradients_by_hand"}),
}


def test_e03_correct_variants_get_full_marks(grader, tmp_path):
    sources = {f"v{i}": src(GRADS_VARIANTS[i % len(GRADS_VARIANTS)], train)
               for i, train in enumerate(TRAIN_VARIANTS)}
    reports = grade_all(grader, tmp_path, f"{E03}.py", sources)
    for label, report in reports.items():
        result = exercise_result(report, E03)
        assert result.full_marks, (label, [(c.name, c.feedback) for c in result.checks
                                           if c.status != "passed"])
        assert result.max_score == 11


def test_e03_bugs_fail_the_right_checks_and_are_named(grader, tmp_path):
    reports = grade_all(grader, tmp_path, f"{E03}.py",
                        {label: source for label, (source, _) in E03_BUGS.items()})
    seen = assert_failures(reports, E03, E03_BUGS)
    assert seen == check_names(E03)

    assert "require grad" in feedback(reports["caller_requires_grad"], E03, "leaves_inputs_alone")
    assert "real number" in feedback(reports["loss_tensor"], E03, "loss")
    for check in ("grad_w1", "grad_w2"):
        assert score(reports["numpy_grads"], E03, check) == 1.0
    for label in ("losses_keep_graph", "losses_detached_tensors"):
        assert "loss.item()" in feedback(reports[label], E03, "train_losses")
    assert "graph" in feedback(reports["losses_keep_graph"], E03, "train_losses")


@pytest.mark.parametrize("exercise,points", [(E02, 10), (E03, 11)])
def test_points(exercise, points):
    """e03 has one more check than e02: that autograd computed the gradients."""
    found = next(e for e in collect_exercises(plugin_manager()) if e.name == exercise)
    assert found.max_score == points
