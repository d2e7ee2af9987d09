"""Issue 9 red team for e04-e06: submissions nobody graded before the probes were widened.

Correct answers written in unusual ways (float64 or float32 inside, einsum, addmm, chunked
forward passes, a model that seeds its own generator, a slow model) must get full marks on
their exercise; subtle bugs that small, fixed probes let through (a threshold near 0,
ReLU6, a slice to the tutorial's N=64, mini-batches that drop the last rows, half
precision, a small dropout, a depth that cycles, a generator reseeded on every call) must
not, and name their misconception where one is declared.

Every case is graded on the default seed and on another one. No assertion here depends on
how long anything takes: the slow model is slow by a fixed amount of work.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import TEST_TIMEOUT, exercise_result, write_submission
from grader.grading import Grader, Options
from grader.loaders import load_paths
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

E04, E05, E06 = "e04_my_relu", "e05_two_layer_net", "e06_dynamic_net"
ANY = None   # the check must fail; which misconception (if any) is not asserted

HEAD = ("import random\nimport numpy as np\nimport torch\nimport torch.nn as nn\n"
        "import torch.nn.functional as F\n\n")


def src(text: str) -> str:
    return HEAD + textwrap.dedent(text).strip("\n") + "\n"


# ====================================================================== e04

def relu(backward: str, forward: str = "ctx.save_for_backward(input)\nreturn input.clamp(min=0)",
         head: str = "") -> str:
    def body(block):
        return textwrap.indent(textwrap.dedent(block).strip("\n"), " " * 8)
    return (HEAD + head + "\nclass MyReLU(torch.autograd.Function):\n    @staticmethod\n"
            "    def forward(ctx, input):\n" + body(forward) + "\n\n    @staticmethod\n"
            "    def backward(ctx, grad_output):\n        (input,) = ctx.saved_tensors\n"
            + body(backward) + "\n\n\nmy_relu = MyReLU.apply\n")


E04_CORRECT = {
    "float64_inside": relu(
        "return (grad_output.double() * (input.double() > 0)).to(grad_output.dtype)"),
    # the contract allows float32 arithmetic inside, also on a float64 input
    "float32_inside": relu(
        "return (grad_output.float() * (input > 0).float()).to(grad_output.dtype)"),
    "einsum_mask": relu(
        'return torch.einsum("...,...->...", grad_output, (input > 0).to(grad_output.dtype))'),
    "abs_trick_forward_where_ge": relu(
        "return torch.where(input >= 0, grad_output, torch.zeros_like(grad_output))",
        forward="ctx.save_for_backward(input)\nreturn (input + input.abs()) / 2"),
}

E04_BUGS = {
    # "numerical safety": the gradient of ReLU at 0.0005 is 1, not 0
    "threshold_near_zero": (relu("""
        grad_input = grad_output.clone()
        grad_input[input < 1e-3] = 0
        return grad_input"""), {"large_inputs": ANY}),
    # ReLU6 (F.relu6) is another function: max(x, 0) has no upper clip
    "relu6": (relu("return grad_output * ((input > 0) & (input < 6))",
                   forward="ctx.save_for_backward(input)\nreturn input.clamp(0, 6)"),
              {"large_inputs": ANY}),
    # the tutorial's batch size kept as a constant
    "slice_to_tutorial_batch": (relu("""
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input[:N]""", head="N = 64\n"), {"large_inputs": ANY}),
    "mask_missing_also_on_large_inputs": (relu("return grad_output"),
                                          {"backward_values": "mask_missing",
                                           "large_inputs": "mask_missing"}),
}


# ====================================================================== e05

def two_layer(forward: str, init: str = "", head: str = "") -> str:
    init = init or ("self.linear1 = nn.Linear(D_in, H)\n"
                    "self.linear2 = nn.Linear(H, D_out)")
    return (HEAD + head + "\nclass TwoLayerNet(nn.Module):\n    def __init__(self, D_in, H, D_out):\n"
            "        super().__init__()\n" + textwrap.indent(textwrap.dedent(init).strip("\n"),
                                                            " " * 8)
            + "\n\n    def forward(self, x):\n"
            + textwrap.indent(textwrap.dedent(forward).strip("\n"), " " * 8) + "\n")


E05_CORRECT = {
    "float64_einsum_inside": two_layer("""
        w1, b1 = self.linear1.weight.double(), self.linear1.bias.double()
        w2, b2 = self.linear2.weight.double(), self.linear2.bias.double()
        h = torch.einsum("ni,hi->nh", x.double(), w1) + b1
        return (torch.einsum("nh,oh->no", h.clamp(min=0), w2) + b2).float()"""),
    "addmm": two_layer("""
        h = torch.addmm(self.linear1.bias, x, self.linear1.weight.t()).relu()
        return torch.addmm(self.linear2.bias, h, self.linear2.weight.t())"""),
    "chunks_of_32": two_layer("""
        parts = [self.linear2(F.relu(self.linear1(chunk))) for chunk in torch.split(x, 32)]
        return torch.cat(parts)"""),
}

E05_BUGS = {
    # mini-batches of 32 that drop the last, incomplete one (DataLoader's drop_last=True)
    "batches_drop_last": (two_layer("""
        size = min(32, len(x))
        parts = [self.linear2(F.relu(self.linear1(x[i * size:(i + 1) * size])))
                 for i in range(len(x) // size)]
        return torch.cat(parts)"""), {"large_batch": ANY}),
    "slice_to_tutorial_batch": (two_layer("return self.linear2(F.relu(self.linear1(x)))[:N]",
                                          head="N = 64\n"), {"large_batch": ANY}),
    "half_precision": (two_layer("""
        h = F.linear(x.half(), self.linear1.weight.half(), self.linear1.bias.half()).relu()
        return F.linear(h, self.linear2.weight.half(), self.linear2.bias.half()).float()"""),
        {"large_batch": ANY}),
    # a "leaky" ReLU with a tiny slope: off by 0.1% of the negative pre-activations
    "leaky_relu_tiny_slope": (two_layer(
        "return self.linear2(F.leaky_relu(self.linear1(x), 1e-3))"),
        {"forward_output": ANY, "large_batch": ANY}),
    "small_dropout_left_in": (two_layer(
        "return self.linear2(F.dropout(F.relu(self.linear1(x)), p=0.002))"),
        {"large_batch": "random_in_forward"}),
}


# ====================================================================== e06

def dynamic(forward: str, init: str = "", head: str = "") -> str:
    init = ("self.input_linear = nn.Linear(D_in, H)\nself.middle_linear = nn.Linear(H, H)\n"
            "self.output_linear = nn.Linear(H, D_out)\n" + textwrap.dedent(init).strip("\n"))
    return (HEAD + head + "\nclass DynamicNet(nn.Module):\n    def __init__(self, D_in, H, D_out):\n"
            "        super().__init__()\n" + textwrap.indent(init.strip("\n"), " " * 8)
            + "\n\n    def forward(self, x):\n"
            + textwrap.indent(textwrap.dedent(forward).strip("\n"), " " * 8) + "\n")


LOOP = """
h = torch.relu(self.input_linear(x))
for _ in range({depth}):
    h = torch.relu(self.middle_linear(h))
return self.output_linear(h)"""

# About ten times the reference's forward pass (~30 us here), as a fixed amount of work.
BUSY = "sum(i * i for i in range(6000))\n"

E06_CORRECT = {
    # one generator of its own, seeded once: every instance repeats the same draws, but
    # the draws of one instance are as good as any
    "own_generator_seeded_0": dynamic(LOOP.format(depth="self.rng.randint(0, 3)"),
                                      init="self.rng = random.Random(0)"),
    "own_generator_seeded_0_slow": dynamic(BUSY + LOOP.format(depth="self.rng.randint(0, 3)"),
                                           init="self.rng = random.Random(0)"),
    "torch_generator_seeded_in_init": dynamic(
        LOOP.format(depth="int(torch.randint(0, 4, (1,), generator=self.gen))"),
        init="self.gen = torch.Generator().manual_seed(0)"),
    "global_random_slow": dynamic(BUSY + LOOP.format(depth="random.randint(0, 3)")),
    "float64_inside": dynamic("""
        h = F.linear(x.double(), self.input_linear.weight.double(),
                     self.input_linear.bias.double()).relu()
        for _ in range(random.randint(0, 3)):
            h = F.linear(h, self.middle_linear.weight.double(),
                         self.middle_linear.bias.double()).relu()
        return F.linear(h, self.output_linear.weight.double(),
                        self.output_linear.bias.double()).float()"""),
}

E06_BUGS = {
    # a counter, not a draw: every depth equally often, and never the same twice in a row
    "depth_cycles": (dynamic('self.calls = getattr(self, "calls", -1) + 1\n'
                             + LOOP.format(depth="self.calls % 4")),
                     {"every_depth_drawn": "depth_pattern"}),
    # the same seed on every call: the same "random" depth every time
    "reseeded_in_forward": (dynamic("random.seed(0)\n" + LOOP.format(
        depth="random.randint(0, 3)")), {"every_depth_drawn": ANY, "drawn_every_call": ANY}),
    "own_generator_reseeded_every_call": (dynamic(
        "rng = random.Random(0)\n" + LOOP.format(depth="rng.randint(0, 3)")),
        {"every_depth_drawn": ANY, "drawn_every_call": ANY}),
    "slice_to_tutorial_batch": (dynamic("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(self.middle_linear(h))
        return self.output_linear(h)[:N]""", head="N = 64\n"), {"large_batch": ANY}),
    "half_precision": (dynamic("""
        h = F.linear(x.half(), self.input_linear.weight.half(),
                     self.input_linear.bias.half()).relu()
        for _ in range(random.randint(0, 3)):
            h = F.linear(h, self.middle_linear.weight.half(),
                         self.middle_linear.bias.half()).relu()
        return F.linear(h, self.output_linear.weight.half(),
                        self.output_linear.bias.half()).float()"""), {"large_batch": ANY}),
    "small_dropout_left_in": (dynamic("""
        h = torch.relu(self.input_linear(x))
        for _ in range(random.randint(0, 3)):
            h = torch.relu(self.middle_linear(h))
        return self.output_linear(F.dropout(h, p=0.002))"""), {"large_batch": ANY}),
}

CORRECT = {E04: E04_CORRECT, E05: E05_CORRECT, E06: E06_CORRECT}
BUGS = {E04: E04_BUGS, E05: E05_BUGS, E06: E06_BUGS}


@pytest.fixture(scope="module", params=[1234, 99])
def graded(request, tmp_path_factory):
    """Every case graded once per seed (in parallel), keyed by (exercise, label)."""
    seed = request.param
    root = tmp_path_factory.mktemp(f"redteam{seed}")
    submissions, keys = [], {}
    for exercise in (E04, E05, E06):
        cases = {**CORRECT[exercise], **{k: v[0] for k, v in BUGS[exercise].items()}}
        for label, source in cases.items():
            name = f"{exercise}-{label}"
            directory = write_submission(root / name, {f"{exercise}.py": source})
            submissions.append(load_paths([directory], name))
            keys[name] = (exercise, label)
    options = Options(seed=seed, jobs=2, limits=Limits(timeout=TEST_TIMEOUT),
                      timeout_given=True, only=(E04, E05, E06))
    with Grader(collect_exercises(plugin_manager()), options) as grader:
        return {keys[r.id]: exercise_result(r, keys[r.id][0]) for r in grader.grade_many(submissions)}


def misjudged(graded) -> list[str]:
    """Every case the grader gets wrong (used for the before/after score)."""
    wrong = []
    for (exercise, label), result in graded.items():
        if label in CORRECT[exercise]:
            if not result.full_marks:
                wrong.append(f"{exercise} {label}: correct, lost "
                             + str({c.name: c.feedback[:150] for c in result.checks
                                    if c.status != "passed"}))
            continue
        checks = {c.name: c for c in result.checks}
        expected = BUGS[exercise][label][1]
        if result.full_marks:
            wrong.append(f"{exercise} {label}: bug, full marks")
            continue
        for name, key in expected.items():
            check = checks.get(name)
            if check is None or check.status not in ("failed", "error"):
                wrong.append(f"{exercise} {label}: {name} did not fail")
            elif key is not ANY and check.misconception != key:
                wrong.append(f"{exercise} {label}: {name} named {check.misconception}, "
                             f"not {key}")
    return wrong


def test_every_case_is_judged_right(graded):
    assert not misjudged(graded), "\n".join(misjudged(graded))
