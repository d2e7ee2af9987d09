"""e04 (MyReLU), e05 (TwoLayerNet), e06 (DynamicNet): correct variants get full marks,
typical bugs fail the right check and are named."""

from __future__ import annotations

import pytest

import numpy as np

from conftest import exercise_result
from grader.checks import e04_my_relu, e05_two_layer_net, e06_dynamic_net
from grader.checks.e05_two_layer_net import inputs as e05_inputs
from grader.checks.e06_dynamic_net import inputs as e06_inputs, judges as e06_judges
from grader.checks.modules import inputs as module_inputs


MODULES = {m.EXERCISE.name: m for m in (e04_my_relu, e05_two_layer_net, e06_dynamic_net)}


def _result(grade, exercise: str, source: str):
    return exercise_result(grade({f"{exercise}.py": source}), exercise)


def _check(result, name: str):
    return next(c for c in result.checks if c.name == name)


def _assert_full_marks(result):
    assert result.full_marks, [(c.name, c.status, c.feedback) for c in result.checks
                               if c.status != "passed"]


def _assert_fails(result, check: str, misconception: str | None = None,
                  others_pass: tuple[str, ...] = ()):
    found = _check(result, check)
    assert found.status == "failed", (found.status, found.feedback)
    assert found.score < found.max_score
    if misconception is not None:
        assert found.misconception == misconception, (found.misconception, found.feedback)
        exercise = MODULES[result.name].EXERCISE
        assert exercise.catalogue.lookup(misconception, "en") in found.feedback
    for name in others_pass:
        assert _check(result, name).status == "passed", _check(result, name).feedback
    assert not result.full_marks


# Catalogues (every text in every language, every key named has a text, no torch in the
# grader's process) are checked for every exercise in tests/test_messages.py.


# ====================================================================== e04 MyReLU

E04 = "e04_my_relu"

E04_HEAD = """
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
"""

E04_TAIL = """

my_relu = MyReLU.apply
"""


def e04_backward(body: str) -> str:
    lines = [line.strip() for line in body.strip().splitlines()]
    return E04_HEAD + "".join(f"        {line}\n" for line in lines) + E04_TAIL


E04_CORRECT = {
    "clone_and_mask": e04_backward("""
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input"""),
    "multiply_by_mask": e04_backward("return grad_output * (input > 0).float()"),
    "where_le": e04_backward(
        "return torch.where(input <= 0, torch.zeros_like(grad_output), grad_output)"),
    "mask_on_saved_output": """
        import torch

        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                output = torch.maximum(input, torch.zeros_like(input))
                ctx.save_for_backward(output)
                return output

            @staticmethod
            def backward(ctx, grad_output):
                output, = ctx.saved_tensors
                return grad_output * (output > 0)

        def my_relu(x):
            return MyReLU.apply(x)
        """,
    "mask_on_ctx_attribute": """
        import torch

        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mask = x > 0
                return x * ctx.mask

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output.masked_fill(~ctx.mask, 0.0)

        my_relu = MyReLU.apply
        """,
}


@pytest.mark.parametrize("variant", sorted(E04_CORRECT))
def test_e04_correct_variants_get_full_marks(grade, variant):
    _assert_full_marks(_result(grade, E04, E04_CORRECT[variant]))


def test_e04_mask_missing(grade):
    result = _result(grade, E04, e04_backward("return grad_output"))
    _assert_fails(result, "backward_values", "mask_missing", others_pass=("forward_values",))
    _assert_fails(result, "gradcheck_float64")


def test_e04_mask_inverted(grade):
    result = _result(grade, E04, e04_backward("""
        grad = grad_output.clone()
        grad[input > 0] = 0
        return grad"""))
    _assert_fails(result, "backward_values", "mask_inverted")
    assert "gradcheck" in _check(result, "gradcheck_float64").feedback


def test_e04_mask_not_multiplied_by_grad_output(grade):
    result = _result(grade, E04, e04_backward("return (input > 0).float()"))
    _assert_fails(result, "backward_values", "mask_not_multiplied")
    _assert_fails(result, "gradcheck_float64")


def test_e04_grad_output_modified_in_place(grade):
    result = _result(grade, E04, e04_backward("""
        grad_output[input < 0] = 0
        return grad_output"""))
    _assert_fails(result, "grad_output_untouched", "grad_output_in_place",
                  others_pass=("forward_values", "backward_values", "gradcheck_float64"))


def test_e04_forward_rewritten_wrongly(grade):
    source = E04_CORRECT["clone_and_mask"].replace("input.clamp(min=0)", "input.abs()")
    result = _result(grade, E04, source)
    _assert_fails(result, "forward_values", others_pass=("backward_values",))


def test_e04_my_relu_not_the_custom_function(grade):
    source = E04_CORRECT["clone_and_mask"].replace("my_relu = MyReLU.apply",
                                                   "my_relu = torch.relu")
    result = _result(grade, E04, source)
    _assert_fails(result, "my_relu_alias", others_pass=("backward_values", "gradcheck_float64"))
    assert "MyReLU.apply" in _check(result, "my_relu_alias").feedback


def test_e04_backward_returning_none_and_missing_alias(grade):
    source = e04_backward("return None").replace("my_relu = MyReLU.apply", "")
    result = _result(grade, E04, source)
    assert "x.grad is None" in _check(result, "backward_values").feedback
    assert _check(result, "my_relu_alias").status == "failed"
    assert "my_relu" in _check(result, "my_relu_alias").feedback


# ====================================================================== e05 TwoLayerNet

E05 = "e05_two_layer_net"


def e05(init: str, forward: str, head: str = "") -> str:
    def indent(block):
        return "".join(f"        {line.strip()}\n" for line in block.strip().splitlines())
    return ("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n" + head
            + "\n\nclass TwoLayerNet(nn.Module):\n    def __init__(self, D_in, H, D_out):\n"
            "        super().__init__()\n" + indent(init)
            + "\n    def forward(self, x):\n" + indent(forward))


E05_INIT = """
self.linear1 = nn.Linear(D_in, H)
self.linear2 = nn.Linear(H, D_out)"""

E05_CORRECT = {
    "torch_relu": e05(E05_INIT, "return self.linear2(torch.relu(self.linear1(x)))"),
    "functional_relu_reversed_order": e05("""
        self.linear2 = nn.Linear(H, D_out)
        self.linear1 = nn.Linear(D_in, H)""", """
        h = self.linear1(x)
        h_relu = F.relu(h)
        y_pred = self.linear2(h_relu)
        return y_pred"""),
    "relu_module_and_identity": e05(E05_INIT + """
        self.relu = nn.ReLU()
        self.keep = nn.Identity()""", "return self.keep(self.linear2(self.relu(self.linear1(x))))"),
    "clamp": e05(E05_INIT, "return self.linear2(self.linear1(x).clamp(min=0))"),
}


@pytest.mark.parametrize("variant", sorted(E05_CORRECT))
def test_e05_correct_variants_get_full_marks(grade, variant):
    _assert_full_marks(_result(grade, E05, E05_CORRECT[variant]))


def test_e05_layers_in_a_plain_list(grade):
    result = _result(grade, E05, e05(
        "self.layers = [nn.Linear(D_in, H), nn.Linear(H, D_out)]",
        "return self.layers[1](torch.relu(self.layers[0](x)))"))
    _assert_fails(result, "layers_registered", "layers_not_registered")
    _assert_fails(result, "layer_shapes")
    _assert_fails(result, "forward_output", "layers_not_registered")
    _assert_fails(result, "gradients")


def test_e05_extra_parameter(grade):
    result = _result(grade, E05, e05(E05_INIT + "\nself.scale = nn.Parameter(torch.ones(1))",
                                     "return self.linear2(torch.relu(self.linear1(x)))"))
    _assert_fails(result, "layers_registered",
                  others_pass=("layer_shapes", "forward_output", "gradients"))
    assert "scale" in _check(result, "layers_registered").feedback


@pytest.mark.parametrize("forward, misconception", [
    ("return self.linear2(self.linear1(x))", "relu_missing"),
    ("return torch.relu(self.linear2(torch.relu(self.linear1(x))))", "relu_after_output"),
    ("return self.linear2(torch.sigmoid(self.linear1(x)))", "sigmoid_not_relu"),
])
def test_e05_wrong_activation(grade, forward, misconception):
    result = _result(grade, E05, e05(E05_INIT, forward))
    _assert_fails(result, "forward_output", misconception,
                  others_pass=("layers_registered", "layer_shapes"))
    _assert_fails(result, "gradients", misconception)


def test_e05_new_linear_inside_forward(grade):
    result = _result(grade, E05, e05(
        E05_INIT, "return nn.Linear(x.shape[1] + 2, 3)(torch.relu(self.linear1(x)))"))
    _assert_fails(result, "forward_output", "layer_in_forward",
                  others_pass=("layers_registered", "layer_shapes"))
    _assert_fails(result, "gradients", "layer_in_forward")
    assert "linear2.weight" in _check(result, "gradients").feedback


def test_e05_swapped_sizes(grade):
    result = _result(grade, E05, e05("""
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(D_out, H)""",
        "return self.linear2(torch.relu(self.linear1(x)))"))
    _assert_fails(result, "layer_shapes", "swapped_sizes", others_pass=("layers_registered",))
    _assert_fails(result, "forward_output", "swapped_sizes")


def test_e05_graph_cut(grade):
    result = _result(grade, E05, e05(
        E05_INIT, "return self.linear2(torch.relu(self.linear1(x)).detach())"))
    _assert_fails(result, "gradients", others_pass=("forward_output",))
    assert "linear1.weight" in _check(result, "gradients").feedback


# ====================================================================== e06 DynamicNet

E06 = "e06_dynamic_net"


def e06(forward: str, init: str = "", head: str = "") -> str:
    def indent(block):
        return "".join(f"        {line}\n" for line in _dedent(block).splitlines())
    init = init or """
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)"""
    return ("import random\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n"
            "from torch import nn\n" + head
            + "\n\nclass DynamicNet(nn.Module):\n    def __init__(self, D_in, H, D_out):\n"
            "        super().__init__()\n" + indent(init)
            + "\n    def forward(self, x):\n" + indent(forward))


def _dedent(block: str) -> str:
    import textwrap
    return textwrap.dedent(block).strip("\n")


E06_LOOP = """
    h = torch.relu(self.input_linear(x))
    for _ in range({depth}):
        h = torch.relu(self.middle_linear(h))
    return self.output_linear(h)"""

E06_CORRECT = {
    "random_randint": e06(E06_LOOP.format(depth="random.randint(0, 3)")),
    "torch_randint_other_order": e06("""
        h = F.relu(self.input_linear(x))
        depth = int(torch.randint(0, 4, (1,)).item())
        for _ in range(depth):
            h = F.relu(self.middle_linear(h))
        return self.output_linear(h)""", init="""
        self.output_linear = nn.Linear(H, D_out)
        self.middle_linear = nn.Linear(H, H)
        self.input_linear = nn.Linear(D_in, H)"""),
    "numpy_clamp": e06("""
        h = self.input_linear(x).clamp(min=0)
        for _ in range(np.random.randint(0, 4)):
            h = self.middle_linear(h).clamp(min=0)
        return self.output_linear(h)"""),
    "choice_while_relu_module": e06("""
        h = self.act(self.input_linear(x))
        n = random.choice([0, 1, 2, 3])
        while n > 0:
            h = self.act(self.middle_linear(h))
            n -= 1
        return self.output_linear(h)""", init="""
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)
        self.act = nn.ReLU()"""),
    "functional_linear_shared_weight": e06("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randrange(4)):
            h = torch.relu(F.linear(h, self.middle_linear.weight, self.middle_linear.bias))
        return self.output_linear(h)"""),
}


@pytest.mark.parametrize("variant", sorted(E06_CORRECT))
def test_e06_correct_variants_get_full_marks(grade, variant):
    _assert_full_marks(_result(grade, E06, E06_CORRECT[variant]))


def test_e06_depth_fixed(grade):
    result = _result(grade, E06, e06(E06_LOOP.format(depth="2")))
    _assert_fails(result, "every_depth_drawn", "depth_fixed",
                  others_pass=("shared_layers", "outputs_match_a_depth", "shared_gradients"))
    _assert_fails(result, "drawn_every_call", "depth_fixed")


def test_e06_depth_drawn_once_in_init(grade):
    result = _result(grade, E06, e06(E06_LOOP.format(depth="self.depth"), init="""
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)
        self.depth = random.randint(0, 3)"""))
    _assert_fails(result, "drawn_every_call", "depth_at_init",
                  others_pass=("outputs_match_a_depth", "shared_gradients"))


def test_e06_depth_one_to_three(grade):
    result = _result(grade, E06, e06(E06_LOOP.format(depth="random.randint(1, 3)")))
    _assert_fails(result, "every_depth_drawn", "depth_range",
                  others_pass=("outputs_match_a_depth", "drawn_every_call"))
    assert "0: 0" in _check(result, "every_depth_drawn").feedback


def test_e06_depth_zero_to_four(grade):
    result = _result(grade, E06, e06(E06_LOOP.format(depth="random.randint(0, 4)")))
    _assert_fails(result, "outputs_match_a_depth", "depth_range")
    assert "depth 4" in _check(result, "outputs_match_a_depth").feedback


def test_e06_new_layer_in_forward(grade):
    result = _result(grade, E06, e06("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(nn.Linear(h.shape[1], h.shape[1])(h))
        return self.output_linear(h)"""))
    _assert_fails(result, "outputs_match_a_depth", "layer_in_forward",
                  others_pass=("shared_layers",))


def test_e06_relu_missing_after_middle(grade):
    result = _result(grade, E06, e06("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = self.middle_linear(h)
        return self.output_linear(h)"""))
    _assert_fails(result, "outputs_match_a_depth", "middle_relu_missing",
                  others_pass=("shared_layers", "drawn_every_call"))


def test_e06_copies_instead_of_sharing(grade):
    result = _result(grade, E06, e06("""
        h = torch.relu(self.input_linear(x))
        for i in range(random.randint(0, 3)):
            h = torch.relu(self.middles[i](h))
        return self.output_linear(h)""", init="""
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.middles = nn.ModuleList([nn.Linear(H, H) for _ in range(3)])
        self.output_linear = nn.Linear(H, D_out)"""))
    _assert_fails(result, "shared_layers", "extra_layers")
    _assert_fails(result, "outputs_match_a_depth", "extra_layers")


def test_e06_graph_cut(grade):
    result = _result(grade, E06, e06("""
        h = torch.relu(self.input_linear(x))
        with torch.no_grad():
            for _ in range(random.randint(0, 3)):
                h = torch.relu(self.middle_linear(h))
        return self.output_linear(h)"""))
    _assert_fails(result, "shared_gradients", "graph_cut",
                  others_pass=("outputs_match_a_depth", "every_depth_drawn", "drawn_every_call"))


def test_e06_wrong_sizes(grade):
    result = _result(grade, E06, e06(E06_LOOP.format(depth="random.randint(0, 3)"), init="""
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(D_out, H)"""))
    _assert_fails(result, "shared_layers", "swapped_sizes")
    _assert_fails(result, "outputs_match_a_depth", "swapped_sizes")


def test_e06_depths_are_inferred_for_other_seeds():
    """make_inputs keeps every depth's output clearly apart, whatever the seed."""
    for seed in range(40):
        inputs = e06_dynamic_net.make_inputs(seed)
        assert e06_inputs.separated(e06_inputs.weights_of(inputs), inputs["x"],
                                    inputs["upstream"])


def test_e04_gradient_at_zero_is_zero_or_upstream(grade):
    result = _result(grade, E04, e04_backward(
        "return grad_output * (input > 0).float() + 0.5 * grad_output * (input == 0).float()"))
    _assert_fails(result, "backward_values", others_pass=("gradcheck_float64",
                                                          "grad_output_untouched"))
    assert "exactly 0" in _check(result, "backward_values").feedback


# ====================================================================== issue 9: probes

SEEDS = (0, 1, 2, 77, 1234, 2**31 - 5)


def _is_power_of_two(value: int) -> bool:
    return value & (value - 1) == 0


@pytest.mark.parametrize("module", [e04_my_relu, e05_two_layer_net, e06_dynamic_net])
def test_every_input_changes_with_the_seed(module):
    """--seed changes every input (shapes of the large probes too): nothing is a constant
    a student could know in advance."""
    first, second = module.make_inputs(3), module.make_inputs(4)
    assert first.keys() == second.keys()
    for key in first:
        assert first[key].shape != second[key].shape or \
            not np.array_equal(first[key], second[key]), key
    shapes = {module.make_inputs(seed)[next(k for k in first if "large" in k and "x" in k)].shape
              for seed in SEEDS}
    assert len(shapes) > 1


@pytest.mark.parametrize("module, first, last", [
    (e05_inputs, "linear1", "linear2"),
    (e06_inputs, "input_linear", "output_linear")])
def test_large_probes_are_at_the_tutorial_sizes_or_larger(module, first, last):
    """N beyond any power of two a student might batch by, D_in >= 1000, H >= 100,
    D_out >= 10; no ReLU input within float32 rounding of 0 (so every correct answer's
    gradients match); for e06, every depth's output clearly apart from the others."""
    for seed in SEEDS:
        inputs = module.make_inputs(seed)
        sizes = module_inputs.sizes_of(inputs, module_inputs.LARGE, first, last)
        assert sizes["n"] > 64 and not _is_power_of_two(sizes["n"]), sizes
        assert sizes["d_in"] >= 1000 and sizes["h"] >= 100 and sizes["d_out"] >= 10, sizes
        weights = module.weights_of(inputs, module_inputs.LARGE)
        x = inputs[module_inputs.LARGE + "x"]
        steps = module.STEPS if module is e05_inputs else e06_inputs.steps(3)
        assert module_inputs.clear_of_kinks(x, steps, weights), seed
        if module is e06_inputs:
            assert e06_inputs.depths_apart(weights, x), seed


def test_e04_large_inputs_are_odd_sized_with_zeros_and_values_beside_zero():
    for seed in SEEDS:
        inputs = e04_my_relu.make_inputs(seed)
        big, odd = inputs["large_x_float32"], inputs["large_x_float64"]
        assert big.shape[0] > 64 and big.shape[1] >= 100 and odd.shape[0] % 2 == 1
        for x in (big, odd):
            assert not any(_is_power_of_two(n) for n in x.shape)
            assert np.sum(x == 0) >= 10 and np.sum((x != 0) & (np.abs(x) < 1e-2)) >= 30
            assert np.max(x) > 6   # a ReLU6 shows


# ====================================================================== issue 9: e06 statistics

def _binomial_tail(n: int, p: float, low: int, high: int) -> float:
    """P(X < low) + P(X > high) for X ~ Bin(n, p), exactly (in log space)."""
    from math import exp, lgamma, log, log1p
    total = 0.0
    for k in list(range(0, max(low, 0))) + list(range(high + 1, n + 1)):
        total += exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * log(p)
                     + (n - k) * log1p(-p))
    return total


def test_e06_statistics_fail_a_correct_model_less_than_once_in_a_billion_runs():
    """The union bound the module's docstring states, recomputed independently."""
    draws = e06_inputs.DRAWS
    least, most = e06_judges.binomial_bounds(draws, 1 / 4)
    counts = 4 * _binomial_tail(draws, 1 / 4, least, most)
    pair_least, _ = e06_judges.binomial_bounds(draws // 2, 1 / 16)
    pairs = 16 * _binomial_tail(draws // 2, 1 / 16, pair_least, draws // 2)
    constant = e06_inputs.INSTANCES * 4 * 0.25 ** e06_inputs.CALLS
    assert counts + pairs + constant < 1e-9, (counts, pairs, constant)
    # while a coin flip per layer (depths 0 and 3 at 1/8 each) is caught almost surely
    assert 1 - _binomial_tail(draws, 1 / 8, least, most) < 1e-6


E06_INIT = ("self.input_linear = nn.Linear(D_in, H)\nself.middle_linear = nn.Linear(H, H)\n"
            "self.output_linear = nn.Linear(H, D_out)")
E06_BUSY = "sum(i * i for i in range(6000))  # ~10x the reference's forward pass\n"


def test_e06_a_slow_model_gets_the_same_verdict(grader, tmp_path):
    """The depth statistics use a fixed number of draws: a correct model made about ten
    times slower (a fixed amount of work in forward, no clock) gets the same verdict,
    also when it seeds its own generator once, and so does a slow wrong one."""
    from conftest import write_submission
    from grader.loaders import load_paths

    models = {
        "global": (E06_LOOP.format(depth="random.randint(0, 3)"), ""),
        "own_generator": (E06_LOOP.format(depth="self.rng.randint(0, 3)"),
                          E06_INIT + "\nself.rng = random.Random(0)"),
        "coin_flips": ("""
            h = torch.relu(self.input_linear(x))
            for _ in range(3):
                if random.random() < 0.5:
                    h = torch.relu(self.middle_linear(h))
            return self.output_linear(h)""", ""),
    }
    submissions = []
    for name, (forward, init) in models.items():
        for speed, prefix in (("fast", ""), ("slow", E06_BUSY)):
            source = e06(prefix + _dedent(forward), init=init)
            directory = write_submission(tmp_path / f"{name}-{speed}", {f"{E06}.py": source})
            submissions.append(load_paths([directory], f"{name}-{speed}"))
    results = {r.id: exercise_result(r, E06) for r in grader.grade_many(submissions, [E06])}
    for name in models:
        fast, slow = results[f"{name}-fast"], results[f"{name}-slow"]
        assert [(c.name, c.status, c.score) for c in fast.checks] == \
            [(c.name, c.status, c.score) for c in slow.checks], name
        assert fast.full_marks == (name != "coin_flips"), [c.feedback for c in fast.checks]


def test_e06_own_generator_seeded_once_passes_reseeded_every_call_fails(grade):
    seeded_once = e06(E06_LOOP.format(depth="self.rng.randint(0, 3)"),
                      init=E06_INIT + "\nself.rng = random.Random(0)")
    _assert_full_marks(_result(grade, E06, seeded_once))
    reseeded = e06("random.seed(0)\n" + _dedent(E06_LOOP.format(depth="random.randint(0, 3)")))
    result = _result(grade, E06, reseeded)
    _assert_fails(result, "every_depth_drawn", "depth_fixed")
    _assert_fails(result, "drawn_every_call", "depth_fixed")


def test_e06_depth_from_a_counter_is_a_pattern(grade):
    result = _result(grade, E06, e06('self.calls = getattr(self, "calls", -1) + 1\n'
                                     + _dedent(E06_LOOP.format(depth="self.calls % 4"))))
    _assert_fails(result, "every_depth_drawn", "depth_pattern",
                  others_pass=("outputs_match_a_depth", "drawn_every_call", "large_batch"))
    assert "0\u21920: 0" in _check(result, "every_depth_drawn").feedback


# Each e04 misconception's mutant, written as a student would.
E04_MUTANTS = {
    "mask_missing": e04_backward("return grad_output"),
    "mask_inverted": e04_backward("""
        grad = grad_output.clone()
        grad[input > 0] = 0
        return grad"""),
    "mask_not_multiplied": e04_backward("return (input > 0).float()"),
    "relu_on_gradient": e04_backward("return grad_output.clamp(min=0)"),
}


@pytest.mark.parametrize("key", sorted(E04_MUTANTS))
def test_e04_each_misconception_lists_exactly_its_symptoms(grade, key):
    """A mutant is named only when the student matches it on every check it lists: the
    checks listed are exactly those the mutant's own code fails, and each names it."""
    declared = next(m for m in e04_my_relu.EXERCISE.misconceptions if m.key == key)
    result = _result(grade, E04, E04_MUTANTS[key])
    failing = {c.name for c in result.checks if c.status != "passed"}
    assert failing == set(declared.checks), (failing, declared.checks)
    for name in declared.checks:
        assert _check(result, name).misconception == key, (name, _check(result, name).feedback)
