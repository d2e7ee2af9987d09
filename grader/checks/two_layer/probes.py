"""Worker: what the two-layer exercises' probes do with a student's functions (e01-e03).

Call a *_two_layer_grads function twice on fresh copies of the grader's data, a *_train
function at the probe's rate and at another, from a minimum, and with its defaults.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np
import torch
from torch.autograd.variable import Variable

from grader.checks.two_layer.inputs import LARGE_STEPS, ORDER, part


def as_tensors(inputs: dict[str, np.ndarray], dtype: str = "float32") -> Callable:
    """A copier that turns the numpy inputs into fresh torch tensors."""
    torch_dtype = getattr(torch, dtype)
    return lambda array: torch.tensor(np.asarray(array), dtype=torch_dtype)


def _facts(value: Any) -> dict[str, Any]:
    """requires_grad / .grad of a tensor the caller owns (None for arrays)."""
    return {"requires_grad": bool(getattr(value, "requires_grad", False)),
            "has_grad": getattr(value, "grad", None) is not None}


def snapshot(value: Any, keep_graph: bool = False) -> Any:
    """A copy of current values, so that a later in-place change does not reach it (a
    second call accumulating into the .grad it returned first, say). Tuples and lists are
    copied through; with keep_graph, a tensor that requires grad is kept as it is, so that
    the judge still sees its requires_grad and grad_fn."""
    if hasattr(value, "detach") and callable(value.detach):
        if keep_graph and getattr(value, "requires_grad", False):
            return value
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (tuple, list):
        return type(value)(snapshot(v, keep_graph) for v in value)
    return value


def probe_pure_grads(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable) -> dict:
    """Call a *_grads function twice on the same fresh copies; return both results and the
    arguments as they were after the first call ("after") and after the second ("after_all":
    an in-place change may undo itself on the second call). With a LARGE data set among the
    inputs ("large_x", ...), one more call on it ("large")."""
    args = [copy(inputs[k]) for k in ORDER]
    first = snapshot(fn(*args), keep_graph=True)
    after = {k: snapshot(a) for k, a in zip(ORDER, args)}
    facts = {k: _facts(a) for k, a in zip(ORDER, args)}
    try:
        second = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a second call that fails is not repeatable
        second = {"second_call_raised": f"{type(exc).__name__}: {str(exc)[:200]}"}
    result = {"returned": first, "second": second, "after": after,
              "after_all": dict(zip(ORDER, args)), "facts": facts}
    if "large_x" in inputs:
        result["large"] = snapshot(fn(*(copy(inputs["large_" + k]) for k in ORDER)))
    return result


def _train_call(fn: Callable, args: list, **arguments: Any) -> Any:
    returned = fn(*args, **arguments)
    if isinstance(returned, (tuple, list)) and len(returned) == 3 and \
            isinstance(returned[2], (list, tuple)):
        returned = (returned[0], returned[1], list(returned[2]))
    return returned


def probe_train(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable,
                learning_rate: float, steps: int,
                other_learning_rate: float | None = None) -> dict:
    """Train on fresh copies; with `other_learning_rate`, train once more at that rate
    (under "other_lr"), so that a function ignoring its learning_rate can be told apart;
    with a data set at a minimum among the inputs ("min_x", ...), train from there too
    ("at_minimum": the gradient is 0, so right weights do not move at all)."""
    def run(data: dict[str, np.ndarray], rate: float, count: int) -> Any:
        return _train_call(fn, [copy(data[k]) for k in ORDER], learning_rate=rate, steps=count)

    result = {"returned": run(inputs, learning_rate, steps), "learning_rate": learning_rate,
              "steps": steps}
    if other_learning_rate is not None:
        result["other_lr"] = run(inputs, other_learning_rate, steps)
    if "min_x" in inputs:
        result["at_minimum"] = run(part(inputs, "min_"), learning_rate, steps)
    return result


def _declared_defaults(fn: Callable) -> dict[str, Any]:
    """The defaults of learning_rate and steps in fn's signature (those it declares)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {name: parameters[name].default for name in ("learning_rate", "steps")
            if name in parameters and parameters[name].default is not inspect.Parameter.empty
            and isinstance(parameters[name].default, (int, float))}


def probe_train_at_scale(fn: Callable, inputs: dict[str, np.ndarray], copy: Callable) -> dict:
    """Train on the DEFAULT_RUN data with learning_rate and steps left out (the contract's
    500 steps at 1e-6), then LARGE_STEPS steps on the LARGE data at its drawn rate."""
    default, large = part(inputs, "default_"), part(inputs, "large_")
    return {"returned": _train_call(fn, [copy(default[k]) for k in ORDER]),
            "prefix": "default_", "declared": _declared_defaults(fn),
            "large": _train_call(fn, [copy(large[k]) for k in ORDER],
                                 learning_rate=float(large["learning_rate"]),
                                 steps=LARGE_STEPS)}


# -- who computed the gradients: autograd, or the student by hand -------------------
class _CountingEngine:
    """Stands in for autograd's engine: counts every backward pass it runs. Every way into
    autograd (loss.backward(), torch.autograd.grad / backward, torch.func, a name imported
    before the probe started, `from torch.autograd import grad`) ends in its run_backward."""

    def __init__(self, engine: Any, calls: list, reached: set | None = None) -> None:
        self._engine, self._calls = engine, calls
        self._reached = reached if reached is not None else set()

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        self._calls.append("run_backward")
        if args:
            self._reached |= _leaf_shapes(args[0])
        return self._engine.run_backward(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _leaf_shapes(roots: Any, limit: int = 10_000) -> set[tuple[int, ...]]:
    """The shapes of the leaves a backward pass from `roots` reaches: a pass run on a
    throwaway tensor beside gradients written by hand reaches no weight (red team round 4)."""
    roots = roots if isinstance(roots, (tuple, list)) else (roots,)
    stack = [getattr(r, "grad_fn", None) or getattr(r, "node", None) for r in roots]
    shapes, seen = set(), set()
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            shapes.add(tuple(variable.shape))
        stack.extend(following for following, _ in getattr(node, "next_functions", ()))
    return shapes


def _forward_mode_entries() -> list[tuple[Any, str]]:
    """Where forward-mode autodiff starts (torch.func.jvp / jacfwd, forward_ad's dual_level
    and make_dual all go through torch._functorch.predispatch, whose names they look up at
    each call; torch._C's for a direct call): no backward pass runs there, so the engine
    never sees it (red team: jacfwd passed as gradients by hand)."""
    import torch._functorch.predispatch as predispatch

    entries = [(predispatch, name) for name in ("_enter_dual_level", "_enter_dual_level_impl",
                                                "_make_dual")]
    entries.append((torch._C, "_enter_dual_level"))
    return [(owner, name) for owner, name in entries if callable(getattr(owner, name, None))]


def autograd_use(fn: Callable, make_args: Callable[[], list], also_no_grad: bool = True
                 ) -> dict[str, Any]:
    """Call fn normally, then (also_no_grad) under torch.no_grad(), counting autograd's
    backward passes and its forward-mode entries: e02 wants none, e03 at least one."""
    calls: list = []
    reached: set = set()
    saved = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    engine = getattr(Variable, "_execution_engine", None)
    forward_mode = [(owner, name, getattr(owner, name)) for owner, name in _forward_mode_entries()]

    def counted(original):
        def wrapper(*args, **kwargs):
            calls.append(original.__name__)
            return original(*args, **kwargs)
        return wrapper

    def run(no_grad: bool) -> None:
        torch.Tensor.backward = counted(saved[0])
        torch.autograd.backward = counted(saved[1])
        torch.autograd.grad = counted(saved[2])
        if engine is not None:
            Variable._execution_engine = _CountingEngine(engine, calls, reached)
        for owner, name, original in forward_mode:
            setattr(owner, name, counted(original))
        try:
            if no_grad:
                with torch.no_grad():
                    fn(*make_args())
            else:
                fn(*make_args())
        finally:
            torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = saved
            if engine is not None:
                Variable._execution_engine = engine
            for owner, name, original in forward_mode:
                setattr(owner, name, original)

    run(no_grad=False)
    if not also_no_grad:
        return {"calls": len(calls), "no_grad_error": None,
                "reached": sorted(list(shape) for shape in reached)}
    try:
        run(no_grad=True)
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        return {"calls": len(calls), "no_grad_error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"calls": len(calls), "no_grad_error": None}
