"""The course: one entry per exercise, the single source of truth about it.

Everything else is derived from this list: the builtin plugins (each entry's
checks package), the public names and signatures the contract tests hold the
kit to, the gradebook's columns, and the tables in README.md and
docs/CONTRACT.md and the stubs' pristine copies in grader/stubs/en/ (`python -m
grader.course --write` rewrites them; a test says when they are stale). Adding an
exercise is one entry here plus three files: `exercises/<name>.py`,
`solutions/<name>.py` and `grader/checks/<name>/` (with its texts, and its Korean stub
in grader/stubs/ko/).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from grader.exercise import Exercise

KIT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Public:
    """One public name as the contract writes it: code, then an optional note."""

    code: str            # "numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500) -> ..."
    note: str = ""       # "an `nn.Module` with submodules `linear1`, `linear2`"
    shown: bool = True   # False: a signature the contract gives in the task column

    @property
    def name(self) -> str:
        """The dotted name: `MyReLU.backward`."""
        return re.match(r"[\w.]+", self.code).group(0)

    @property
    def parameters(self) -> str | None:
        """The parameter list between the outer parentheses, or None for a bare name."""
        rest = self.code[len(self.name):]
        if not rest.startswith("("):
            return None
        depth = 0
        for index, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                return rest[1:index]
        raise ValueError(f"unbalanced parentheses in {self.code!r}")

    def signature(self) -> list[tuple[str, str, object]]:
        """[(parameter, kind, default)], kind "positional" or "keyword"; default `...` if none."""
        tree = ast.parse(f"def f({self.parameters}): pass").body[0].args
        found: list[tuple[str, str, object]] = []
        positional = tree.args
        defaults = [...] * (len(positional) - len(tree.defaults)) + list(tree.defaults)
        for arg, default in zip(positional, defaults):
            found.append((arg.arg, "positional", _value(default)))
        for arg, default in zip(tree.kwonlyargs, tree.kw_defaults):
            found.append((arg.arg, "keyword", _value(default)))
        return found

    def markdown(self) -> str:
        return f"`{self.code}`" + (f" ({self.note})" if self.note else "")


def _value(node: object) -> object:
    return ... if node is ... or node is None else ast.literal_eval(node)


@dataclass(frozen=True)
class Entry:
    name: str
    title: str           # English; other languages: the key `title` of its catalogues
    summary: str         # the README's one line: what the student writes
    task: str            # the contract's column: what the student writes, precisely
    public: tuple[Public, ...]
    checks: str          # the checks package, registered as a builtin plugin

    @property
    def names(self) -> tuple[str, ...]:
        """The top-level names a submission must define, in the contract's order."""
        return tuple(dict.fromkeys(p.name.split(".")[0] for p in self.public))

    @property
    def signatures(self) -> dict[str, list[tuple[str, str, object]]]:
        return {p.name: p.signature() for p in self.public if p.parameters is not None}

    @property
    def stub(self) -> Path:
        return KIT_ROOT / "exercises" / f"{self.name}.py"

    @property
    def solution(self) -> Path:
        return KIT_ROOT / "solutions" / f"{self.name}.py"


def _entry(name: str, title: str, summary: str, task: str, *public: Public) -> Entry:
    return Entry(name, title, summary, task, public, f"grader.checks.{name}")


COURSE: tuple[Entry, ...] = (
    _entry(
        "e00_tensor_basics", "Tensor basics: seeds, views, shapes, indexing, NumPy",
        "seeds, views and copies, `permute`, `stack`, boolean indexing, NumPy",
        "`seeded_normal`: the same values as `torch.manual_seed(seed); torch.randn(shape)`, "
        "without changing the global random state (a `torch.Generator`); `flatten_images`: "
        "`(N, C, H, W) -> (N, C*H*W)`, a view of `x` when `x` is contiguous (no copy); "
        "`channels_last`: `(N, C, H, W) -> (N, H, W, C)`; `stack_columns`: a list of K 1-D "
        "tensors of length N -> `(N, K)`; `positive_rows`: the rows of a 2-D `x` whose sum is "
        "> 0, by boolean indexing; `numpy_view` / `tensor_view`: the NumPy array of a CPU "
        "tensor and the tensor of an array, sharing memory (a change in one shows in the other)",
        Public("seeded_normal(seed, shape) -> Tensor"),
        Public("flatten_images(x) -> Tensor"),
        Public("channels_last(x) -> Tensor"),
        Public("stack_columns(columns) -> Tensor"),
        Public("positive_rows(x) -> Tensor"),
        Public("numpy_view(t) -> ndarray"),
        Public("tensor_view(a) -> Tensor")),
    _entry(
        "e01_numpy_grads", "Two-layer net by hand with NumPy",
        "forward and backward by hand with NumPy; a training loop",
        "forward and backward by hand with NumPy arrays only; `losses[t]` is the loss before "
        "update `t`",
        Public("numpy_two_layer_grads(x, y, w1, w2) -> (loss: float, grad_w1, grad_w2)"),
        Public("numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500) "
               "-> (w1, w2, losses: list[float])")),
    _entry(
        "e02_tensor_grads", "Gradients by hand with torch tensors",
        "the same with torch tensors; gradients of a cubic fit",
        "the same by hand with torch tensors, no autograd; `poly_grads` fits "
        "`y ≈ a + b·x + c·x² + d·x³` with `coeffs = tensor([a, b, c, d])`, loss = sum of "
        "squared errors, `grads` shape `(4,)`",
        Public("tensor_two_layer_grads(x, y, w1, w2) -> (loss: float, grad_w1, grad_w2)"),
        Public("poly_grads(x, y, coeffs) -> (loss: float, grads)")),
    _entry(
        "e03_autograd", "Gradients with autograd",
        "the gradients with `loss.backward()`; updates under `no_grad`",
        "the gradients through `loss.backward()`; updates under `torch.no_grad()` with "
        "gradients zeroed each step; the caller's tensors do not require grad",
        Public("autograd_two_layer_grads(x, y, w1, w2) -> (loss: float, grad_w1, grad_w2)"),
        Public("autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500) "
               "-> (w1, w2, losses)")),
    _entry(
        "e04_my_relu", "ReLU as a custom autograd Function",
        "`MyReLU.backward` of a custom `autograd.Function`",
        "`MyReLU.backward(ctx, grad_output)`",
        Public("MyReLU", "a `torch.autograd.Function`, `forward` given"),
        Public("my_relu = MyReLU.apply"),
        Public("MyReLU.backward(ctx, grad_output)", shown=False)),
    _entry(
        "e05_two_layer_net", "The two-layer net as an nn.Module",
        "`TwoLayerNet`, an `nn.Module`",
        "`__init__` and `forward`: `linear2(relu(linear1(x)))`",
        Public("TwoLayerNet(D_in, H, D_out)",
               "an `nn.Module` with submodules `linear1`, `linear2`")),
    _entry(
        "e06_dynamic_net", "A dynamic net with weight sharing",
        "`DynamicNet`: control flow and weight sharing",
        "`forward`: input layer + ReLU, then the **same** `middle_linear` + ReLU applied "
        "`random.randint(0, 3)` times (drawn anew on every call), then the output layer",
        Public("DynamicNet(D_in, H, D_out)", "an `nn.Module` with submodules `input_linear`, "
               "`middle_linear`, `output_linear`")),
    _entry(
        "e07_training", "A training loop with an optimizer",
        "the optimizer loop, `evaluate`, `pick_device`",
        "the loop: `MSELoss(reduction=\"sum\")`, `torch.optim.SGD(model.parameters(), "
        "lr=learning_rate, momentum=momentum)`, per step forward, loss, zero the gradients, "
        "backward, step; returns each step's loss (before its update) as a Python float. "
        "`train` works on whatever device the model is on (moves `x`, `y` there). `evaluate` "
        "returns the same loss (sum of squared errors) on the given data without changing the "
        "model's parameters or gradients, using `model.eval()` and `torch.inference_mode()`. "
        "`pick_device` is CUDA when available, else CPU",
        Public("train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0) "
               "-> list[float]"),
        Public("evaluate(model, x, y) -> float"),
        Public("pick_device() -> torch.device")),
    _entry(
        "e08_checkpoint", "Saving and resuming a checkpoint",
        "saving and resuming from a checkpoint",
        "saves state dicts (model, optimizer) and the epoch to one file that "
        "`torch.load(path, weights_only=True)` can read; loading restores them in place and "
        "returns the epoch, so that training resumed from a checkpoint continues exactly as if "
        "never stopped",
        Public("save_checkpoint(path, model, optimizer, epoch) -> None"),
        Public("load_checkpoint(path, model, optimizer=None, map_location=\"cpu\") -> int")),
    _entry(
        "e09_linear_regression", "The PyTorch workflow: linear regression",
        "data, split, model, `fit` with L1 and SGD; gradient descent by hand",
        "`make_line_data`: `X = arange(start, end, step)` as a column `(N, 1)` float32, "
        "`y = weight * X + bias`; `split_data`: the first `int(train_fraction * len(X))` rows "
        "train, the rest test, in order; `LinearRegressionModel`: an `nn.Module` with "
        "parameters `weights` and `bias`, each `nn.Parameter(torch.randn(1))`, "
        "`forward(x) = weights * x + bias`; `fit`: `nn.L1Loss()` and "
        "`torch.optim.SGD(model.parameters(), lr=learning_rate)`, each epoch one full-batch "
        "training step in `train()` mode, then the test loss in `eval()` mode under "
        "`torch.inference_mode()`; returns both per-epoch losses as Python floats, the "
        "training loss taken before that epoch's update; `manual_gradient_descent`: NumPy "
        "only, `f = w * x` with `w` starting at 0.0, loss = mean squared error, "
        "`dJ/dw = mean(2 * x * (w * x - y))` by hand, `w -= learning_rate * dJ/dw` per step; "
        "returns the final `w` as a float and each step's loss before its update",
        Public("make_line_data(weight=0.7, bias=0.3, start=0.0, end=1.0, step=0.02) -> (X, y)"),
        Public("split_data(X, y, train_fraction=0.8) -> (X_train, y_train, X_test, y_test)"),
        Public("LinearRegressionModel()"),
        Public("fit(model, X_train, y_train, X_test, y_test, *, epochs=100, "
               "learning_rate=0.01) -> (train_losses, test_losses)"),
        Public("manual_gradient_descent(x, y, *, learning_rate=0.01, steps=20) -> (w, losses)")),
)

BY_NAME = {entry.name: entry for entry in COURSE}


def entry(name: str) -> Entry:
    return BY_NAME[name]


def declare(package: str, make_inputs: Callable[[int], dict]) -> Exercise:
    """The Exercise of the checks package `package` (its `__name__`): name, title and
    public names from its manifest entry; texts, probes and mutants from the package's
    own `texts/`, `probes.py` and `mutants.py` (where it has one)."""
    from grader.exercise import Exercise

    folder = Path(sys.modules[package].__file__).parent
    found = entry(package.rsplit(".", 1)[-1])
    return Exercise(name=found.name, title={"en": found.title}, names=found.names,
                    texts=folder / "texts", make_inputs=make_inputs,
                    probe_module=f"{package}.probes",
                    mutant_module=f"{package}.mutants" if (folder / "mutants.py").is_file()
                    else None)


# -- the generated tables ----------------------------------------------------------
BEGIN, END = "<!-- course table: generated by `python -m grader.course --write` -->", \
    "<!-- end of course table -->"


def readme_table() -> str:
    rows = [f"| `{e.name}` | {e.summary} |" for e in COURSE]
    return "\n".join(["| exercise | you write |", "|---|---|", *rows])


def contract_table() -> str:
    rows = [f"| `{e.name}.py` | {' · '.join(p.markdown() for p in e.public if p.shown)} "
            f"| {e.task} |" for e in COURSE]
    return "\n".join(["| file | public names | what the student writes |", "|---|---|---|",
                      *rows])


DOCUMENTS = {"README.md": readme_table, "docs/CONTRACT.md": contract_table}


def with_table(text: str, table: str) -> str:
    """`text` with the part between the markers replaced by `table`."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{table}\n{text[end:]}"


def _pristine(entry: Entry) -> Path:
    """The stub's pristine copy in the grader package (the notebook and the TODOs quoted
    in feedback read it: `exercises/` is where students work)."""
    return Path(__file__).resolve().parent / "stubs" / "en" / f"{entry.name}.py"


def stale_documents() -> list[str]:
    """What `--write` would change: the documents' tables and the stubs' pristine copies."""
    stale = [name for name, table in DOCUMENTS.items()
             if (KIT_ROOT / name).read_text(encoding="utf-8") !=
             with_table((KIT_ROOT / name).read_text(encoding="utf-8"), table())]
    return stale + [str(_pristine(e).relative_to(KIT_ROOT)) for e in COURSE
                    if not _pristine(e).is_file()
                    or _pristine(e).read_bytes() != e.stub.read_bytes()]


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m grader.course --write   (rewrites the course tables and the "
              "stubs' pristine copies)")
        return 2
    for name, table in DOCUMENTS.items():
        path = KIT_ROOT / name
        path.write_text(with_table(path.read_text(encoding="utf-8"), table()), encoding="utf-8")
        print(f"wrote the course table of {name}")
    for entry in COURSE:   # kit developers run this on a pristine tree, never students
        copy = _pristine(entry)
        if not copy.is_file() or copy.read_bytes() != entry.stub.read_bytes():
            copy.write_bytes(entry.stub.read_bytes())
            print(f"copied {entry.stub.relative_to(KIT_ROOT)} to "
                  f"{_pristine(entry).relative_to(KIT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
