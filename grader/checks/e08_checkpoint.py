"""e08: save and restore a training checkpoint (model, optimizer, epoch).

The probes run the training themselves, with the grader's own reference model
and SGD with momentum (`reference_models`): the student writes only the saving
and loading. The decisive check is resume-equivalence: train K steps, save,
load into a FRESH model (other weights) and a FRESH optimizer, train K more,
and land exactly where 2K uninterrupted steps land.
"""

from __future__ import annotations

import os
import re
from typing import Any

from grader import hookimpl
from grader.checks import reference_models as models
from grader.exercise import Exercise, Skip, failed, passed, t
from grader.judging import as_array, compare, compare_named, kind_of

N, D_IN, H, D_OUT = 16, 6, 8, 3
LEARNING_RATE, MOMENTUM = 3e-3, 0.9
K = 3          # steps before the checkpoint and after it
EPOCH = 7      # the epoch handed to save_checkpoint (any int; not K, to tell them apart)
RTOL = 1e-3
MOVE_ON = (-0.5, 0.25)   # after saving, every parameter p of the original becomes -0.5 p + 0.25

EXERCISE = Exercise(
    name="e08_checkpoint",
    title={"en": "Saving and resuming a checkpoint", "ko": "체크포인트 저장과 이어서 학습하기"},
    names=("save_checkpoint", "load_checkpoint"),
    make_inputs=lambda seed: models.make_data(seed, N, D_IN, H, D_OUT),
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
        # misconceptions
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


def _trained(inputs, device: str = "cpu"):
    """The reference model after K steps of SGD with momentum, and its optimizer."""
    import torch

    model = models.build(inputs, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    x, y = models.tensors(inputs, device=device)
    models.sgd_steps(model, optimizer, x, y, K)
    return model, optimizer


def _fresh(inputs):
    """A model with OTHER weights and an optimizer without state: loading must fix both."""
    import torch

    model = models.build(inputs, other=True)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


def _objects(value: Any, depth: int = 0) -> list[str]:
    """Type names of modules/optimizers pickled whole inside a loaded checkpoint."""
    import torch

    if isinstance(value, (torch.nn.Module, torch.optim.Optimizer)):
        return [type(value).__name__]
    if depth > 4:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _objects(item, depth + 1)]
    return []


def _load_error(exc: BaseException) -> str:
    """The telling part of torch.load's (long, ANSI-coloured) weights_only error."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    found = re.search(r"Unsupported global: GLOBAL \S+", text)
    if found:
        detail = found.group(0)
    else:
        text = text.split("WeightsUnpickler error:", 1)[-1]
        detail = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {detail[:200]}"


@EXERCISE.probe
def file_format(sub, inputs):
    import torch

    path = _path("checkpoint.pt")
    model, optimizer = _trained(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    facts = {"exists": os.path.isfile(path), "weights_only": False, "error": "", "objects": []}
    if not facts["exists"]:
        return facts
    try:
        torch.load(path, weights_only=True)
        facts["weights_only"] = True
    except Exception as exc:  # noqa: BLE001 - any failure is the verdict
        facts["error"] = _load_error(exc)
        try:   # the student's own file, in the student's own sandbox
            facts["objects"] = sorted(set(_objects(torch.load(path, weights_only=False))))
        except Exception:  # noqa: BLE001
            pass
    return facts


@EXERCISE.probe
def resume(sub, inputs):
    path = _path("resume.pt")
    x, y = models.tensors(inputs)
    model, optimizer = _trained(inputs)
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
    model, optimizer = _trained(inputs)
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
    model, optimizer = _trained(inputs)
    sub.save_checkpoint(path, model, optimizer, EPOCH)
    _training_goes_on(model, optimizer)
    fresh, _ = _fresh(inputs)
    sub.load_checkpoint(path, fresh)      # optimizer left at its default, None
    return {"loaded": models.params(fresh)}


@EXERCISE.probe
def cuda_to_cpu(sub, inputs):
    import torch

    if not torch.cuda.is_available():
        raise Skip("no CUDA device")
    path = _path("from_cuda.pt")
    model, optimizer = _trained(inputs, device="cuda")
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

@EXERCISE.check(points=1.5, probe="file_format")
def weights_only_file(ctx):
    out = ctx.out
    if not out["exists"]:
        return failed(t("no_file"))
    if out["weights_only"]:
        return passed()
    lines = [t("not_weights_only", error=out["error"])]
    if out["objects"]:
        lines.append(t("holds_objects", objects=", ".join(out["objects"])))
        return failed(*lines, misconception="pickled_model")
    return failed(*lines)


@EXERCISE.check(points=2, probe="resume")
def resume_model(ctx):
    problems = compare_named(ctx.out["loaded"], ctx.ref["loaded"], RTOL, t("when_after_loading"))
    return failed(t("model_not_restored"), *problems) if problems else passed()


@EXERCISE.check(points=2, probe="resume")
def resume_training(ctx):
    problems = compare(t("label_losses_resumed"), ctx.out["losses"], ctx.ref["losses"], RTOL) + \
        compare_named(ctx.out["params"], ctx.ref["params"], RTOL,
                      t("when_after_more_steps", steps=K))
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
    problems = compare_named(ctx.out["loaded"], ctx.ref["loaded"], RTOL, t("when_after_loading"))
    return failed(t("pathlike_failed"), *problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="without_optimizer")
def optimizer_optional(ctx):
    problems = compare_named(ctx.out["loaded"], ctx.ref["loaded"], RTOL, t("when_after_loading"))
    return failed(t("model_not_restored"), *problems) if problems else passed()


@EXERCISE.check(points=0.5, probe="cuda_to_cpu", needs_cuda=True)
def cuda_checkpoint_on_cpu(ctx):
    elsewhere = [name for name, where in ctx.out["places"].items() if where != "cpu"]
    if elsewhere:
        return failed(t("on_cpu_after_load", what=", ".join(sorted(elsewhere))))
    loaded = compare_named(ctx.out["loaded"], ctx.ref["loaded"], RTOL, t("when_after_loading"))
    if loaded:
        return failed(t("model_not_restored"), *loaded)
    problems = compare(t("label_losses_resumed"), ctx.out["losses"], ctx.ref["losses"], RTOL) + \
        compare_named(ctx.out["params"], ctx.ref["params"], RTOL,
                      t("when_after_more_steps", steps=K))
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


EXERCISE.misconception("load_not_in_place", checks=("resume_model", "resume_training",
                                                    "path_like", "optimizer_optional"))(
    _not_in_place)
EXERCISE.misconception("optimizer_state_missing", checks=("resume_training",))(
    _without_optimizer_state)


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
    return not compare_named(loaded, moved_on, RTOL)


EXERCISE.misconception("live_state", detect=_live_state,
                       checks=("resume_model", "resume_training", "path_like",
                               "optimizer_optional"))(None)


@hookimpl
def grader_exercises():
    return [EXERCISE]
