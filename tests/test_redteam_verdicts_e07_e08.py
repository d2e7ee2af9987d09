"""Red team (issue 9) for e07 and e08: submissions nobody had graded before, written to
find where the verdicts are wrong, kept as tests once the causes were fixed.

Correct answers in unusual styles must get full marks. Bugs that only show late in a run,
with the default arguments, beyond some number of rows, or as a small systematic error
(an L2 penalty, weights saved at reduced precision, a lost optimizer state) must not; where
a misconception is declared for a bug, the feedback names it.
"""

from __future__ import annotations

import io
import pickle
import textwrap
import zipfile

import numpy as np
import pytest

from conftest import exercise_result
from grader.checks.training import checkpoint_file

E07, E08 = "e07_training", "e08_checkpoint"
HEAD = ("import numpy as np\nimport torch\nimport torch.nn as nn\n"
        "import torch.nn.functional as F\nimport os\nfrom pathlib import Path\n\n")


def src(*parts: str) -> str:
    return HEAD + "\n\n".join(textwrap.dedent(p).strip("\n") + "\n" for p in parts)


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def graded(grade, exercise: str, text: str):
    return exercise_result(grade({f"{exercise}.py": text}), exercise)


def problems(result) -> list:
    return [(c.name, c.status, c.feedback) for c in result.checks
            if c.status not in ("passed", "skipped")]


def assert_full_marks(result):
    assert result.full_marks and result.max_score > 0, problems(result)


def assert_caught(result, expected: dict[str, str | None]):
    """`expected`: checks that must fail, each with the misconception it must name (None:
    any or none)."""
    assert not result.full_marks, result.name
    checks = {c.name: c for c in result.checks}
    for name, misconception in expected.items():
        check = checks[name]
        assert check.status in ("failed", "error"), (name, check.status, check.feedback)
        if misconception is not None:
            assert check.misconception == misconception, (name, check.misconception,
                                                          check.feedback)


# ====================================================================== e07

TRAIN = """
def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
    model.train()
    losses = []
    for step in range(steps):
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


LOSS_LINE = "        loss = loss_fn(model(x), y)\n"
STEP_LINE = "        optimizer.step()\n"

E07_CORRECT = {
    "einsum_loss": e07(train=changed(
        TRAIN, LOSS_LINE, "        diff = model(x) - y\n"
                          "        loss = torch.einsum('ij,ij->', diff, diff)\n")),
    "mean_times_count": e07(train=changed(
        TRAIN, LOSS_LINE, "        loss = F.mse_loss(model(x), y) * y.numel()\n")),
    "float64_loss_reversed_difference": e07(train=changed(
        TRAIN, LOSS_LINE, "        loss = ((y.double() - model(x).double()) ** 2).sum()\n")),
    "manual_update_without_momentum": e07(train="""
        def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
            device = next(model.parameters()).device
            x, y = x.to(device), y.to(device)
            optimizer = (torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
                         if momentum else None)
            losses = []
            for _ in range(steps):
                loss = (model(x) - y).pow(2).sum()
                losses.append(loss.item())
                model.zero_grad()
                loss.backward()
                if optimizer is None:
                    with torch.no_grad():
                        for p in model.parameters():
                            p -= learning_rate * p.grad
                else:
                    optimizer.step()
            return losses
        """),
    "evaluate_sums_mini_batches": e07(evaluate="""
        def evaluate(model, x, y):
            device = next(model.parameters()).device
            model.eval()
            total = 0.0
            with torch.inference_mode():
                for start in range(0, len(x), 32):
                    xb = x[start:start + 32].to(device)
                    yb = y[start:start + 32].to(device)
                    total += F.mse_loss(model(xb), yb, reduction="sum").item()
            return total
        """),
}


@pytest.mark.parametrize("name", sorted(E07_CORRECT))
def test_e07_unusual_correct_answers(grade, name):
    assert_full_marks(graded(grade, E07, E07_CORRECT[name]))


E07_BUGS = {
    "step_lr_after_100_steps": (e07(train=changed(changed(
        TRAIN, "    model.train()\n",
        "    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)\n"
        "    model.train()\n"), STEP_LINE, STEP_LINE + "        scheduler.step()\n")),
        {"train_defaults": "learning_rate_changes"}),
    "learning_rate_decays": (e07(train=changed(
        TRAIN, STEP_LINE, STEP_LINE + "        for group in optimizer.param_groups:\n"
                                      "            group['lr'] *= 0.999\n")),
        {"train_defaults": None}),
    "weight_decay": (e07(train=changed(TRAIN, "momentum=momentum)",
                                       "momentum=momentum, weight_decay=1e-4)")),
                     {"train_weights": None, "train_defaults": None}),
    "l2_penalty_in_the_loss": (e07(train=changed(
        TRAIN, LOSS_LINE, LOSS_LINE + "        loss = loss + 1e-4 * sum((p ** 2).sum() "
                                      "for p in model.parameters())\n")),
        {"train_losses": None, "train_weights": None, "train_defaults": None}),
    "gradient_clipping": (e07(train=changed(
        TRAIN, STEP_LINE, "        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)\n"
                          + STEP_LINE)),
        {"train_losses": None, "train_weights": None, "train_defaults": None}),
    "default_steps_100": (e07(train=changed(TRAIN, "steps=500", "steps=100")),
                          {"train_defaults": "wrong_default"}),
    "default_learning_rate_5e-5": (e07(train=changed(TRAIN, "learning_rate=1e-4",
                                                     "learning_rate=5e-5")),
                                   {"train_defaults": "wrong_default"}),
    "mini_batches_of_32_averaged": (e07(train=changed(
        TRAIN, LOSS_LINE,
        "        parts = [loss_fn(model(x[i:i + 32]), y[i:i + 32]) "
        "for i in range(0, len(x), 32)]\n"
        "        loss = sum(parts) / len(parts) * (len(x) / 32 if len(x) > 32 else 1)\n")),
        {"train_defaults": None, "train_large": None}),
    "first_64_rows_only": (e07(train=changed(
        TRAIN, LOSS_LINE, "        loss = loss_fn(model(x[:64]), y[:64])\n")),
        {"train_large": None}),
    "half_sum_of_squares": (e07(train=changed(
        TRAIN, LOSS_LINE, "        loss = 0.5 * ((model(x) - y) ** 2).sum()\n")),
        {"train_losses": "half_sse", "train_momentum": "half_sse", "train_weights": "half_sse",
         "train_defaults": None}),
    "evaluate_averages_batches_of_32": (e07(evaluate="""
        def evaluate(model, x, y):
            device = next(model.parameters()).device
            model.eval()
            with torch.inference_mode():
                parts = [F.mse_loss(model(x[i:i + 32].to(device)), y[i:i + 32].to(device),
                                    reduction="sum") for i in range(0, len(x), 32)]
                return (torch.stack(parts).mean() * (len(x) / 32 if len(x) > 32 else 1)).item()
        """), {"evaluate_loss": None}),
}


@pytest.mark.parametrize("name", sorted(E07_BUGS))
def test_e07_subtle_bugs(grade, name):
    text, expected = E07_BUGS[name]
    assert_caught(graded(grade, E07, text), expected)


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
    "nested_lists_float_epoch_extra_keys": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"meta": {"epoch": float(epoch), "tags": ["run", 1, 2.5, None, True]},
                        "states": [model.state_dict(), {"opt": optimizer.state_dict()}],
                        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}},
                       path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            ck = torch.load(path, map_location=map_location, weights_only=True)
            model.load_state_dict(ck["states"][0])
            if optimizer is not None:
                optimizer.load_state_dict(ck["states"][1]["opt"])
            return int(ck["meta"]["epoch"])
        """),
    "saved_as_float64_loaded_back": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"model": {k: v.double() for k, v in model.state_dict().items()},
                        "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
        """),
    "tensors_stacked_in_one_storage": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
            torch.save({"flat": flat, "optimizer": optimizer.state_dict(), "epoch": epoch},
                       path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            ck = torch.load(path, map_location=map_location, weights_only=True)
            torch.nn.utils.vector_to_parameters(ck["flat"], model.parameters())
            if optimizer is not None:
                optimizer.load_state_dict(ck["optimizer"])
            return ck["epoch"]
        """),
    "weights_as_python_lists": e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"weights": {k: v.tolist() for k, v in model.state_dict().items()},
                        "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            ck = torch.load(path, map_location=map_location, weights_only=True)
            model.load_state_dict({k: torch.tensor(v) for k, v in ck["weights"].items()})
            if optimizer is not None:
                optimizer.load_state_dict(ck["optimizer"])
            return ck["epoch"]
        """),
}


@pytest.mark.parametrize("name", sorted(E08_CORRECT))
def test_e08_unusual_correct_answers(grade, name):
    assert_full_marks(graded(grade, E08, E08_CORRECT[name]))


STATE = 'model.state_dict()'
E08_BUGS = {
    "weights_saved_in_half": (e08(save=changed(
        SAVE, STATE, '{k: v.half() for k, v in model.state_dict().items()}')),
        {"weights_only_file": "precision_lost", "resume_model": "precision_lost"}),
    "weights_saved_in_bfloat16": (e08(save=changed(
        SAVE, STATE, '{k: v.bfloat16() for k, v in model.state_dict().items()}')),
        {"weights_only_file": "precision_lost", "resume_model": "precision_lost"}),
    "weights_rounded": (e08(save=changed(
        SAVE, STATE, '{k: torch.round(v * 1e4) / 1e4 for k, v in model.state_dict().items()}')),
        {"weights_only_file": "precision_lost", "resume_model": "precision_lost"}),
    "momentum_buffers_in_half": (e08(save=changed(
        SAVE, '"optimizer": optimizer.state_dict()',
        '"optimizer": {"state": {i: {"momentum_buffer": s["momentum_buffer"].half()} '
        'for i, s in optimizer.state_dict()["state"].items()}, '
        '"param_groups": optimizer.state_dict()["param_groups"]}')),
        {"weights_only_file": "precision_lost", "resume_training": None}),
    "fresh_optimizer_state_saved": (e08(save=changed(
        SAVE, '"optimizer": optimizer.state_dict()',
        '"optimizer": torch.optim.SGD(model.parameters(), lr=optimizer.param_groups[0]["lr"], '
        'momentum=optimizer.param_groups[0]["momentum"]).state_dict()')),
        {"resume_training": "optimizer_state_missing"}),
    "custom_class_in_the_file": (e08(save="""
        class Checkpoint:
            def __init__(self, model, optimizer, epoch):
                self.model, self.optimizer, self.epoch = model, optimizer, epoch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save(Checkpoint(model.state_dict(), optimizer.state_dict(), epoch), path)
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            ck = torch.load(path, map_location=map_location, weights_only=False)
            model.load_state_dict(ck.model)
            if optimizer is not None:
                optimizer.load_state_dict(ck.optimizer)
            return ck.epoch
        """), {"weights_only_file": None}),
}


@pytest.mark.parametrize("name", sorted(E08_BUGS))
def test_e08_subtle_bugs(grade, name):
    text, expected = E08_BUGS[name]
    assert_caught(graded(grade, E08, text), expected)


def test_e08_file_too_big_is_a_clear_failure(grade):
    text = e08(save=changed(SAVE, '"epoch": int(epoch)}',
                            '"epoch": int(epoch), "padding": torch.zeros(3_000_000)}'))
    result = graded(grade, E08, text)
    check = next(c for c in result.checks if c.name == "weights_only_file")
    assert check.status == "failed" and "more than the grader reads" in check.feedback
    assert not result.full_marks


def test_e08_a_file_torch_save_did_not_write_is_a_clear_failure(grade):
    text = e08(save="""
        def save_checkpoint(path, model, optimizer, epoch):
            with open(path, "w") as file:
                file.write(repr({k: v.tolist() for k, v in model.state_dict().items()}))
        """, load="""
        def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
            with open(path) as file:
                state = eval(file.read())
            model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
            return 7
        """)
    check = next(c for c in graded(grade, E08, text).checks if c.name == "weights_only_file")
    assert check.status == "failed" and "cannot read your checkpoint file" in check.feedback


def test_e08_a_file_that_would_run_code_is_refused_unread(grade, tmp_path):
    """A checkpoint whose pickle calls os.system: the grader reads it without running it."""
    marker = tmp_path / "ran"
    text = e08(save=f"""
        import pickle, zipfile

        class Evil:
            def __reduce__(self):
                return (os.system, ("touch {marker}",))

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({{"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch, "evil": Evil()}}, path)
        """, load=LOAD.replace("weights_only=True", "weights_only=True) if False else "
                                                    "torch.load(path, weights_only=True"))
    result = graded(grade, E08, text)
    check = next(c for c in result.checks if c.name == "weights_only_file")
    assert check.status == "failed" and "Unsupported global" in check.feedback
    assert "system" in check.feedback
    assert not marker.exists()


# ---------------------------------------------------------------------- the file reader

def saved(obj, **options) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer, **options)
    return buffer.getvalue()


def small_model():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def tensors_of(value) -> list:
    if isinstance(value, checkpoint_file.StoredTensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors_of(item)]
    return []


@pytest.mark.parametrize("legacy", [False, True])
def test_reader_reads_plain_checkpoints_exactly(legacy):
    import torch

    model, optimizer = small_model()
    checkpoints = {
        "state_dicts": {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": 7},
        "nested_lists_extra_keys": {"meta": {"epoch": 7.0, "tags": ["a", 1, None, True]},
                                    "states": [model.state_dict(), (optimizer.state_dict(),)],
                                    "note": "hello", "lr": 0.003},
        "parameters_and_views": {"keep_vars": model.state_dict(keep_vars=True),
                                 "t": model[0].weight.detach().t(),
                                 "row": model[0].weight.detach()[1]},
        "other_dtypes": {"half": torch.ones(3).half(), "bf16": torch.randn(3).bfloat16(),
                         "long": torch.arange(4), "flag": torch.tensor([True, False]),
                         "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 2)},
    }
    for name, checkpoint in checkpoints.items():
        raw = saved(checkpoint, _use_new_zipfile_serialization=not legacy)
        expected = torch.load(io.BytesIO(raw), weights_only=True)
        got = checkpoint_file.read_checkpoint(raw)
        want = [t for t in tensors_of_torch(expected)]
        have = tensors_of(got)
        assert len(have) == len(want), name
        for stored, tensor in zip(have, want):
            assert stored.dtype == str(tensor.dtype).replace("torch.", ""), name
            values = tensor.detach().float() if tensor.dtype == torch.bfloat16 else tensor.detach()
            assert stored.array.shape == tuple(tensor.shape), name
            assert np.array_equal(stored.array, values.numpy()), name
    assert checkpoint_file.read_checkpoint(saved(checkpoints["state_dicts"]))["epoch"] == 7


def tensors_of_torch(value) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors_of_torch(item)]
    return []


class Custom:
    def __init__(self, state):
        self.state = state


@pytest.mark.parametrize("legacy", [False, True])
def test_reader_refuses_what_weights_only_refuses(legacy):
    import torch

    model, optimizer = small_model()
    refused = {"custom class": {"model": Custom(model.state_dict())},
               "whole model": {"model": model},
               "whole optimizer": {"optimizer": optimizer},
               "numpy array": {"weights": np.arange(3.0)}}
    for name, checkpoint in refused.items():
        raw = saved(checkpoint, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(Exception):
            torch.load(io.BytesIO(raw), weights_only=True)
        with pytest.raises(checkpoint_file.NotAllowed):
            checkpoint_file.read_checkpoint(raw)
    # instructions weights_only does not read (a pickle protocol above 2)
    raw = saved({"a": torch.ones(2)}, pickle_protocol=4)
    with pytest.raises(checkpoint_file.Refused, match="pickle instruction"):
        checkpoint_file.read_checkpoint(raw)


def test_reader_never_runs_or_crashes_on_hostile_bytes(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    model, _ = small_model()
    raw = saved({"model": model.state_dict(), "evil": Evil()})
    with pytest.raises(checkpoint_file.NotAllowed, match="system"):
        checkpoint_file.read_checkpoint(raw)
    assert not marker.exists()
    # a zip whose data.pkl is a plain pickle (protocol 2) that would call os.system
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
    with pytest.raises(checkpoint_file.NotAllowed):
        checkpoint_file.read_checkpoint(buffer.getvalue())
    assert not marker.exists()
    good = saved({"model": model.state_dict()})
    for raw in (b"", b"garbage", good[:200], good[:-50], b"PK\x03\x04" + b"\0" * 100,
                b"\x80\x02" + b"(" * 100_000, bytes(range(256)) * 10,
                b"\x80\x02K\x05\x85cbuiltins\nbytearray\n\x85R."):
        with pytest.raises(checkpoint_file.Unreadable):
            checkpoint_file.read_checkpoint(raw)
    with pytest.raises(checkpoint_file.Unreadable, match="more than the grader reads"):
        checkpoint_file.read_checkpoint(b"\0" * (checkpoint_file.MAX_FILE_BYTES + 1))
    # a small file whose views repeat one element (stride 0) into huge tensors
    import torch

    one = torch.zeros(1)
    raw = saved([one.expand(3_000_000)] * 2 + [one.expand(3_000_001)])
    assert len(raw) < 10_000
    with pytest.raises(checkpoint_file.Unreadable, match="more elements than the grader reads"):
        checkpoint_file.read_checkpoint(raw)
