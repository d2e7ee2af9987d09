"""e08: save and restore a training checkpoint (model, optimizer, epoch).

The probes hand the student a model and an SGD-with-momentum optimizer in a known state
(the grader's own reference model, `reference_models`; weights and momentum buffers drawn
from the seed), so the grader knows every saved value exactly, without running torch.

PROBE PLAN (all sizes and values drawn from the grader's seed):
- file_format: save_checkpoint(path, model, optimizer, epoch) with a str path; the probe
  sends back the file's raw bytes (at most `checkpoint_file.MAX_FILE_BYTES`). The grader
  reads them itself, under torch's weights_only rules, without torch
  (`checkpoint_file`): the worker ran student code, so nothing it says about the file is
  trusted. The file must hold the model's weights exactly (bit for bit, so half,
  bfloat16 or rounded copies fail), and the momentum buffers exactly where it holds them.
- resume: save, let the original train on (`MOVE_ON`), load into a FRESH model (other
  weights) and a FRESH optimizer (no momentum buffers), then K more steps with momentum.
  The loaded weights must equal the saved ones exactly; the K steps must match the
  uninterrupted run to float32 round-off (`RESUME_RTOL`), so a lost or rounded optimizer
  state shows.
- pathlike: a pathlib.Path, map_location given by name. without_optimizer:
  load_checkpoint(path, model), optimizer left at its default. cuda_to_cpu (GPU only).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from grader import hookimpl
from grader.checks import checkpoint_file
from grader.checks import reference_models as models
from grader.exercise import Exercise, Skip, failed, passed, t
from grader.judging import as_array, compare, compare_named, kind_of

PARAMS = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")
LEARNING_RATE, MOMENTUM = 3e-3, 0.9
K = 3          # steps after the checkpoint
EPOCH = 7      # the epoch handed to save_checkpoint (any int; not K, to tell them apart)
MOVE_ON = (-0.5, 0.25)   # after saving, every parameter p of the original becomes -0.5 p + 0.25
#: The momentum buffers are drawn at the size of a real step's gradient (|grad| is 20-50
#: here), so that a lost or rounded buffer changes the next steps clearly.
BUFFER_SCALE = 3.0
#: Resumed training against the uninterrupted run. Measured on the reference (float32
#: against float64, seeds 0-19): the losses differ by at most 1.3e-7 relative, the distance
#: the K steps move each weight by at most 9.6e-7 (relative, in norm over the weight);
#: momentum buffers stored in half precision move it by 3.1e-5 or more, in bfloat16 by
#: 2.4e-4, a lost optimizer state by 0.16 or more.
RESUME_LOSS_RTOL = 1e-6
RESUME_RTOL = 5e-6
#: The same on a GPU (not measured: no GPU where this was written; CUDA kernels may sum
#: in another order from run to run), kept wider.
CUDA_RTOL = 1e-4
#: For the live-state detector only: the original's weights moved on, in float32.
LIVE_RTOL = 1e-6


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    """Sizes, data, two sets of weights (saved / fresh) and the saved momentum buffers."""
    rng = np.random.default_rng([seed, 8])
    n, d_in, h, d_out = (int(rng.integers(12, 25)), int(rng.integers(4, 9)),
                         int(rng.integers(6, 11)), int(rng.integers(2, 5)))
    data = models.make_data(seed, n, d_in, h, d_out)
    for name in PARAMS:
        data["momentum." + name] = rng.standard_normal(data[name].shape) * BUFFER_SCALE
    return data


EXERCISE = Exercise(
    name="e08_checkpoint",
    title={"en": "Saving and resuming a checkpoint", "ko": "체크포인트 저장과 이어서 학습하기"},
    names=("save_checkpoint", "load_checkpoint"),
    make_inputs=make_inputs,
    messages={
        "no_file": {
            "en": "save_checkpoint(path, ...) wrote no file at `path`: save to exactly the "
                  "path you are given (torch.save(checkpoint, path)).",
            "ko": "save_checkpoint(path, ...)가 `path`에 파일을 쓰지 않았습니다: 전달받은 경로 "
                  "그대로 저장하세요 (torch.save(checkpoint, path)).",
        },
        "not_weights_only": {
            "en": "torch.load(path, weights_only=True) cannot read your checkpoint ({error}). "
                  "Save only plain data, with torch.save: state dicts (dicts of tensors), "
                  "numbers, strings.",
            "ko": "torch.load(path, weights_only=True)로 체크포인트를 읽을 수 없습니다 "
                  "({error}). torch.save로 평범한 데이터만 저장하세요: state dict(텐서 "
                  "딕셔너리), 숫자, 문자열.",
        },
        "holds_objects": {
            "en": "The checkpoint holds whole objects ({objects}), not their state dicts.",
            "ko": "체크포인트에 state dict가 아니라 객체 전체({objects})가 들어 있습니다.",
        },
        "map_location_default": {
            "en": "load_checkpoint's map_location defaults to {got}; the contract's default is "
                  "\"cpu\" (a checkpoint saved on a GPU must load on a machine without one).",
            "ko": "load_checkpoint의 map_location 기본값이 {got}입니다. 계약의 기본값은 \"cpu\"입니다 "
                  "(GPU에서 저장한 체크포인트도 GPU가 없는 컴퓨터에서 불러올 수 있어야 합니다).",
        },
        "model_not_restored": {
            "en": "After load_checkpoint(path, model, optimizer) the model's parameters are not "
                  "the saved ones.",
            "ko": "load_checkpoint(path, model, optimizer) 후 모델의 파라미터가 저장한 값이 "
                  "아닙니다.",
        },
        "resume_differs": {
            "en": "Training resumed from the checkpoint (fresh model and fresh SGD with "
                  "momentum, then load_checkpoint) does not continue as the uninterrupted run "
                  "does.",
            "ko": "체크포인트에서 이어서 학습한 결과(새 모델과 모멘텀을 쓰는 새 SGD에 "
                  "load_checkpoint)가 중단 없이 학습한 결과와 다릅니다.",
        },
        "epoch_not_int": {
            "en": "load_checkpoint should return the epoch as an int (int(...)); got {got}.",
            "ko": "load_checkpoint는 에포크를 int로 반환해야 합니다 (int(...)). {got}이(가) "
                  "나왔습니다.",
        },
        "epoch_wrong": {
            "en": "save_checkpoint was given epoch={expected}, but load_checkpoint returned "
                  "{got}: return the epoch that was saved.",
            "ko": "save_checkpoint에 epoch={expected}을(를) 넘겼는데 load_checkpoint가 {got}을(를) "
                  "반환했습니다: 저장한 에포크를 그대로 반환하세요.",
        },
        "pathlike_failed": {
            "en": "With a pathlib.Path instead of a str, the model did not come back as saved.",
            "ko": "경로를 str 대신 pathlib.Path로 주었더니 모델이 저장한 대로 복원되지 "
                  "않았습니다.",
        },
        "on_cpu_after_load": {
            "en": "After loading with map_location=\"cpu\", these are not on the CPU: {what}.",
            "ko": "map_location=\"cpu\"로 불러온 뒤에도 다음이 CPU에 있지 않습니다: {what}.",
        },
        "unreadable_file": {
            "en": "The grader cannot read your checkpoint file ({error}). Save one "
                  "dict of state dicts and the epoch with torch.save(checkpoint, path), with "
                  "torch.save's default settings.",
            "ko": "채점기가 체크포인트 파일을 읽을 수 없습니다 ({error}). state dict와 에포크를 "
                  "담은 딕셔너리 하나를 torch.save(checkpoint, path)로, torch.save의 기본 설정 "
                  "그대로 저장하세요.",
        },
        "file_too_big": {
            "en": "The checkpoint file has {size} bytes, more than the grader reads ({limit}): "
                  "save the state dicts and the epoch, nothing else.",
            "ko": "체크포인트 파일이 {size}바이트로, 채점기가 읽는 한도({limit})보다 큽니다: state "
                  "dict와 에포크만 저장하세요.",
        },
        "weights_not_in_file": {
            "en": "The checkpoint file does not hold the model's weights as they were when "
                  "saved: {names} not found in it. Save model.state_dict() as it is.",
            "ko": "체크포인트 파일에 저장할 때의 모델 가중치가 없습니다: {names}을(를) 찾을 수 "
                  "없습니다. model.state_dict()를 그대로 저장하세요.",
        },
        "not_exact_in_file": {
            "en": "The checkpoint file holds {what} only approximately ({dtype}, off by up to "
                  "{err:.3g}): a checkpoint must keep every value exactly, bit for bit. Save "
                  "the tensors as they are (no .half(), .bfloat16(), rounding or conversion).",
            "ko": "체크포인트 파일에 {what}이(가) 근사값으로만 들어 있습니다 ({dtype}, 최대 "
                  "{err:.3g} 차이): 체크포인트는 모든 값을 비트 하나까지 정확히 보존해야 합니다. "
                  "텐서를 그대로 저장하세요 (.half(), .bfloat16(), 반올림, 변환 금지).",
        },
        "label_momentum_buffers": {"en": "the momentum buffers of {names}",
                                   "ko": "{names}의 모멘텀 버퍼"},
        "not_exact": {
            "en": "{label}: not exactly the saved values (off by up to {err:.3g}): loading must "
                  "restore what was saved bit for bit.",
            "ko": "{label}: 저장한 값과 정확히 같지 않습니다 (최대 {err:.3g} 차이): 불러오기는 "
                  "저장한 값을 비트 하나까지 그대로 복원해야 합니다.",
        },
        "label_moved": {"en": "{when}: how far {name} moved",
                        "ko": "{when}: {name}이(가) 움직인 거리"},
        "moved_off": {
            "en": "{label}: off by {rel:.2g} of the expected distance (relative, over all "
                  "its elements).",
            "ko": "{label}: 기대한 거리에서 {rel:.2g}만큼 (모든 원소에 대해 상대적으로) "
                  "벗어났습니다.",
        },
        "model_only_with_optimizer": {
            "en": "load_checkpoint restores the model only when an optimizer is given: "
                  "load_checkpoint(path, model) must restore the model too (only the "
                  "optimizer's part is skipped when optimizer is None).",
            "ko": "load_checkpoint가 옵티마이저가 주어졌을 때만 모델을 복원합니다: "
                  "load_checkpoint(path, model)도 모델을 복원해야 합니다 (optimizer가 None일 "
                  "때는 옵티마이저 부분만 건너뜁니다).",
        },
        # misconceptions
        "precision_lost": {
            "en": "values lose precision on the way through the file: stored as half or "
                  "bfloat16, or rounded. A checkpoint must give back exactly what was saved "
                  "(resumed training then continues exactly as if never stopped): save "
                  "model.state_dict() and optimizer.state_dict() as they are.",
            "ko": "값이 파일을 거치며 정밀도를 잃습니다: half나 bfloat16으로 저장하거나 "
                  "반올림했습니다. 체크포인트는 저장한 값을 정확히 돌려줘야 합니다 (그래야 이어서 "
                  "학습해도 멈춘 적이 없는 것처럼 똑같이 이어집니다): model.state_dict()와 "
                  "optimizer.state_dict()를 그대로 저장하세요.",
        },
        "pickled_model": {
            "en": "torch.save(model) pickles the object itself: loading it runs pickled code "
                  "and needs the very same class at the same import path. Save "
                  "model.state_dict() and optimizer.state_dict() instead, and restore them "
                  "with load_state_dict.",
            "ko": "torch.save(model)는 객체 자체를 피클합니다: 불러올 때 피클된 코드가 실행되고, "
                  "똑같은 클래스가 같은 import 경로에 있어야 합니다. 대신 model.state_dict()와 "
                  "optimizer.state_dict()를 저장하고 load_state_dict로 복원하세요.",
        },
        "optimizer_state_missing": {
            "en": "the optimizer's state is not saved or not restored: SGD with momentum keeps "
                  "a momentum buffer per parameter, and a fresh optimizer starts from zero. "
                  "Save optimizer.state_dict() and, when an optimizer is given, call "
                  "optimizer.load_state_dict(...).",
            "ko": "옵티마이저 상태를 저장하지 않았거나 복원하지 않았습니다: 모멘텀을 쓰는 SGD는 "
                  "파라미터마다 모멘텀 버퍼를 갖고 있고, 새 옵티마이저는 0에서 시작합니다. "
                  "optimizer.state_dict()를 저장하고, 옵티마이저가 주어지면 "
                  "optimizer.load_state_dict(...)를 호출하세요.",
        },
        "live_state": {
            "en": "the model came back as the original is now, after training went on, not as "
                  "it was when saved: the checkpoint keeps references to the live tensors or "
                  "objects (in memory) instead of a copy. Write everything to the file with "
                  "torch.save and read it back from the file with torch.load.",
            "ko": "모델이 저장할 때의 상태가 아니라, 학습이 계속된 뒤 원본의 지금 상태로 "
                  "돌아왔습니다: 체크포인트가 복사본 대신 살아 있는 텐서나 객체에 대한 참조를 "
                  "(메모리에) 들고 있습니다. torch.save로 모든 것을 파일에 쓰고 torch.load로 "
                  "파일에서 읽으세요.",
        },
        "load_not_in_place": {
            "en": "loading must restore the model you are given, in place: "
                  "model.load_state_dict(checkpoint[...]) (and optimizer.load_state_dict(...)). "
                  "These leave the caller's model as it was: updating the dict that "
                  "model.state_dict() returns (it is a new dict, not the model), building or "
                  "copying a new model inside load_checkpoint, and load_state_dict(..., "
                  "strict=False) on a dict whose keys are not the model's (strict=False ignores "
                  "every key that does not match).",
            "ko": "불러오기는 전달받은 모델을 그 자리에서 복원해야 합니다: "
                  "model.load_state_dict(checkpoint[...]) (옵티마이저는 "
                  "optimizer.load_state_dict(...)). 다음은 모두 호출한 쪽의 모델을 그대로 둡니다: "
                  "model.state_dict()가 반환한 딕셔너리를 update하기(모델이 아니라 새로 만든 "
                  "딕셔너리입니다), load_checkpoint 안에서 새 모델을 만들거나 복사하기, 키가 모델의 "
                  "키와 다른 딕셔너리에 load_state_dict(..., strict=False) 쓰기(strict=False는 맞지 "
                  "않는 키를 모두 무시합니다).",
        },
    },
    hints={
        "en": ("Save one dict: the model's state_dict(), the optimizer's state_dict() and the "
               "epoch. Loading reads it back and calls load_state_dict on the objects you are "
               "given.",
               "save: torch.save({\"model\": model.state_dict(), \"optimizer\": "
               "optimizer.state_dict(), \"epoch\": int(epoch)}, path). load: checkpoint = "
               "torch.load(path, map_location=map_location, weights_only=True); "
               "model.load_state_dict(checkpoint[\"model\"]); if optimizer is not None: "
               "optimizer.load_state_dict(checkpoint[\"optimizer\"]); return "
               "int(checkpoint[\"epoch\"])."),
        "ko": ("딕셔너리 하나에 모델의 state_dict(), 옵티마이저의 state_dict(), 에포크를 담아 "
               "저장하세요. 불러올 때는 그것을 읽어 전달받은 객체에 load_state_dict를 "
               "호출합니다.",
               "저장: torch.save({\"model\": model.state_dict(), \"optimizer\": "
               "optimizer.state_dict(), \"epoch\": int(epoch)}, path). 불러오기: checkpoint = "
               "torch.load(path, map_location=map_location, weights_only=True); "
               "model.load_state_dict(checkpoint[\"model\"]); if optimizer is not None: "
               "optimizer.load_state_dict(checkpoint[\"optimizer\"]); return "
               "int(checkpoint[\"epoch\"])."),
    },
)


# ------------------------------------------------------------------ probes (worker side)
# Files go to the worker's current directory, a private scratch directory, under absolute
# paths (as a caller would give them: `os.makedirs(os.path.dirname(path))` works too).


def _path(name: str) -> str:
    return os.path.join(os.getcwd(), name)


def _training_goes_on(model, optimizer) -> None:
    """After saving, the original model and optimizer move on (as training does): loading
    must bring back what the file holds, not what the live objects hold now."""
    import torch

    with torch.no_grad():
        for param in model.parameters():
            param.mul_(MOVE_ON[0]).add_(MOVE_ON[1])
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value) and value.is_floating_point():
                    value.mul_(MOVE_ON[0]).add_(MOVE_ON[1])


def _saved_state(inputs, device: str = "cpu"):
    """The model and SGD-with-momentum optimizer to save: the seeded weights, and the
    seeded momentum buffers in the optimizer's state (as after some steps of training)."""
    import torch

    model = models.build(inputs, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    for name, param in model.named_parameters():
        optimizer.state[param]["momentum_buffer"] = torch.tensor(
            inputs["momentum." + name], dtype=torch.float32, device=device)
    return model, optimizer


def _fresh(inputs):
    """A model with OTHER weights and an optimizer without state: loading must fix both."""
    import torch

    model = models.build(inputs, other=True)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


@EXERCISE.probe
def file_format(sub, inputs):
    """The file's bytes, for the grader to read (see `checkpoint_file`)."""
    path = _path("checkpoint.pt")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    if not os.path.isfile(path):
        return {"exists": False, "size": 0, "bytes": None}
    size = os.path.getsize(path)
    if size > checkpoint_file.MAX_FILE_BYTES:
        return {"exists": True, "size": size, "bytes": None}
    with open(path, "rb") as file:
        raw = file.read(checkpoint_file.MAX_FILE_BYTES + 1)
    return {"exists": True, "size": len(raw), "bytes": np.frombuffer(raw, dtype=np.uint8)}


@EXERCISE.probe
def resume(sub, inputs):
    path = _path("resume.pt")
    x, y = models.tensors(inputs)
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh, fresh_optimizer)
    loaded = models.params(fresh)
    losses = models.sgd_steps(fresh, fresh_optimizer, x, y, K)
    return {"epoch": epoch, "loaded": loaded, "losses": losses,
            "params": models.params(fresh)}


@EXERCISE.probe
def pathlike(sub, inputs):
    from pathlib import Path

    path = Path("pathlike.pt").absolute()
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    # map_location given by name, as the signature promises (on every machine, not only
    # where CUDA makes the GPU check run)
    sub.load_checkpoint(path, fresh, fresh_optimizer, map_location="cpu")
    return {"loaded": models.params(fresh)}


@EXERCISE.probe
def without_optimizer(sub, inputs):
    path = _path("model_only.pt")
    model, optimizer = _saved_state(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, _ = _fresh(inputs)
    sub.load_checkpoint(path, fresh)      # optimizer left at its default, None
    return {"loaded": models.params(fresh),
            "map_location_default": _default_of(sub.load_checkpoint, "map_location")}


def _default_of(function, name: str) -> str | None:
    """repr of a parameter's default ("'cpu'"), or None when it has none or it cannot be
    read (then nothing is said: the calls decide)."""
    import inspect

    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return repr(parameter.default)[:80]


@EXERCISE.probe
def cuda_to_cpu(sub, inputs):
    import torch

    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    path = _path("from_cuda.pt")
    model, optimizer = _saved_state(inputs, device="cuda")
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, fresh_optimizer = _fresh(inputs)
    epoch = sub.load_checkpoint(path, fresh, fresh_optimizer, map_location="cpu")
    loaded = models.params(fresh)
    places = {f"parameter {n}": str(p.device) for n, p in fresh.named_parameters()}
    for index, state in enumerate(fresh_optimizer.state.values()):
        for key, value in state.items():
            if torch.is_tensor(value):
                places[f"optimizer state {index}.{key}"] = str(value.device)
    x, y = models.tensors(inputs)
    losses = models.sgd_steps(fresh, fresh_optimizer, x, y, K)
    return {"epoch": epoch, "loaded": loaded, "places": places, "losses": losses,
            "params": models.params(fresh)}


# ------------------------------------------------------------------ judges (grader side)

def _expected(inputs, prefix: str = "") -> dict[str, np.ndarray]:
    """The saved values as the model and optimizer held them: float32, widened exactly."""
    return {name: np.asarray(inputs[prefix + name], dtype=np.float32).astype(np.float64)
            for name in PARAMS}


def _number_runs(value: Any, seen: set[int], depth: int = 0) -> list[tuple[np.ndarray, str]]:
    """Every run of numbers the file holds, flattened: each tensor (with its dtype) and
    each list or tuple of plain numbers (Python floats: float64). Parts the file shares
    (pickle's memo) are visited once."""
    if depth > checkpoint_file.MAX_DEPTH or id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, checkpoint_file.StoredTensor):
        if value.array.dtype.kind in "fiu":
            return [(value.array.astype(np.float64).reshape(-1), value.dtype)]
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        numbers = _flat_numbers(value)
        if numbers is not None:
            return [(numbers, "float64")]
        return [run for item in value for run in _number_runs(item, seen, depth + 1)]
    return []


#: The most items a list saved in a checkpoint is walked for (a few models' worth).
MAX_LIST_ITEMS = 1_000_000


def _flat_numbers(value: list | tuple) -> np.ndarray | None:
    """A (nested) list of plain numbers, as tensor.tolist() gives, flattened in order;
    None when anything else is in it."""
    flat: list[float] = []
    stack = [iter(value)]
    visited = 0
    while stack:
        item = next(stack[-1], stack)
        visited += 1
        if visited > MAX_LIST_ITEMS:  # a list that holds itself many times over (pickle's
            return None               # memo shares it): no state dict is that big
        if item is stack:
            stack.pop()
        elif isinstance(item, (list, tuple)) and len(stack) < checkpoint_file.MAX_DEPTH:
            stack.append(iter(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            flat.append(float(item))
        else:
            return None
    return np.array(flat) if flat else None


def _held(runs: list[tuple[np.ndarray, str]], want: np.ndarray) -> tuple[bool, str, float]:
    """Whether `want` is held exactly (as one contiguous run, in C or transposed order) in
    one of `runs`; else the dtype and largest error of the closest run of its size."""
    closest = ("", np.inf)
    orders = [want.reshape(-1)] + ([want.T.reshape(-1)] if want.ndim == 2 else [])
    for values, dtype in runs:
        for target in orders:
            if values.size < target.size:
                continue
            if values.size == target.size:
                starts = [0]
            else:
                starts = np.flatnonzero(values[: values.size - target.size + 1] == target[0])
            for start in starts[:64]:
                part = values[start:start + target.size]
                if np.array_equal(part, target):
                    return True, dtype, 0.0
            if values.size == target.size:
                error = float(np.max(np.abs(values - target)))
                if error < closest[1]:
                    closest = (dtype, error)
    return False, closest[0], closest[1]


def _file_problems(decoded: Any, inputs) -> tuple[list, bool]:
    """What is wrong with the values in the file: each weight must be in it exactly; a
    momentum buffer need not be there (resume_training judges the optimizer), but where a
    copy close to it is, that copy must be exact too. Also: whether some value is only
    approximately there (stored at reduced precision)."""
    runs = _number_runs(decoded, set())
    missing = []
    rounded: dict[str, list[str]] = {"": [], "momentum.": []}
    dtypes, worst = set(), 0.0
    for prefix in rounded:
        for name, want in _expected(inputs, prefix).items():
            exact, dtype, error = _held(runs, want)
            if exact:
                continue
            if dtype and error <= 1e-2 * float(np.max(np.abs(want))):
                rounded[prefix].append(name)
                dtypes.add(dtype)
                worst = max(worst, error)
            elif not prefix:
                missing.append(name)
    lines = [t("weights_not_in_file", names=", ".join(missing))] if missing else []
    for prefix, names in rounded.items():
        if names:
            what = ", ".join(names) if not prefix else \
                t("label_momentum_buffers", names=", ".join(names))
            lines.append(t("not_exact_in_file", what=what, dtype=", ".join(sorted(dtypes)),
                           err=worst))
    return lines, bool(rounded[""] or rounded["momentum."])


#: Modules whose classes are whole models or optimizers: pickled instead of a state dict.
_OBJECT_MODULES = ("torch.nn.", "torch.optim.", models.__name__ + ".")


@EXERCISE.check(points=1.5, probe="file_format")
def weights_only_file(ctx):
    out = ctx.out
    if not out["exists"]:
        return failed(t("no_file"))
    if out["bytes"] is None:
        return failed(t("file_too_big", size=out["size"],
                        limit=checkpoint_file.MAX_FILE_BYTES))
    raw = as_array(out["bytes"])
    if raw is None or raw.ndim != 1:
        return failed(t("no_file"))
    try:
        decoded = checkpoint_file.read_checkpoint(raw.astype(np.uint8).tobytes())
    except checkpoint_file.NotAllowed as exc:
        line = t("not_weights_only", error=str(exc))
        if exc.name.startswith(_OBJECT_MODULES):
            return failed(line, t("holds_objects", objects=exc.name.rsplit(".", 1)[-1]),
                          misconception="pickled_model")
        return failed(line)
    except checkpoint_file.Refused as exc:
        return failed(t("not_weights_only", error=str(exc)))
    except checkpoint_file.Unreadable as exc:
        return failed(t("unreadable_file", error=str(exc)))
    except Exception as exc:  # noqa: BLE001 - whatever else a hostile file provokes: a verdict
        return failed(t("unreadable_file", error=f"{type(exc).__name__} while reading it"))
    problems, rounded = _file_problems(decoded, ctx.inputs)
    if not problems:
        return passed()
    return failed(*problems, misconception="precision_lost" if rounded else None)


def _exact_problems(got: Any, want: dict[str, Any], when) -> list:
    """Each named array of `got` equal to `want`'s, bit for bit (as float32 holds them);
    the ones that are only close are reported together, in one line."""
    got = got if isinstance(got, dict) else {}
    problems: list = []
    inexact, worst = [], 0.0
    for name, expected in want.items():
        have, wanted = as_array(got.get(name)), as_array(expected)
        if have is None or wanted is None or have.shape != wanted.shape:
            problems += compare(t("label_when", when=when, name=name), got.get(name), expected)
        elif not np.array_equal(have, wanted):
            inexact.append(name)
            worst = max(worst, float(np.max(np.abs(have - wanted))))
    if inexact:
        problems.append(t("not_exact", label=t("label_when", when=when, name=", ".join(inexact)),
                          err=worst))
    return problems


def _restored(ctx) -> list:
    return _exact_problems(ctx.out["loaded"], ctx.ref["loaded"], t("when_after_loading"))


def _moved(params: Any, start: dict[str, Any]) -> dict[str, Any]:
    """How far each weight moved from `start` (params minus start; None where unknown)."""
    params = params if isinstance(params, dict) else {}
    moved = {}
    for name, origin in start.items():
        have, base = as_array(params.get(name)), as_array(origin)
        moved[name] = params.get(name) if have is None or base is None or \
            have.shape != base.shape else have - base
    return moved


def _resume_problems(out: dict, ref: dict, loss_rtol: float = RESUME_LOSS_RTOL,
                     rtol: float = RESUME_RTOL) -> list:
    """The K steps after loading against the reference's: losses to float32 round-off,
    and how far each weight moved (a lost or rounded momentum buffer shows there)."""
    start = ref["loaded"]
    moved_out, moved_ref = _moved(out["params"], start), _moved(ref["params"], start)
    problems = compare(t("label_losses_resumed"), out["losses"], ref["losses"], loss_rtol)
    for name in moved_ref:
        label = t("label_moved", when=t("when_after_more_steps", steps=K), name=name)
        have, want = as_array(moved_out[name]), as_array(moved_ref[name])
        if have is None or want is None or have.shape != want.shape \
                or not np.all(np.isfinite(have)):
            problems += compare(label, moved_out[name], moved_ref[name])
            continue
        # one relative error per weight, in norm: rounding scatters at random over the
        # elements, a rounded momentum buffer shifts them all (see RESUME_RTOL)
        error, size = float(np.linalg.norm(have - want)), float(np.linalg.norm(want))
        if error > rtol * size + 1e-12:
            problems.append(t("moved_off", label=label, rel=error / (size or 1.0)))
    return problems


@EXERCISE.check(points=2, probe="resume")
def resume_model(ctx):
    problems = _restored(ctx)
    return failed(t("model_not_restored"), *problems) if problems else passed()


@EXERCISE.check(points=2, probe="resume")
def resume_training(ctx):
    problems = _resume_problems(ctx.out, ctx.ref)
    return failed(t("resume_differs"), *problems) if problems else passed()


def _number(value: Any) -> float | None:
    """The value of an int, float, NumPy scalar or one-element tensor; None otherwise."""
    array = as_array(value)
    return float(array.reshape(-1)[0]) if array is not None and array.size == 1 else None


@EXERCISE.check(points=1, probe="resume")
def returns_epoch(ctx):
    got, want = ctx.out["epoch"], ctx.ref["epoch"]
    value = _number(got)
    if isinstance(got, int) and not isinstance(got, bool):
        return passed() if got == want else failed(t("epoch_wrong", expected=want, got=got))
    if value is None:
        return failed(t("epoch_not_int", got=kind_of(got)))
    shown = t("kind_value", kind=kind_of(got), value=f"{value:g}")
    if value != want:
        return failed(t("epoch_wrong", expected=want, got=shown))
    return failed(t("epoch_not_int", got=shown), fraction=0.5)


@EXERCISE.check(points=0.5, probe="pathlike")
def path_like(ctx):
    problems = _restored(ctx)
    return failed(t("pathlike_failed"), *problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="without_optimizer")
def optimizer_optional(ctx):
    problems = _restored(ctx)
    if problems:
        return failed(t("model_not_restored"), *problems)
    default = ctx.out.get("map_location_default") if isinstance(ctx.out, dict) else None
    if default is not None and default not in ("'cpu'", "device(type='cpu')"):
        return failed(t("map_location_default", got=default), fraction=0.5)
    return passed()


@EXERCISE.check(points=0.5, probe="cuda_to_cpu", needs_cuda=True)
def cuda_checkpoint_on_cpu(ctx):
    elsewhere = [name for name, where in ctx.out["places"].items() if where != "cpu"]
    if elsewhere:
        return failed(t("on_cpu_after_load", what=", ".join(sorted(elsewhere))))
    loaded = _restored(ctx)
    if loaded:
        return failed(t("model_not_restored"), *loaded)
    problems = _resume_problems(ctx.out, ctx.ref, CUDA_RTOL, CUDA_RTOL)
    return failed(t("resume_differs"), *problems) if problems else passed()


# ------------------------------------------------------------------ misconceptions

def _without_optimizer_state(ref: dict) -> dict:
    import torch

    def save_checkpoint(path, model, optimizer, epoch):
        torch.save({"model": model.state_dict(), "epoch": int(epoch)}, path)

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        return int(checkpoint["epoch"])
    return {"save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint}


def _not_in_place(ref: dict) -> dict:
    import copy

    import torch

    def save_checkpoint(path, model, optimizer, epoch):
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": int(epoch)}, path)

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        restored = copy.deepcopy(model)          # a new model; the caller's stays as it was
        restored.load_state_dict(checkpoint["model"])
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer"])
        return int(checkpoint["epoch"])
    return {"save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint}


def _model_only_with_optimizer(ref: dict) -> dict:
    import torch

    def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        if optimizer is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        return int(checkpoint["epoch"])
    return {"load_checkpoint": load_checkpoint}


EXERCISE.misconception("load_not_in_place", checks=("resume_model", "resume_training",
                                                    "path_like", "optimizer_optional"))(
    _not_in_place)
EXERCISE.misconception("optimizer_state_missing", checks=("resume_training",))(
    _without_optimizer_state)
# Its only symptom is without an optimizer: listed on that check alone (a misconception
# is named only when every check it lists shows the mutant's outputs).
EXERCISE.misconception("model_only_with_optimizer", checks=("optimizer_optional",))(
    _model_only_with_optimizer)


def _live_state(ctx) -> bool:
    """The loaded model holds what the original holds after saving (see `MOVE_ON`)."""
    loaded, saved = ctx.out.get("loaded"), ctx.ref.get("loaded")
    if not isinstance(loaded, dict) or not isinstance(saved, dict) or not saved:
        return False
    moved_on = {}
    for name, value in saved.items():
        array = as_array(value)
        if array is None:
            return False
        moved_on[name] = array * MOVE_ON[0] + MOVE_ON[1]
    return not compare_named(loaded, moved_on, LIVE_RTOL)


def _precision_lost(ctx) -> bool:
    """Every weight came back close to the saved one (within 1%), but not exactly: stored
    at reduced precision (half, bfloat16) or rounded on the way."""
    loaded, saved = ctx.out.get("loaded"), ctx.ref.get("loaded")
    if not isinstance(loaded, dict) or not isinstance(saved, dict) or not saved:
        return False
    for name, value in saved.items():
        have, want = as_array(loaded.get(name)), as_array(value)
        if have is None or want is None or have.shape != want.shape:
            return False
        if np.max(np.abs(have - want)) > 1e-2 * np.max(np.abs(want)):
            return False
    return True


EXERCISE.misconception("precision_lost", detect=_precision_lost,
                       checks=("resume_model", "path_like", "optimizer_optional"))(None)
EXERCISE.misconception("live_state", detect=_live_state,
                       checks=("resume_model", "resume_training", "path_like",
                               "optimizer_optional"))(None)


@hookimpl
def grader_exercises():
    return [EXERCISE]
