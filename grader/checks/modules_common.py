"""Shared by the nn.Module exercises (e05, e06): weights, probes, the judge's own numpy model.

Probes here run in the worker and import torch lazily (the grader's own
process never imports torch). The judge recomputes every expected value in
NumPy (float64) from the seeded weights, so a correct answer never depends on
how the student built or ordered the layers: the weights are loaded with
`load_state_dict`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from grader.codec import TensorData
from grader.exercise import Text, t
from grader.judging import as_array, compare

#: rtol for module outputs and gradients (judging.compare's units: an element may be off
#: by rtol * (its size + 5% of the largest)). Measured against the judge's float64 model,
#: 40 seeds, small and large probes, e05 and e06 at depths 0..3, forward and every
#: gradient: float32 nn.Linear / F.linear 8.6e-6, addmm 8.6e-6, einsum 7.7e-6, float64
#: inside 1.7e-6 (the large inputs keep every ReLU input KINK_MARGIN away from 0).
#: About 6x the worst of those; half precision (~1e-3) fails.
MODULE_RTOL = 5e-5

MESSAGES = {
    "not_constructible": {
        "en": "{cls}({args}) did not give an nn.Module; got {got}.",
        "ko": "{cls}({args})이(가) nn.Module을 만들지 않았습니다. {got}이(가) 나왔습니다.",
    },
    "no_parameters": {
        "en": "model.parameters() yields no parameter at all: the layers are not registered. "
              "Assign each layer as an attribute in __init__ (self.{example} = nn.Linear(...)); "
              "a layer kept in a plain Python list, a dict or a local variable is invisible to "
              "parameters(), state_dict() and the optimizer.",
        "ko": "model.parameters()가 파라미터를 하나도 내놓지 않습니다: 층이 등록되지 않았습니다. "
              "__init__에서 각 층을 속성으로 지정하세요 (self.{example} = nn.Linear(...)). 일반 "
              "파이썬 리스트, 딕셔너리, 지역 변수에 둔 층은 parameters(), state_dict(), 옵티마이저가 "
              "볼 수 없습니다.",
    },
    "missing_keys": {
        "en": "state_dict() lacks {keys}: the model needs the submodules {modules}, assigned as "
              "attributes in __init__ with exactly these names.",
        "ko": "state_dict()에 {keys}이(가) 없습니다: 모델에는 {modules} 하위 모듈이 있어야 하며, "
              "__init__에서 정확히 이 이름의 속성으로 지정해야 합니다.",
    },
    "missing_biases": {
        "en": "state_dict() lacks {keys}: the layer exists but has no bias; nn.Linear(in, out) "
              "has one unless it is built with bias=False.",
        "ko": "state_dict()에 {keys}이(가) 없습니다: 층은 있지만 bias가 없습니다. "
              "nn.Linear(in, out)은 bias=False로 만들지 않는 한 bias를 갖습니다.",
    },
    "extra_parameters": {
        "en": "The model has parameters the exercise does not ask for: {keys}. Only {modules} "
              "hold weights (an nn.ReLU or other submodule without parameters is fine).",
        "ko": "문제에서 요구하지 않은 파라미터가 있습니다: {keys}. 가중치는 {modules}에만 있어야 "
              "합니다 (nn.ReLU처럼 파라미터가 없는 하위 모듈은 괜찮습니다).",
    },
    "parameter_count": {
        "en": "model.parameters() yields {got} tensors; expected {expected} (a weight and a bias "
              "for each of {modules}).",
        "ko": "model.parameters()가 텐서 {got}개를 내놓습니다. {modules} 각각의 weight와 bias, "
              "모두 {expected}개여야 합니다.",
    },
    "wrong_param_shape": {
        "en": "{param} has shape {got}; expected {expected}. nn.Linear(in_features, out_features) "
              "stores its weight as (out_features, in_features): check the sizes you gave "
              "each layer ({sizes}).",
        "ko": "{param}의 모양이 {got}인데 {expected}이어야 합니다. nn.Linear(in_features, "
              "out_features)의 weight 모양은 (out_features, in_features)입니다: 각 층에 준 크기를 "
              "확인하세요 ({sizes}).",
    },
    "load_failed": {
        "en": "The grader could not load its weights into your model with load_state_dict: "
              "{detail}",
        "ko": "채점기가 load_state_dict로 모델에 가중치를 불러올 수 없었습니다: {detail}",
    },
    "load_missing": {
        "en": "The grader could not load its weights into your model: it has no {keys} "
              "(see the check on registered layers).",
        "ko": "채점기가 모델에 가중치를 불러올 수 없었습니다: 모델에 {keys}이(가) 없습니다 "
              "(층 등록 검사를 보세요).",
    },
    "not_deterministic": {
        "en": "Two calls on the same input gave different outputs: forward seems to create new "
              "(randomly initialised) layers on every call. Create the layers once in __init__ "
              "and only use them in forward.",
        "ko": "같은 입력으로 두 번 호출했더니 출력이 달랐습니다: forward가 호출될 때마다 (무작위로 "
              "초기화된) 새 층을 만드는 것 같습니다. 층은 __init__에서 한 번만 만들고 forward에서는 "
              "쓰기만 하세요.",
    },
    "no_grad_for": {
        "en": "After backward(), {names} have no gradient (.grad is None or zero): the computation "
              "graph does not reach them (.detach(), .data, torch.no_grad(), NumPy, or a layer "
              "created inside forward instead of the registered one).",
        "ko": "backward() 후 {names}에 기울기가 없습니다 (.grad가 None이거나 0): 계산 그래프가 "
              "닿지 않습니다 (.detach(), .data, torch.no_grad(), NumPy를 썼거나, 등록된 층 대신 "
              "forward 안에서 새로 만든 층을 썼습니다).",
    },
    "large_failed": {
        "en": "At the tutorial's sizes or larger (N={n} rows, D_in={d_in}, H={h}, "
              "D_out={d_out}), building the model, loading the grader's weights or calling "
              "it failed: {error}. The model must work for any batch size and layer sizes, "
              "not only the tutorial's (no size written into the code).",
        "ko": "튜토리얼 크기 이상(N={n}행, D_in={d_in}, H={h}, D_out={d_out})에서 모델을 만들거나 "
              "채점기의 가중치를 불러오거나 호출하는 데 실패했습니다: {error}. 모델은 튜토리얼의 "
              "크기만이 아니라 어떤 배치 크기와 층 크기에서도 동작해야 합니다 (코드에 크기를 "
              "적어 두지 마세요).",
    },
    "large_rows": {
        "en": "Every row of x must give one row of the output, whatever N is: no size "
              "written into the code (the tutorial's N=64, say), and no batch of rows left "
              "out.",
        "ko": "N이 얼마든 x의 각 행이 출력의 한 행이 되어야 합니다: 코드에 크기(예: 튜토리얼의 "
              "N=64)를 적어 두지 말고, 어떤 행 묶음도 빠뜨리지 마세요.",
    },
    # misconceptions shared by e05 and e06
    "bias_missing": {
        "en": "a layer was built without its bias (nn.Linear(..., bias=False)): every layer "
              "here has a weight and a bias, which is nn.Linear's default.",
        "ko": "층을 bias 없이 만들었습니다 (nn.Linear(..., bias=False)): 여기서는 모든 층에 "
              "weight와 bias가 있으며, 이것이 nn.Linear의 기본값입니다.",
    },
    "random_in_forward": {
        "en": "something random happens inside forward (dropout, added noise, a random choice): "
              "the same input with the same weights must always give the same output.",
        "ko": "forward 안에서 무작위적인 일이 일어납니다 (dropout, 잡음 추가, 무작위 선택): 같은 "
              "가중치에 같은 입력이면 항상 같은 출력이 나와야 합니다.",
    },
    "output_not_tensor": {
        "en": "forward should return a tensor of shape {shape}; got {got}.",
        "ko": "forward는 모양이 {shape}인 텐서를 반환해야 하는데 {got}이(가) 나왔습니다.",
    },
}


# ------------------------------------------------------------------ data

#: Prefix of the large probes' inputs (the tutorial's sizes or larger).
LARGE = "large_"


def _not_a_power_of_two(rng: np.random.Generator, low: int, high: int) -> int:
    while True:
        value = int(rng.integers(low, high + 1))
        if value & (value - 1):
            return value


def large_sizes(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(N, D_in, H, D_out) at the tutorial's sizes (64, 1000, 100, 10) or larger, none a
    power of two: rows beyond any batch size a student might split by."""
    return (_not_a_power_of_two(rng, 65, 140), _not_a_power_of_two(rng, 1000, 1100),
            _not_a_power_of_two(rng, 100, 130), _not_a_power_of_two(rng, 10, 15))


#: No ReLU input of a large probe lies within this of 0. float32 arithmetic moves the
#: inputs of the ReLUs by up to 6e-6 at the large sizes (measured: 12 seeds, depths
#: 0..3); one that crossed 0 would change a gradient far beyond any tolerance.
KINK_MARGIN = 3e-5


def clear_of_kinks(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
                   weights: Mapping[str, np.ndarray], margin: float = KINK_MARGIN) -> bool:
    """Whether every ReLU along `steps` gets inputs at least `margin` away from 0."""
    a = np.asarray(x, dtype=np.float64)
    for name, act in steps:
        z = a @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        if act == "relu" and np.min(np.abs(z)) < margin:
            return False
        a = np.maximum(z, 0) if act == "relu" else z
    return True


def prefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {prefix + key: value for key, value in arrays.items()}


def sizes_of(inputs: Mapping[str, np.ndarray], prefix: str, first: str, last: str
             ) -> dict[str, int]:
    """n, d_in, h, d_out of the inputs under `prefix` (from x and the first and last layer)."""
    h, d_in = inputs[f"{prefix}{first}.weight"].shape
    return {"n": int(inputs[prefix + "x"].shape[0]), "d_in": int(d_in), "h": int(h),
            "d_out": int(inputs[f"{prefix}{last}.weight"].shape[0])}


def linear_weights(rng: np.random.Generator, layers: Sequence[tuple[str, int, int]],
                   gain: float = 1.0) -> dict[str, np.ndarray]:
    """State-dict arrays for nn.Linear layers given as (name, in_features, out_features)."""
    arrays: dict[str, np.ndarray] = {}
    for name, fan_in, fan_out in layers:
        arrays[f"{name}.weight"] = rng.standard_normal((fan_out, fan_in)) * gain / np.sqrt(fan_in)
        arrays[f"{name}.bias"] = rng.standard_normal(fan_out) * 0.5
    return arrays


# ------------------------------------------------------------------ the judge's numpy model

def chain(x: np.ndarray, steps: Iterable[tuple[str, str | None]],
          weights: Mapping[str, np.ndarray], upstream: np.ndarray | None = None
          ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Apply linear layers `name` (each followed by `act`: "relu", "sigmoid" or None) to x.

    Returns the output and, when `upstream` is given, the gradient of
    sum(output * upstream) for every weight used (shared layers add up).
    """
    steps = list(steps)
    a = np.asarray(x, dtype=np.float64)
    tape = []
    for name, act in steps:
        w, b = weights[f"{name}.weight"], weights[f"{name}.bias"]
        z = a @ w.T + b
        out = np.maximum(z, 0) if act == "relu" else (
            1 / (1 + np.exp(-z)) if act == "sigmoid" else z)
        tape.append((name, act, a, z, out))
        a = out
    grads: dict[str, np.ndarray] = {}
    if upstream is None:
        return a, grads
    grad = np.asarray(upstream, dtype=np.float64)
    for name, act, a_in, z, out in reversed(tape):
        if act == "relu":
            grad = grad * (z > 0)
        elif act == "sigmoid":
            grad = grad * out * (1 - out)
        for suffix, value in (("weight", grad.T @ a_in), ("bias", grad.sum(axis=0))):
            key = f"{name}.{suffix}"
            grads[key] = grads.get(key, 0) + value
        grad = grad @ weights[f"{name}.weight"]
    return a, grads


# ------------------------------------------------------------------ probes (worker)

def tensors(arrays: Mapping[str, np.ndarray], dtype: str = "float32") -> dict[str, Any]:
    import torch

    return {k: torch.tensor(np.asarray(v), dtype=getattr(torch, dtype)) for k, v in arrays.items()}


def describe_parameters(model: Any, sample: Any = None) -> dict[str, Any]:
    """What a model registered: its state_dict's shapes and its parameters.

    A parameter reachable under several names (a layer assigned as an attribute
    and also held in an nn.Sequential, a ModuleList or a ModuleDict) is one
    parameter: "params" lists every name of each, and "named" the first one.
    Lazy layers (nn.LazyLinear) are materialised by one forward pass on `sample`
    first, so that their shapes are the student's own.
    """
    taken = _grader_made(model)
    if taken:  # no state to describe: the structure checks fail with this as the reason
        return f"the grader's own {taken}, not your code: no credit"  # type: ignore[return-value]
    import torch
    from torch.nn.parameter import is_lazy

    if sample is not None and any(is_lazy(p) for p in model.parameters()):
        try:
            with torch.no_grad():
                model(sample)
        except Exception:  # noqa: BLE001 - the forward checks report a broken forward
            pass
    state = {}
    for key, value in model.state_dict().items():
        try:
            state[str(key)] = None if is_lazy(value) else list(value.shape)
        except Exception:  # noqa: BLE001 - an odd buffer
            state[str(key)] = None
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(str(name))
    params = list(names.values())
    return {"state": state, "params": params, "named": [n[0] for n in params],
            "count": len(params)}


def _grader_made(model: Any) -> str | None:
    """The name of a class of the grader's check code that the student's model is, or
    holds as a submodule (a notebook's worker keeps e07's reference models for e07's
    probes: `TwoLayerNet = <the grader's>` earns nothing); None when none."""
    try:
        parts = [model, *model.modules()]
    except Exception:  # noqa: BLE001 - not a module: the other checks say so
        parts = [model]
    for part in parts:
        for cls in type(part).__mro__:
            if str(getattr(cls, "__module__", "")).startswith("grader.checks"):
                return cls.__name__
    return None


def load_weights(model: Any, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Load the grader's weights (not strictly); say what could not be loaded."""
    taken = _grader_made(model)
    if taken:
        return {"error": f"the model is (or holds) the grader's own {taken}, not your code: "
                         "no credit", "missing": [], "unexpected": []}
    try:
        result = model.load_state_dict(tensors(arrays), strict=False)
    except Exception as exc:  # noqa: BLE001 - shape mismatches are a verdict, not a crash
        return {"error": " ".join(str(exc).split())[:400], "missing": [], "unexpected": []}
    return {"error": None, "missing": [str(k) for k in result.missing_keys],
            "unexpected": [str(k) for k in result.unexpected_keys]}


def gradients(model: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The .grad of the named parameters (None where there is none)."""
    params = dict(model.named_parameters(remove_duplicate=False))  # aliases too
    found = {}
    for key in keys:
        param = params.get(key)
        grad = getattr(param, "grad", None)
        found[key] = grad.detach().clone() if grad is not None else None
    return found


# ------------------------------------------------------------------ judges

def structure_problems(info: Any, expected: Mapping[str, tuple[int, ...]], modules: str,
                       sizes: str, example: str) -> tuple[list[Text], list[Text]]:
    """(registration problems, shape problems) of a `describe_parameters` result."""
    if not isinstance(info, dict) or not isinstance(info.get("state"), dict):
        return [t("not_constructible", cls="model", args="", got=str(info))], []
    state, count = info["state"], info.get("count", 0)
    registration: list[Text] = []
    if count == 0:
        registration.append(t("no_parameters", example=example))
    missing = [k for k in expected if k not in state]
    if missing and count:
        if missing_only_biases(info, expected):
            registration.append(t("missing_biases", keys=", ".join(missing)))
        else:
            registration.append(t("missing_keys", keys=", ".join(missing), modules=modules))
    # a parameter is extra when none of its names is an expected one (aliases are fine)
    aliases = info.get("params") or [[name] for name in info.get("named", [])]
    extra = [str(names[0]) for names in aliases
             if isinstance(names, list) and names and not any(n in expected for n in names)]
    if extra:
        registration.append(t("extra_parameters", keys=", ".join(extra), modules=modules))
    elif count != len(expected) and not registration:
        registration.append(t("parameter_count", got=count, expected=len(expected),
                              modules=modules))
    shapes: list[Text] = []
    for key, shape in expected.items():
        got = state.get(key)
        if isinstance(got, list) and tuple(got) != tuple(shape):
            shapes.append(t("wrong_param_shape", param=key, got=tuple(got), expected=tuple(shape),
                            sizes=sizes))
    if missing:
        shapes.append(t("load_missing", keys=", ".join(missing)))
    return registration, shapes


def load_problems(load: Any) -> list[Text]:
    """Why the grader's weights did not go into the model (empty when they did)."""
    if not isinstance(load, dict):
        return [t("load_failed", detail=str(load))]
    if load.get("error"):
        return [t("load_failed", detail=load["error"])]
    if load.get("unexpected"):
        return [t("load_missing", keys=", ".join(load["unexpected"]))]
    return []


def load_misconception(load: Any) -> str | None:
    """The likely cause when the grader's weights did not go in: a missing bias, sizes."""
    if not isinstance(load, dict):
        return None
    unexpected = [str(k) for k in load.get("unexpected") or []]
    if unexpected and all(k.endswith(".bias") for k in unexpected) and not any(
            k[:-len("bias")] + "weight" in unexpected for k in unexpected):
        return "bias_missing"
    if "size mismatch" in str(load.get("error")):
        return "swapped_sizes"
    return None


def missing_only_biases(info: Any, expected: Mapping[str, Any]) -> bool:
    """Whether a `describe_parameters` result lacks some biases and nothing else."""
    state = info.get("state") if isinstance(info, dict) else None
    if not isinstance(state, dict):
        return False
    missing = [k for k in expected if k not in state]
    return bool(missing) and all(k.endswith(".bias") and k[:-4] + "weight" in state
                                 for k in missing)


def matches_many(stack: Any, expected: np.ndarray, rtol: float = MODULE_RTOL) -> np.ndarray:
    """For each output in a stacked (calls, *shape) array: does it match `expected`?

    The same tolerance as `compare` (so the same verdict as `matches`), vectorised.
    """
    from grader.judging import tolerance

    have = as_array(stack)
    want = np.asarray(expected, dtype=np.float64)
    if have is None or have.ndim != want.ndim + 1 or have.shape[1:] != want.shape:
        return np.zeros(0 if have is None or have.ndim == 0 else len(have), dtype=bool)
    axes = tuple(range(1, have.ndim))
    finite = np.all(np.isfinite(have), axis=axes)
    with np.errstate(invalid="ignore"):
        within = np.all(np.abs(have - want) <= tolerance(want, rtol), axis=axes)
    return finite & within


def rows_hint(got: Any, expected: np.ndarray) -> list[Text]:
    """The large probes' hint when an output's shape is not the expected one."""
    have = as_array(got)
    if have is not None and have.shape != expected.shape:
        return [t("large_rows")]
    return []


def output_problems(label: str, got: Any, expected: np.ndarray) -> list[Text]:
    if not isinstance(got, TensorData):
        return [t("output_not_tensor", shape=tuple(expected.shape), got=_kind(got))]
    return compare(label, got, expected, MODULE_RTOL)


def matches(got: Any, expected: np.ndarray) -> bool:
    have = as_array(got)
    return have is not None and not compare("", have, expected, MODULE_RTOL)


def missing_grads(grads: Any, keys: Iterable[str]) -> list[str]:
    """Parameters whose gradient is None or all zero."""
    grads = grads if isinstance(grads, dict) else {}
    absent = []
    for key in keys:
        value = as_array(grads.get(key))
        if value is None or not np.any(value):
            absent.append(key)
    return absent


def _kind(value: Any) -> str:
    from grader.judging import kind_of
    return kind_of(value)
