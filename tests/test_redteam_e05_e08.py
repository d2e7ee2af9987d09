"""Red team for e05-e08: correct answers written the many ways students (and the PyTorch
tutorial, and chat assistants) write them get full marks; realistic bugs never do, and
where a misconception is declared for a bug, the feedback names it.

Each case grades one exercise file. A bug case lists checks that must fail, each with the
misconception it must name (None: any, or none). GPU checks are skipped without CUDA.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, exercise_result
from grader.checks import e05_two_layer_net, e06_dynamic_net, e07_training, e08_checkpoint
from grader.grading import Grader, Options
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

E05, E06, E07, E08 = "e05_two_layer_net", "e06_dynamic_net", "e07_training", "e08_checkpoint"
HEAD = ("import random\nimport numpy as np\nimport torch\nimport torch.nn as nn\n"
        "import torch.nn.functional as F\nfrom collections import OrderedDict\n"
        "import os\nfrom pathlib import Path\n\n")


def src(*parts: str) -> str:
    return HEAD + "\n\n".join(textwrap.dedent(p).strip("\n") + "\n" for p in parts)


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def graded(grade, exercise: str, text: str):
    return exercise_result(grade({f"{exercise}.py": text}), exercise)


def assert_full_marks(result):
    assert result.full_marks and result.max_score > 0, [
        (c.name, c.status, c.feedback) for c in result.checks
        if c.status not in ("passed", "skipped")]


def assert_caught(result, expected: dict[str, str | None]):
    assert not result.full_marks, result.name
    checks = {c.name: c for c in result.checks}
    for name, misconception in expected.items():
        check = checks[name]
        assert check.status in ("failed", "error"), (name, check.status, check.feedback)
        if misconception is not None:
            assert check.misconception == misconception, (name, check.misconception,
                                                          check.feedback)
            assert "Likely misconception" in check.feedback


# ====================================================================== e05

def net(init: str, forward: str, base: str = "nn.Module", signature: str = "D_in, H, D_out"):
    body = textwrap.indent(textwrap.dedent(init).strip("\n"), " " * 8)
    fwd = textwrap.indent(textwrap.dedent(forward).strip("\n"), " " * 8)
    return (f"class TwoLayerNet({base}):\n    def __init__(self, {signature}):\n{body}\n\n"
            f"    def forward(self, x):\n{fwd}\n")


INIT = """
super().__init__()
self.linear1 = nn.Linear(D_in, H)
self.linear2 = nn.Linear(H, D_out)
"""

E05_CORRECT = {
    # "Learning PyTorch with Examples", copied verbatim (docstrings and all)
    "tutorial_verbatim": src('''
        class TwoLayerNet(torch.nn.Module):
            def __init__(self, D_in, H, D_out):
                """
                In the constructor we instantiate two nn.Linear modules and assign them as
                member variables.
                """
                super(TwoLayerNet, self).__init__()
                self.linear1 = torch.nn.Linear(D_in, H)
                self.linear2 = torch.nn.Linear(H, D_out)

            def forward(self, x):
                """
                In the forward function we accept a Tensor of input data and we must return
                a Tensor of output data.
                """
                h_relu = self.linear1(x).clamp(min=0)
                y_pred = self.linear2(h_relu)
                return y_pred
        '''),
    "sequential_built_after_layers": src(net(INIT + "self.net = nn.Sequential(self.linear1, "
                                             "nn.ReLU(), self.linear2)", "return self.net(x)")),
    "sequential_built_first_then_aliased": src(net("""
        super().__init__()
        self.net = nn.Sequential(nn.Linear(D_in, H), nn.ReLU(), nn.Linear(H, D_out))
        self.linear1 = self.net[0]
        self.linear2 = self.net[2]""", "return self.net(x)")),
    "module_dict_then_aliased": src(net("""
        super().__init__()
        self.layers = nn.ModuleDict({"a": nn.Linear(D_in, H), "b": nn.Linear(H, D_out)})
        self.linear1, self.linear2 = self.layers["a"], self.layers["b"]""",
        "return self.linear2(F.relu(self.linear1(x)))")),
    "sequential_subclass_named_layers": src("""
        class TwoLayerNet(nn.Sequential):
            def __init__(self, D_in, H, D_out):
                super().__init__(OrderedDict(linear1=nn.Linear(D_in, H), relu=nn.ReLU(),
                                             linear2=nn.Linear(H, D_out)))
        """),
    "type_hints_keywords_reversed_order_relu_module": src("""
        class TwoLayerNet(nn.Module):
            def __init__(self, D_in: int, H: int, D_out: int) -> None:
                super().__init__()
                self.linear2: nn.Linear = nn.Linear(in_features=H, out_features=D_out, bias=True)
                self.relu = nn.ReLU(inplace=True)
                self.linear1: nn.Linear = nn.Linear(in_features=D_in, out_features=H, bias=True)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                hidden = self.linear1(x)
                hidden = self.relu(hidden)
                out = self.linear2(hidden)
                return out
        """),
    "where_and_maximum": src(net(INIT, """
        h = self.linear1(x)
        h = torch.where(h > 0, h, torch.zeros_like(h))
        h = torch.maximum(h, torch.tensor(0.0))
        return self.linear2(h)""")),
    "weights_by_hand_einsum": src(net(INIT, """
        h = (x @ self.linear1.weight.T + self.linear1.bias).relu()
        return torch.einsum("nh,oh->no", h, self.linear2.weight) + self.linear2.bias""")),
    "float64_inside": src(net("""
        super().__init__()
        self.linear1 = nn.Linear(D_in, H).double()
        self.linear2 = nn.Linear(H, D_out).double()""",
        "return self.linear2(F.relu(self.linear1(x.double())))")),
    "other_argument_names_and_dropout_zero": src(net("""
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.activation = nn.ReLU()
        self.linear2 = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(p=0.0)""", """
        x = self.activation(self.linear1(x))
        return self.linear2(self.dropout(x))""", signature="input_size, hidden_size, output_size")),
    "relu_in_place_and_twice": src(net(INIT, """
        h = self.linear1(x)
        F.relu(h, inplace=True)
        return self.linear2(torch.relu(h))""")),
    "lazy_linear": src(net("""
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.LazyLinear(D_out)""", "return self.linear2(F.relu(self.linear1(x)))")),
    "stored_sizes_view_clamp_min": src(net("""
        super().__init__()
        self.D_in = D_in
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)""", """
        x = x.float().view(-1, self.D_in)
        return self.linear2(self.linear1(x).clamp_min(0))""")),
}


@pytest.mark.parametrize("name", sorted(E05_CORRECT))
def test_e05_correct_variants(grade, name):
    assert_full_marks(graded(grade, E05, E05_CORRECT[name]))


def e05_forward(forward: str) -> str:
    return src(net(INIT, forward))


E05_BUGS = {
    "relu_before_linear1_too": (e05_forward("return self.linear2(F.relu(self.linear1(F.relu(x))))"),
                                {"forward_output": None, "gradients": None}),
    "linear2_reused": (e05_forward("return self.linear2(F.relu(self.linear2(F.relu(self.linear1(x)))))"),
                       {"forward_output": None}),
    "no_bias": (src(net(changed(INIT, "nn.Linear(D_in, H)", "nn.Linear(D_in, H, bias=False)"),
                        "return self.linear2(F.relu(self.linear1(x)))")),
                {"layers_registered": "bias_missing", "forward_output": "bias_missing"}),
    "softmax_at_the_end": (e05_forward("return F.softmax(self.linear2(F.relu(self.linear1(x))), dim=1)"),
                           {"forward_output": None}),
    "bias_added_twice": (e05_forward("return self.linear2(F.relu(self.linear1(x) + self.linear1.bias))"),
                         {"forward_output": None}),
    "dropout_in_forward": (e05_forward(
        "return self.linear2(F.dropout(F.relu(self.linear1(x)), 0.5, training=self.training))"),
        {"forward_output": "random_in_forward"}),
    "leaky_relu": (e05_forward("return self.linear2(F.leaky_relu(self.linear1(x)))"),
                   {"forward_output": None}),
    "relu_only_after_output": (e05_forward("return F.relu(self.linear2(self.linear1(x)))"),
                               {"forward_output": None}),
    "weight_detached": (e05_forward(
        "return self.linear2(F.relu(F.linear(x, self.linear1.weight.detach(), self.linear1.bias)))"),
        {"gradients": None}),
    "layer1_under_no_grad": (e05_forward("""
        with torch.no_grad():
            h = F.relu(self.linear1(x))
        return self.linear2(h)"""), {"gradients": None}),
    "extra_sequential_with_its_own_layers": (src(net(INIT + "self.net = nn.Sequential("
                                                     "nn.Linear(D_in, H), nn.ReLU(), "
                                                     "nn.Linear(H, D_out))",
                                                     "return self.net(x)")),
                                             {"layers_registered": None}),
}


@pytest.mark.parametrize("name", sorted(E05_BUGS))
def test_e05_bugs(grade, name):
    text, expected = E05_BUGS[name]
    assert_caught(graded(grade, E05, text), expected)


# ====================================================================== e06

def dyn(body: str, extra_init: str = "", init: str | None = None) -> str:
    init = init if init is not None else """
        super().__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)"""
    init = textwrap.dedent(init).strip("\n") + "\n" + textwrap.dedent(extra_init).strip("\n")
    return src("class DynamicNet(nn.Module):\n    def __init__(self, D_in, H, D_out):\n"
               + textwrap.indent(init.strip("\n"), " " * 8) + "\n\n    def forward(self, x):\n"
               + textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8) + "\n")


LOOP = """
h = torch.relu(self.input_linear(x))
for _ in range({depth}):
    h = torch.relu(self.middle_linear(h))
return self.output_linear(h)"""

E06_CORRECT = {
    # the older "Learning PyTorch with Examples" DynamicNet, verbatim
    "tutorial_verbatim": src('''
        class DynamicNet(torch.nn.Module):
            def __init__(self, D_in, H, D_out):
                """
                In the constructor we construct three nn.Linear instances that we will use
                in the forward pass.
                """
                super(DynamicNet, self).__init__()
                self.input_linear = torch.nn.Linear(D_in, H)
                self.middle_linear = torch.nn.Linear(H, H)
                self.output_linear = torch.nn.Linear(H, D_out)

            def forward(self, x):
                h_relu = self.input_linear(x).clamp(min=0)
                for _ in range(random.randint(0, 3)):
                    h_relu = self.middle_linear(h_relu).clamp(min=0)
                y_pred = self.output_linear(h_relu)
                return y_pred
        '''),
    "random_choice": dyn(LOOP.format(depth="random.choice([0, 1, 2, 3])")),
    "numpy_randint": dyn(LOOP.format(depth="np.random.randint(4)")),
    "torch_randint_item": dyn(LOOP.format(depth="torch.randint(0, 4, (1,)).item()")),
    "random_float_times_four": dyn(LOOP.format(depth="int(random.random() * 4)")),
    "numpy_generator_made_in_init": dyn(LOOP.format(depth="self.rng.integers(0, 4)"),
                                        "self.rng = np.random.default_rng()"),
    # seeding in __init__ makes every instance repeat the same draws: still uniform
    "torch_seeded_in_init": dyn(LOOP.format(depth="torch.randint(0, 4, (1,)).item()"),
                                "torch.manual_seed(0)"),
    "own_seeded_generator": dyn(LOOP.format(depth="self.rng.randint(0, 3)"),
                                "self.rng = random.Random(42)"),
    "while_loop_functional_relu": dyn("""
        h = F.relu(self.input_linear(x))
        n = random.randint(0, 3)
        i = 0
        while i < n:
            h = F.relu(self.middle_linear(h))
            i += 1
        return self.output_linear(h)"""),
    "if_chain": dyn("""
        h = F.relu(self.input_linear(x))
        depth = random.randint(0, 3)
        if depth >= 1:
            h = F.relu(self.middle_linear(h))
        if depth >= 2:
            h = F.relu(self.middle_linear(h))
        if depth >= 3:
            h = F.relu(self.middle_linear(h))
        return self.output_linear(h)"""),
    "list_of_layers_per_call": dyn("""
        layers = [self.input_linear] + [self.middle_linear] * random.randint(0, 3)
        h = x
        for layer in layers:
            h = F.relu(layer(h))
        return self.output_linear(h)"""),
    "module_list_first_then_aliased": dyn(LOOP.format(depth="random.randint(0, 3)"), init="""
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(D_in, H), nn.Linear(H, H), nn.Linear(H, D_out)])
        self.input_linear, self.middle_linear, self.output_linear = self.layers"""),
    "shared_block_sequential": dyn("""
        h = self.act(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = self.block(h)
        return self.output_linear(h)""", """
        self.act = nn.ReLU()
        self.block = nn.Sequential(self.middle_linear, nn.ReLU())"""),
    "relu_before_each_middle": dyn("""
        h = self.input_linear(x)
        for _ in range(random.randint(0, 3)):
            h = self.middle_linear(torch.relu(h))
        return self.output_linear(torch.relu(h))"""),
    "os_entropy": dyn(LOOP.format(depth="__import__('secrets').randbelow(4)")),
}


@pytest.mark.parametrize("name", sorted(E06_CORRECT))
def test_e06_correct_variants(grade, name):
    assert_full_marks(graded(grade, E06, E06_CORRECT[name]))


E06_BUGS = {
    "depth_fixed": (dyn(LOOP.format(depth="2")),
                    {"every_depth_drawn": "depth_fixed", "drawn_every_call": "depth_fixed"}),
    "depth_drawn_in_init": (dyn(LOOP.format(depth="self.depth"),
                                "self.depth = random.randint(0, 3)"),
                            {"drawn_every_call": "depth_at_init"}),
    "no_relu_after_middle": (dyn("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = self.middle_linear(h)
        return self.output_linear(h)"""), {"outputs_match_a_depth": "middle_relu_missing"}),
    "randint_0_2": (dyn(LOOP.format(depth="random.randint(0, 2)")),
                    {"every_depth_drawn": "depth_range"}),
    "randint_minus_one": (dyn(LOOP.format(depth="random.randint(0, 3) - 1")),
                          {"every_depth_drawn": "depth_range"}),
    "randint_plus_one": (dyn(LOOP.format(depth="random.randint(0, 3) + 1")),
                         {"outputs_match_a_depth": "depth_range"}),
    "new_linear_every_call": (dyn("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(nn.Linear(h.shape[1], h.shape[1])(h))
        return self.output_linear(h)"""), {"outputs_match_a_depth": "layer_in_forward"}),
    # a coin flip per layer: depths 1 and 2 come up three times as often as 0 and 3
    "coin_flip_per_layer": (dyn("""
        h = torch.relu(self.input_linear(x))
        for _ in range(3):
            if random.random() < 0.5:
                h = torch.relu(self.middle_linear(h))
        return self.output_linear(h)"""), {"every_depth_drawn": "depth_not_uniform"}),
    "reseeded_in_forward": (dyn("random.seed(0)\n" + LOOP.format(depth="random.randint(0, 3)")),
                            {"drawn_every_call": "depth_fixed"}),
    "copy_of_middle_each_call": (dyn("""
        import copy
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(copy.deepcopy(self.middle_linear)(h))
        return self.output_linear(h)"""), {"shared_gradients": "graph_cut"}),
    "separate_middle_layers": (dyn("""
        h = torch.relu(self.input_linear(x))
        for i in range(random.randint(0, 3)):
            h = torch.relu(self.middles[i](h))
        return self.output_linear(h)""", "self.middles = nn.ModuleList([nn.Linear(H, H) "
                                         "for _ in range(3)])"),
        {"shared_layers": "extra_layers"}),
    "residual_added": (dyn("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(self.middle_linear(h)) + h
        return self.output_linear(h)"""), {"outputs_match_a_depth": None}),
    "output_without_bias": (dyn(LOOP.format(depth="random.randint(0, 3)"), init="""
        super().__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out, bias=False)"""),
        {"shared_layers": "bias_missing", "outputs_match_a_depth": "bias_missing"}),
    "three_cached_depths_cycled": (dyn("""
        if not hasattr(self, "depths"):
            self.depths = [random.randint(0, 3) for _ in range(3)]
        self.calls = getattr(self, "calls", -1) + 1
        h = torch.relu(self.input_linear(x))
        for _ in range(self.depths[self.calls % 3]):
            h = torch.relu(self.middle_linear(h))
        return self.output_linear(h)"""), {"every_depth_drawn": None}),
}


@pytest.mark.parametrize("name", sorted(E06_BUGS))
def test_e06_bugs(grade, name):
    text, expected = E06_BUGS[name]
    assert_caught(graded(grade, E06, text), expected)


def test_e06_newer_tutorial_dynamic_net_is_explained(grade):
    """The newer tutorial's DynamicNet is a polynomial: the feedback says it is another model."""
    result = graded(grade, E06, src('''
        import math

        class DynamicNet(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Parameter(torch.randn(()))
                self.b = torch.nn.Parameter(torch.randn(()))
                self.c = torch.nn.Parameter(torch.randn(()))
                self.d = torch.nn.Parameter(torch.randn(()))
                self.e = torch.nn.Parameter(torch.randn(()))

            def forward(self, x):
                y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
                for exp in range(4, random.randint(4, 6)):
                    y = y + self.e * x ** exp
                return y
        '''))
    assert result.score == 0
    for check in result.checks:
        assert check.status == "failed", (check.name, check.status)
        assert "DynamicNet(D_in, H, D_out)" in check.feedback
        assert "newer PyTorch tutorial" in check.feedback


# ====================================================================== e07

TRAIN = """
def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
    model.train()
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
"""

EVALUATE = """
def evaluate(model, x, y):
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        return F.mse_loss(model(x.to(device)), y.to(device), reduction="sum").item()
"""

PICK = """
def pick_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""


def e07(train: str = TRAIN, evaluate: str = EVALUATE, pick: str = PICK) -> str:
    return src(train, evaluate, pick)


E07_CORRECT = {
    "zero_grad_at_the_end_set_to_none": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            criterion = nn.MSELoss(reduction='sum')
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
            dev = next(model.parameters()).device
            x = x.to(dev); y = y.to(dev)
            losses = []
            for t in range(steps):
                y_pred = model(x)
                loss = criterion(y_pred, y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                optimizer.zero_grad(set_to_none=True)
            return losses
        """),
    "tutorial_style_no_device_no_train_mode": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            loss_fn = torch.nn.MSELoss(reduction='sum')
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
            losses = []
            for t in range(steps):
                y_pred = model(x)
                loss = loss_fn(y_pred, y)
                if t % 100 == 99:
                    print(t, loss.item())
                losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            return losses
        """, evaluate="""
        def evaluate(model, x, y):
            model.eval()
            with torch.inference_mode():
                loss = ((model(x) - y) ** 2).sum()
            return float(loss)
        """),
    "model_zero_grad_retain_graph_positional_sgd": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            device = model.linear1.weight.device
            x, y = x.to(device), y.to(device)
            opt = torch.optim.SGD(model.parameters(), learning_rate, momentum)
            out = []
            for _ in range(steps):
                model.zero_grad()
                loss = F.mse_loss(model(x), y, reduction="sum")
                loss.backward(retain_graph=True)
                opt.step()
                out.append(float(loss))
            return out
        """, evaluate="""
        @torch.inference_mode()
        def evaluate(model, x, y):
            was = model.training
            model.eval()
            device = next(model.parameters()).device
            value = torch.sum((model(x.to(device)) - y.to(device)) ** 2).item()
            model.train(was)
            return value
        """),
    "momentum_by_hand": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            buffers = [torch.zeros_like(p) for p in model.parameters()]
            losses = []
            for _ in range(steps):
                loss = (model(x) - y).pow(2).sum()
                losses.append(loss.item())
                for p in model.parameters():
                    p.grad = None
                loss.backward()
                with torch.no_grad():
                    for p, b in zip(model.parameters(), buffers):
                        b.mul_(momentum).add_(p.grad)
                        p -= learning_rate * b
            return losses
        """),
    "loss_item_after_step_numpy_evaluate": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
            loss_fn = torch.nn.MSELoss(reduction="sum")
            history = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                history.append(loss.item())
            return [float(v) for v in np.array(history)]
        """, evaluate="""
        def evaluate(model, x, y):
            model.eval()
            with torch.inference_mode():
                return np.float64(F.mse_loss(model(x), y, reduction="sum").item())
        """, pick="""
        def pick_device():
            if torch.cuda.is_available():
                return torch.device("cuda:0")
            elif torch.backends.mps.is_available():
                return torch.device("mps")
            return torch.device("cpu")
        """),
    "old_size_average_false": e07(train=changed(TRAIN, 'torch.nn.MSELoss(reduction="sum")',
                                                "torch.nn.MSELoss(size_average=False)")),
    "closure_step": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
            def closure():
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y, reduction="sum")
                loss.backward()
                return loss
            return [optimizer.step(closure).item() for _ in range(steps)]
        """),
    "float64_loss_while_loop": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
            losses, step = [], 0
            while step < steps:
                pred = model(x.to(next(model.parameters()).device))
                loss = torch.sum((pred.double() - y.double()) ** 2)
                optimizer.zero_grad(set_to_none=False)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                step += 1
            return losses
        """, evaluate="""
        def evaluate(model, x, y):
            model.eval()
            with torch.no_grad(), torch.inference_mode():
                return torch.nn.MSELoss(reduction="sum")(model(x), y).item()
        """),
    "device_count_and_imported_is_available": e07(pick="""
        from torch.cuda import is_available as cuda_ok

        def pick_device() -> torch.device:
            if cuda_ok() and torch.cuda.device_count() > 0:
                return torch.device("cuda")
            return torch.device("cpu")
        """),
    # CUDA calls that are harmless on a GPU are not taken for device mistakes without one
    "synchronize_when_cuda_numpy_float64_losses": e07(train=changed(changed(
        TRAIN, "        optimizer.step()\n",
        "        optimizer.step()\n        if torch.cuda.is_available():\n"
        "            torch.cuda.synchronize()\n"),
        "losses.append(loss.item())", "losses.append(np.float64(loss.item()))")),
    "device_chosen_at_import": e07(pick="""
        DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

        def pick_device():
            return DEVICE
        """),
    "device_cached": e07(pick="""
        import functools

        @functools.lru_cache(maxsize=None)
        def pick_device():
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        """),
    "device_with_index_and_accelerator_api": e07(pick="""
        def pick_device():
            if torch.cuda.is_available():
                return torch.device("cuda", torch.cuda.current_device())
            acc = torch.accelerator.current_accelerator(check_available=True)
            return acc if acc is not None else torch.device("cpu")
        """),
}


@pytest.mark.parametrize("name", sorted(E07_CORRECT))
def test_e07_correct_variants(grade, name):
    assert_full_marks(graded(grade, E07, E07_CORRECT[name]))


TRAIN_CHECKS = ("train_losses", "train_momentum", "train_weights")

E07_BUGS = {
    "no_zero_grad": (e07(train=changed(TRAIN, "        optimizer.zero_grad()\n", "")),
                     dict.fromkeys(TRAIN_CHECKS, "grads_accumulate")),
    "zero_grad_after_backward": (
        e07(train=changed(TRAIN, "        optimizer.zero_grad()\n        loss.backward()\n",
                          "        loss.backward()\n        optimizer.zero_grad()\n")),
        dict.fromkeys(TRAIN_CHECKS, "no_update")),
    "optimizer_created_in_loop": (
        e07(train=changed(TRAIN, "        loss = loss_fn(model(x), y)\n",
                          "        optimizer = torch.optim.SGD(model.parameters(), "
                          "lr=learning_rate, momentum=momentum)\n"
                          "        loss = loss_fn(model(x), y)\n")),
        {"train_momentum": "momentum_lost"}),
    "learning_rate_ignored": (e07(train=changed(TRAIN, "lr=learning_rate", "lr=1e-4")),
                              dict.fromkeys(TRAIN_CHECKS, "ignores_learning_rate")),
    "momentum_ignored": (e07(train=changed(TRAIN, ", momentum=momentum)", ")")),
                         {"train_momentum": "momentum_lost"}),
    "momentum_hard_coded": (e07(train=changed(TRAIN, "momentum=momentum)", "momentum=0.9)")),
                            {"train_losses": None}),
    "losses_as_tensors": (e07(train=changed(TRAIN, "losses.append(loss.item())",
                                            "losses.append(loss)")),
                          {"losses_are_floats": "losses_keep_graph"}),
    "loss_measured_after_the_step": (
        e07(train=changed(changed(TRAIN, "        losses.append(loss.item())\n", ""),
                          "        optimizer.step()\n",
                          "        optimizer.step()\n"
                          "        losses.append(loss_fn(model(x), y).item())\n")),
        {"train_losses": "loss_after_update"}),
    "step_before_backward": (
        e07(train=changed(TRAIN, "        loss.backward()\n        optimizer.step()\n",
                          "        optimizer.step()\n        loss.backward()\n")),
        dict.fromkeys(TRAIN_CHECKS, "no_update")),
    "nesterov": (e07(train=changed(TRAIN, "momentum=momentum)",
                                   "momentum=momentum, nesterov=momentum > 0)")),
                 {"train_momentum": None}),
    "evaluate_without_inference_mode": (
        e07(evaluate=changed(EVALUATE, "    with torch.inference_mode():\n        return",
                             "    if True:\n        return")),
        {"evaluate_inference_mode": None}),
    "evaluate_in_training_mode": (e07(evaluate=changed(EVALUATE, "    model.eval()\n", "")),
                                  {"evaluate_eval_mode": "evaluate_no_eval"}),
    "evaluate_runs_backward": (e07(evaluate="""
        def evaluate(model, x, y):
            model.eval()
            loss = F.mse_loss(model(x), y, reduction="sum")
            loss.backward()
            return loss.item()
        """), {"evaluate_leaves_model": None}),
    "evaluate_zeroes_gradients": (e07(evaluate="""
        def evaluate(model, x, y):
            model.eval()
            with torch.inference_mode():
                loss = F.mse_loss(model(x), y, reduction="sum")
            model.zero_grad()
            return loss.item()
        """), {"evaluate_leaves_model": None}),
    # right on a machine without CUDA, wrong on one with it: graded the same everywhere
    "pick_device_always_cpu": (e07(pick="def pick_device():\n    return torch.device('cpu')\n"),
                               {"device_choice": None}),
    "pick_device_always_cuda": (e07(pick="def pick_device():\n    return torch.device('cuda')\n"),
                                {"device_choice": None}),
    "data_sent_to_pick_device": (
        e07(train=changed(TRAIN, "    device = next(model.parameters()).device\n",
                          "    device = pick_device()\n")),
        {"device_choice": "device_not_from_model"}),
    "model_and_data_sent_to_pick_device": (
        e07(train=changed(TRAIN, "    device = next(model.parameters()).device\n",
                          "    device = pick_device()\n    model.to(device)\n")),
        {"device_choice": "device_not_from_model"}),
    "cuda_when_available": (
        e07(train=changed(TRAIN, "    x, y = x.to(device), y.to(device)\n",
                          "    if torch.cuda.is_available():\n        x, y = x.cuda(), y.cuda()\n")),
        {"device_choice": "device_not_from_model"}),
}


@pytest.mark.parametrize("name", sorted(E07_BUGS))
def test_e07_bugs(grade, name):
    text, expected = E07_BUGS[name]
    assert_caught(graded(grade, E07, text), expected)


def test_e07_hard_coded_device_feedback(grade):
    result = graded(grade, E07, E07_BUGS["pick_device_always_cpu"][0])
    check = next(c for c in result.checks if c.name == "device_choice")
    assert "same device with CUDA and without" in check.feedback


def test_e07_cuda_simulation_leaves_torch_as_it_was():
    """The device probe swaps torch's CUDA queries only while it asks, and puts them back."""
    code = textwrap.dedent("""
        import torch
        from grader.checks.e07_training import probes
        before = (torch.cuda.is_available(), torch.cuda.device_count(),
                  torch.accelerator.current_accelerator())
        code = torch.cuda.is_available.__code__
        with probes._cuda_reported(not before[0]):
            assert torch.cuda.is_available() is (not before[0])
            assert torch.cuda.device_count() == int(not before[0])
            assert (torch.accelerator.current_accelerator() is None) is before[0]
        assert torch.cuda.is_available.__code__ is code
        assert (torch.cuda.is_available(), torch.cuda.device_count(),
                torch.accelerator.current_accelerator()) == before
        """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ====================================================================== e08

SAVE = """
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": int(epoch)}, path)
"""

LOAD = """
def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    return int(checkpoint["epoch"])
"""


def e08(save: str = SAVE, load: str = LOAD) -> str:
    return src(save, load)


E08_CORRECT = {
    "pytorch_docs_recipe": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({
                'epoch': epoch,
                'model_state_dict': model.state_dict(),
                'optimizer_state_dict': optimizer.state_dict(),
            }, path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            checkpoint = torch.load(path, weights_only=True)
            model.load_state_dict(checkpoint['model_state_dict'])
            if optimizer is not None:
                optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
            epoch = checkpoint['epoch']
            model.train()
            return epoch
        """),
    "tuple_and_fspath_default_load": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save((model.state_dict(), optimizer.state_dict(), epoch), os.fspath(path))
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            model_state, opt_state, epoch = torch.load(os.fspath(path), map_location=map_location)
            model.load_state_dict(model_state)
            if optimizer:
                optimizer.load_state_dict(opt_state)
            return epoch
        """),
    "list_pathlib_device_map_location_model_to": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save([epoch, model.state_dict(), optimizer.state_dict()], path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            epoch, model_state, optimizer_state = torch.load(
                Path(path), map_location=torch.device(map_location), weights_only=True)
            model.load_state_dict(model_state, strict=True)
            if optimizer is not None:
                optimizer.load_state_dict(optimizer_state)
            model.to(map_location)
            return int(epoch)
        """),
    # os.makedirs(os.path.dirname(path)) fails on a bare file name: the grader gives full paths
    "makedirs_of_dirname": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, path)
        """),
    "atomic_replace": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            tmp = str(path) + ".tmp"
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, tmp)
            os.replace(tmp, path)
        """),
    "state_dict_keep_vars": e08(save=changed(SAVE, "model.state_dict()",
                                             "model.state_dict(keep_vars=True)")),
    "legacy_serialization": e08(save=changed(SAVE, "}, path)",
                                             "}, path, _use_new_zipfile_serialization=False)")),
    "deep_copies_file_objects_strict_false_checked": e08(save="""
        import copy

        def save_checkpoint(path, model, optimizer, epoch):
            state = {"model": copy.deepcopy(model.state_dict()),
                     "optimizer": copy.deepcopy(optimizer.state_dict()), "epoch": epoch,
                     "extra": {"note": "hello", "lr": 0.003}}
            with open(path, "wb") as f:
                torch.save(state, f)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            with open(path, "rb") as f:
                state = torch.load(f, map_location=map_location, weights_only=True)
            missing, unexpected = model.load_state_dict(state["model"], strict=False)
            assert not missing and not unexpected
            if optimizer is not None and "optimizer" in state:
                optimizer.load_state_dict(state["optimizer"])
            return state.get("epoch", 0)
        """),
    "parameters_copied_in_place": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"params": {k: v.detach().clone() for k, v in model.named_parameters()},
                        "optim": optimizer.state_dict(), "epoch": epoch}, path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            ck = torch.load(path, map_location=map_location, weights_only=True)
            with torch.no_grad():
                for name, p in model.named_parameters():
                    p.copy_(ck["params"][name])
            if optimizer is not None:
                optimizer.load_state_dict(ck["optim"])
            return ck["epoch"]
        """),
    "optimizer_restored_first_str_path": e08(load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            checkpoint = torch.load(str(path), map_location=map_location, weights_only=True)
            if optimizer is not None:
                optimizer.load_state_dict(checkpoint["optimizer"])
            model.load_state_dict(checkpoint["model"])
            return checkpoint["epoch"]
        """),
    "unclosed_file_handle": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, open(path, "wb"))
        """),
}


@pytest.mark.parametrize("name", sorted(E08_CORRECT))
def test_e08_correct_variants(grade, name):
    assert_full_marks(graded(grade, E08, E08_CORRECT[name]))


RESUME_CHECKS = ("resume_model", "resume_training", "path_like", "optimizer_optional")

E08_BUGS = {
    "optimizer_state_not_saved": (
        e08(save=changed(SAVE, '"optimizer": optimizer.state_dict(),', ""),
            load=changed(LOAD, 'optimizer.load_state_dict(checkpoint["optimizer"])', "pass")),
        {"resume_training": "optimizer_state_missing"}),
    "optimizer_state_saved_not_restored": (
        e08(load=changed(LOAD, 'optimizer.load_state_dict(checkpoint["optimizer"])', "pass")),
        {"resume_training": "optimizer_state_missing"}),
    "new_optimizer_built_in_load": (e08(load=changed(
        LOAD, '        optimizer.load_state_dict',
        "        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)\n"
        "        optimizer.load_state_dict")),
        {"resume_training": "optimizer_state_missing"}),
    "model_pickled": (
        e08(save=changed(SAVE, '{"model": model.state_dict()', '{"model": model'),
            load=changed(changed(LOAD, "weights_only=True", "weights_only=False"),
                         'checkpoint["model"])', 'checkpoint["model"].state_dict())')),
        {"weights_only_file": "pickled_model"}),
    "optimizer_pickled": (
        e08(save=changed(SAVE, '"optimizer": optimizer.state_dict()', '"optimizer": optimizer'),
            load=changed(changed(LOAD, "weights_only=True", "weights_only=False"),
                         'load_state_dict(checkpoint["optimizer"])',
                         'load_state_dict(checkpoint["optimizer"].state_dict())')),
        {"weights_only_file": "pickled_model"}),
    "epoch_plus_one_returned": (
        e08(load=changed(LOAD, 'return int(checkpoint["epoch"])',
                         'return int(checkpoint["epoch"]) + 1')), {"returns_epoch": None}),
    "next_epoch_saved": (e08(save=changed(SAVE, '"epoch": int(epoch)', '"epoch": epoch + 1')),
                         {"returns_epoch": None}),
    "state_dict_updated_not_loaded": (e08(load=changed(
        LOAD, 'model.load_state_dict(checkpoint["model"])',
        'model.state_dict().update(checkpoint["model"])')),
        dict.fromkeys(RESUME_CHECKS, "load_not_in_place")),
    "strict_false_on_the_whole_checkpoint": (e08(load=changed(
        LOAD, 'model.load_state_dict(checkpoint["model"])',
        "model.load_state_dict(checkpoint, strict=False)")),
        dict.fromkeys(RESUME_CHECKS, "load_not_in_place")),
    "loads_into_a_copy": (e08(load=changed(
        LOAD, '    model.load_state_dict(checkpoint["model"])\n',
        '    import copy\n    model = copy.deepcopy(model)\n'
        '    model.load_state_dict(checkpoint["model"])\n')),
        dict.fromkeys(RESUME_CHECKS, "load_not_in_place")),
    "saved_to_another_path": (
        e08(save=changed(SAVE, "}, path)", '}, "checkpoint.pth")'),
            load=changed(LOAD, "torch.load(path,", 'torch.load("checkpoint.pth",')),
        {"weights_only_file": None}),
    "suffix_appended": (
        e08(save=changed(SAVE, "}, path)", '}, str(path) + ".pt")'),
            load=changed(LOAD, "torch.load(path,", 'torch.load(str(path) + ".pt",')),
        {"weights_only_file": None}),
    "parameters_rebound_not_copied": (e08(load=changed(
        LOAD, '    model.load_state_dict(checkpoint["model"])\n',
        '    for name, p in model.named_parameters():\n'
        '        p = checkpoint["model"][name]\n')),
        dict.fromkeys(RESUME_CHECKS, "load_not_in_place")),
    "checkpoint_kept_in_memory": (e08(save="""
        _CACHE = {}

        def save_checkpoint(path, model, optimizer, epoch):
            checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "epoch": epoch}
            _CACHE[os.fspath(path)] = checkpoint
            torch.save(checkpoint, path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            checkpoint = _CACHE.get(os.fspath(path)) or torch.load(path, weights_only=True)
            model.load_state_dict(checkpoint["model"])
            if optimizer is not None:
                optimizer.load_state_dict(checkpoint["optimizer"])
            return checkpoint["epoch"]
        """), {"resume_model": "live_state", "resume_training": None}),
    "map_location_not_accepted": (e08(load=changed(
        LOAD, 'optimizer=None, map_location="cpu"):\n    checkpoint = torch.load(path, '
              'map_location=map_location,', 'optimizer=None):\n    checkpoint = '
                                             'torch.load(path,')),
        {"path_like": None}),
    "model_restored_only_with_an_optimizer": (e08(load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
            if optimizer is None:
                return int(checkpoint["epoch"])
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            return int(checkpoint["epoch"])
        """), {"optimizer_optional": "model_only_with_optimizer"}),
}


@pytest.mark.parametrize("name", sorted(E08_BUGS))
def test_e08_bugs(grade, name):
    text, expected = E08_BUGS[name]
    assert_caught(graded(grade, E08, text), expected)


# ====================================================================== other seeds

@pytest.fixture(scope="module")
def seeded_graders():
    exercises = collect_exercises(plugin_manager())
    made = []
    for seed in (7, 2**31 - 5):
        options = Options(seed=seed, jobs=2, limits=Limits(timeout=5.0), timeout_given=True,
                          only=(E05, E06, E07, E08))
        made.append(Grader(exercises, options))
    yield made
    for grader in made:
        grader.close()


SEED_CASES = {
    E05: (["tutorial_verbatim", "sequential_built_first_then_aliased", "lazy_linear"],
          ["no_bias", "dropout_in_forward"], E05_CORRECT, E05_BUGS),
    E06: (["tutorial_verbatim", "torch_seeded_in_init", "numpy_randint"],
          ["coin_flip_per_layer", "randint_0_2", "depth_drawn_in_init"], E06_CORRECT, E06_BUGS),
    E07: (["zero_grad_at_the_end_set_to_none", "momentum_by_hand"],
          ["pick_device_always_cpu", "data_sent_to_pick_device", "no_zero_grad"],
          E07_CORRECT, E07_BUGS),
    E08: (["pytorch_docs_recipe", "makedirs_of_dirname"],
          ["optimizer_state_not_saved", "checkpoint_kept_in_memory"], E08_CORRECT, E08_BUGS),
}


def test_verdicts_do_not_depend_on_the_seed(seeded_graders, tmp_path):
    from conftest import write_submission
    from grader.loaders import load_paths

    count = 0
    for grader in seeded_graders:
        for exercise, (good, bad, correct, bugs) in SEED_CASES.items():
            for name in good + bad:
                text = correct[name] if name in good else bugs[name][0]
                directory = write_submission(tmp_path / f"s{count}", {f"{exercise}.py": text})
                count += 1
                result = exercise_result(grader.grade(load_paths([directory], directory.name)),
                                         exercise)
                if name in good:
                    assert_full_marks(result)
                else:
                    assert_caught(result, bugs[name][1])


# ====================================================================== catalogues

@pytest.mark.parametrize("module", [e05_two_layer_net, e06_dynamic_net, e07_training,
                                    e08_checkpoint])
def test_every_misconception_named_has_a_message(module):
    import ast
    import inspect
    from pathlib import Path

    from grader.checks.modules import judges as module_judges

    exercise = module.EXERCISE
    # every module of the exercise's package (its judges name the misconceptions)
    sources = [path.read_text() for path in sorted(Path(module.__file__).parent.glob("*.py"))]
    if module in (e05_two_layer_net, e06_dynamic_net):
        sources.append(inspect.getsource(module_judges))
    named = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                named |= {k.value.value for k in node.keywords if k.arg == "misconception"
                          and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                named.add(node.value.value)   # helpers that return a misconception's key
    assert named
    for key in named:
        assert key in exercise.texts_by_key(), key
        assert all(exercise.texts_by_key()[key].get(lang) for lang in ("en", "ko")), key
