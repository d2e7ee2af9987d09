"""A second red team, after issue 9's probes: 115 new submissions over all ten exercises;
these three bugs got full marks before (every probe kept a dimension > 1, never called
eval(), never left map_location out). Kept as tests; each must lose marks, and say why."""

from __future__ import annotations

import pytest

from conftest import ROOT, exercise_result

BUGS = {
    "output_squeezed": ("e05_two_layer_net", "forward_output", "forward(x[:1])", """
        import torch
        from torch import nn

        class TwoLayerNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.linear1 = nn.Linear(D_in, H)
                self.linear2 = nn.Linear(H, D_out)

            def forward(self, x):
                return self.linear2(torch.relu(self.linear1(x))).squeeze()
        """),
    "depth_fixed_in_eval_mode": ("e06_dynamic_net", "every_depth_drawn", "", """
        import random, torch
        from torch import nn

        class DynamicNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.input_linear = nn.Linear(D_in, H)
                self.middle_linear = nn.Linear(H, H)
                self.output_linear = nn.Linear(H, D_out)

            def forward(self, x):
                h = torch.relu(self.input_linear(x))
                for _ in range(random.randint(0, 3) if self.training else 3):
                    h = torch.relu(self.middle_linear(h))
                return self.output_linear(h)
        """),
    "map_location_default_none": ("e08_checkpoint", "optimizer_optional", "map_location", """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, path)

        def load_checkpoint(path, model, optimizer=None, map_location=None):
            ck = torch.load(path, map_location=map_location, weights_only=True)
            model.load_state_dict(ck["model"])
            if optimizer is not None:
                optimizer.load_state_dict(ck["optimizer"])
            return int(ck["epoch"])
        """),
}


@pytest.mark.parametrize("name", list(BUGS))
def test_second_round_bugs_lose_marks_where_they_show(grade, name):
    exercise, check, phrase, source = BUGS[name]
    result = exercise_result(grade({f"{exercise}.py": source}), exercise)
    assert not result.full_marks
    failing = {c.name: c for c in result.checks if c.status != "passed"}
    assert check in failing, {c.name: c.status for c in result.checks}
    assert phrase in failing[check].feedback


def test_a_squeezed_dynamic_net_loses_its_large_batch_check(grade):
    source = BUGS["depth_fixed_in_eval_mode"][3].replace(
        "return self.output_linear(h)", "return self.output_linear(h).squeeze()").replace(
        "random.randint(0, 3) if self.training else 3", "random.randint(0, 3)")
    result = exercise_result(grade({"e06_dynamic_net.py": source}), "e06_dynamic_net")
    failing = {c.name: c.feedback for c in result.checks if c.status != "passed"}
    assert set(failing) == {"large_batch"}, failing
    assert "forward(x[:1])" in failing["large_batch"]


def test_float64_parameters_are_named_as_such(grade):
    source = (ROOT / "solutions" / "e09_linear_regression.py").read_text().replace(
        "dtype=torch.float32", "dtype=torch.float64")
    assert "float64" in source
    result = exercise_result(grade({"e09_linear_regression.py": source}),
                             "e09_linear_regression")
    init = next(c for c in result.checks if c.name == "model_init")
    assert init.status == "failed" and "float64" in init.feedback


def test_a_notebook_taking_the_graders_reference_model_earns_nothing_for_it(tmp_path):
    """A notebook's worker keeps e07's probes (which build the grader's own TwoLayerNet):
    a cell that takes that class, however hidden, earns nothing for e05 (red team)."""
    import json
    import shutil

    from conftest import run_cli

    shutil.copy(ROOT / "tests" / "golden" / "notebook_takes_reference_model.ipynb",
                tmp_path / "course.ipynb")
    done = run_cli(str(tmp_path / "course.ipynb"), "--only", "e05_two_layer_net",
                   "--format", "json")
    (e05,) = json.loads(done.stdout)["exercises"]
    assert e05["score"] == 0
    assert "grader's own TwoLayerNet" in e05["checks"][0]["feedback"]
