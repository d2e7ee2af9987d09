"""Messages shared by every exercise, in English and Korean; and the renderer.

Exercise modules keep their own catalogues next to their checks; a key is
looked up there first, then here. A missing translation falls back to English.
"""

from __future__ import annotations

from typing import Iterable

from grader.exercise import Catalog, Text

LANGUAGES = ("en", "ko")

COMMON: dict[str, dict[str, str]] = {
    "missing_exercise": {
        "en": "Not found in your submission: expected {file}.py (or .ipynb), or a notebook "
              "that defines {names}.",
        "ko": "제출물에서 찾을 수 없습니다: {file}.py(또는 .ipynb) 파일이나 {names}을(를) 정의한 "
              "노트북이 필요합니다.",
    },
    "not_implemented": {
        "en": "Not implemented yet: `{name}` still raises NotImplementedError. {todo}",
        "ko": "아직 구현되지 않았습니다: `{name}`에서 여전히 NotImplementedError가 발생합니다. {todo}",
    },
    "todo_summary": {
        "en": "To do: fill in the TODOs in {file} (checks waiting on them: {count}).",
        "ko": "할 일: {file}의 TODO를 채우세요 (TODO 때문에 아직 채점하지 못한 항목: {count}개).",
    },
    "missing_name": {
        "en": "`{name}` is not defined in your submission; the exercise needs {names}.",
        "ko": "제출물에 `{name}`이(가) 정의되어 있지 않습니다. 이 문제에는 {names}이(가) 필요합니다.",
    },
    "empty_file": {
        "en": "{file} is empty: there is no code in it to grade (was it saved before it was "
              "handed in?).",
        "ko": "{file}이(가) 비어 있습니다: 채점할 코드가 없습니다 (제출하기 전에 저장했나요?).",
    },
    "syntax_error": {
        "en": "Syntax error in {file}, line {line}: {message}\n    {text}",
        "ko": "{file}의 {line}번째 줄에 문법 오류가 있습니다: {message}\n    {text}",
    },
    "exit_at_import": {
        "en": "{file} called sys.exit() / exit() while being loaded ({message}); nothing in it "
              "could be graded. Move such code under `if __name__ == \"__main__\":`.",
        "ko": "{file}을(를) 불러오는 도중 sys.exit()/exit()가 호출되어 ({message}) 이 파일은 "
              "하나도 채점할 수 없습니다. 그런 코드는 `if __name__ == \"__main__\":` 아래로 "
              "옮기세요.",
    },
    "load_error": {
        "en": "{file} raised {type} while being loaded (line {line}): {message}\nEverything "
              "at the top level of a file runs when the grader imports it: keep demos and "
              "experiments (and the imports only they need) under "
              "`if __name__ == \"__main__\":`.",
        "ko": "{file}을(를) 불러오는 중 {type} 오류가 났습니다 ({line}번째 줄): {message}\n채점기가 "
              "파일을 import하면 파일 최상위의 코드가 모두 실행됩니다: 데모나 실험 코드(와 그것만 "
              "쓰는 import)는 `if __name__ == \"__main__\":` 아래에 두세요.",
    },
    "raised": {
        "en": "Your code raised {type}: {message}{where}",
        "ko": "코드에서 {type} 오류가 발생했습니다: {message}{where}",
    },
    "where": {
        "en": " (line {line} of {file}, in `{function}`)",
        "ko": " ({file}의 {line}번째 줄, `{function}` 안)",
    },
    "exited": {
        "en": "Your code called sys.exit() ({message}) instead of returning a result.",
        "ko": "코드가 결과를 반환하지 않고 sys.exit()를 호출했습니다 ({message}).",
    },
    "memory": {
        "en": "Your code tried to use more memory than allowed ({limit} MB more than the "
              "grader's own): {message}",
        "ko": "코드가 허용된 메모리(채점기 자체 사용량 외 {limit} MB)보다 많이 쓰려고 했습니다: {message}",
    },
    "timeout": {
        "en": "Stopped after {seconds:g} s: your code took too long (an infinite loop, or far "
              "too many steps?).",
        "ko": "코드가 너무 오래 걸려 {seconds:g}초 만에 중단했습니다 (무한 루프이거나 반복 횟수가 "
              "너무 많지 않은지 확인하세요).",
    },
    "timeout_at": {
        "en": "Stopped after {seconds:g} s: your code took too long (an infinite loop, or far "
              "too many steps?).{where}",
        "ko": "코드가 너무 오래 걸려 {seconds:g}초 만에 중단했습니다 (무한 루프이거나 반복 횟수가 "
              "너무 많지 않은지 확인하세요).{where}",
    },
    "stopped_at": {
        "en": " It was running line {line} of {file}, in `{function}`:\n    {text}",
        "ko": " 중단된 곳: {file}의 {line}번째 줄, `{function}` 안:\n    {text}",
    },
    "stopped_at_top": {
        "en": " It was running line {line} of {file}:\n    {text}",
        "ko": " 중단된 곳: {file}의 {line}번째 줄:\n    {text}",
    },
    "timeout_in_cell": {
        "en": "Stopped after {seconds:g} s while running code cell {cell} of {file}. A "
              "notebook's top-level code (its demos and experiments) runs once, with "
              "{seconds:g} s in all (--notebook-timeout): make long experiments shorter (fewer "
              "steps, smaller data), or start such a cell with %%time and the grader skips "
              "it.{where}",
        "ko": "{file}의 {cell}번째 코드 셀을 실행하던 중 {seconds:g}초가 지나 중단했습니다. "
              "노트북 최상위 코드(데모와 실험)는 한 번만 실행되며 모두 합쳐 {seconds:g}초 안에 "
              "끝나야 합니다(--notebook-timeout): 오래 걸리는 실험은 줄이거나(반복 횟수나 데이터를 "
              "작게), 셀 첫 줄을 %%time으로 시작해 채점기가 그 셀을 건너뛰게 하세요.{where}",
    },
    "crashed": {
        "en": "The process running your code died ({how}) before this check finished "
              "(os._exit(), a segmentation fault, or a kill?).",
        "ko": "이 검사가 끝나기 전에 코드를 실행하던 프로세스가 종료되었습니다 ({how}). "
              "os._exit() 호출, 세그멘테이션 오류, 강제 종료 중 하나일 수 있습니다.",
    },
    "violation": {
        "en": "Your submission tried to use the kit's reference solutions ({what}). Copying "
              "the reference is not a submission: no credit for this exercise.",
        "ko": "제출물이 키트의 참고 답안을 사용하려 했습니다 ({what}). 참고 답안을 베끼는 것은 "
              "제출로 인정되지 않으므로 이 문제는 0점입니다.",
    },
    "killed_sandbox": {
        "en": "Your code killed the grader's sandbox process (the one that runs it), so "
              "this exercise could not be graded: no credit.",
        "ko": "코드가 채점기의 샌드박스 프로세스(코드를 실행하는 프로세스)를 종료시켜 이 문제를 "
              "채점할 수 없었습니다: 0점입니다.",
    },
    "internal": {
        "en": "Internal grader error ({detail}). This check was left ungraded, not marked "
              "wrong; please tell the course staff.",
        "ko": "채점기 내부 오류입니다 ({detail}). 이 항목은 오답 처리하지 않고 채점하지 않았습니다. "
              "강의 담당자에게 알려 주세요.",
    },
    "cell_error": {
        "en": "Notebook {file}, code cell {cell} raised {type}: {message}",
        "ko": "노트북 {file}의 {cell}번째 코드 셀에서 {type} 오류가 발생했습니다: {message}",
    },
    "no_cuda": {
        "en": "Skipped: no CUDA device here (a skipped check counts neither for nor against you).",
        "ko": "건너뜀: 이 컴퓨터에는 CUDA 장치가 없습니다 (건너뛴 항목은 점수에 영향을 주지 않습니다).",
    },
    "misconception": {
        "en": "Likely misconception: {text}",
        "ko": "예상되는 오해: {text}",
    },
    "output_note": {
        "en": "Your code printed {size} bytes; only the beginning and the end are kept.",
        "ko": "코드가 {size}바이트를 출력했습니다. 처음과 끝 부분만 보관합니다.",
    },
    "bad_channel": {
        "en": "The worker's result channel was tampered with ({detail}); no credit.",
        "ko": "작업 프로세스의 결과 채널이 변조되었습니다 ({detail}). 점수를 받을 수 없습니다.",
    },
    "no_result": {
        "en": "Your code did not produce a result for this check.",
        "ko": "코드가 이 검사 항목의 결과를 내지 않았습니다.",
    },
    # comparisons (grader.judging)
    "wrong_type": {
        "en": "{label}: expected {expected}, got {got}.",
        "ko": "{label}: {expected}이(가) 필요한데 {got}이(가) 나왔습니다.",
    },
    "wrong_shape": {
        "en": "{label}: expected shape {expected}, got shape {got}.",
        "ko": "{label}: 모양(shape)이 {expected}이어야 하는데 {got}입니다.",
    },
    "transposed": {
        "en": "{label} has the transposed shape: check which side of the matrix product "
              "each factor goes on (x.T @ ..., ... @ w.T).",
        "ko": "{label}의 모양이 전치되어 있습니다: 행렬 곱에서 각 항이 어느 쪽에 와야 하는지 "
              "확인하세요 (x.T @ ..., ... @ w.T).",
    },
    "nonfinite": {
        "en": "{label} contains NaN or infinity (the expected values are all finite).",
        "ko": "{label}에 NaN 또는 무한대가 있습니다 (기대값은 모두 유한합니다).",
    },
    "wrong_values": {
        "en": "{label}: the values differ from the reference, most at index {index}: got "
              "{got:.6g}, expected {expected:.6g} (off by {err:.3g}).",
        "ko": "{label}: 값이 참고 답과 다릅니다. 위치 {index}에서 가장 크게 다릅니다: 실제 값 "
              "{got:.6g}, 기대값 {expected:.6g} (차이 {err:.3g}).",
    },
    "wrong_value": {
        "en": "{label}: got {got:.6g}, expected {expected:.6g} (off by {err:.3g}).",
        "ko": "{label}: 실제 값 {got:.6g}, 기대값 {expected:.6g} (차이 {err:.3g}).",
    },
    "ratio": {
        "en": "{label} is off by a constant factor: about {ratio:.3g} times the expected "
              "value.",
        "ko": "{label} 값이 일정한 배수만큼 다릅니다: 기대값의 약 {ratio:.3g}배입니다.",
    },
    "wrong_length": {
        "en": "{label}: expected {expected} values, got {got}.",
        "ko": "{label}: 값이 {expected}개여야 하는데 {got}개입니다.",
    },
    "ok": {"en": "Correct.", "ko": "정답입니다."},
    # labels that say when a value was taken (grader.judging.compare_named)
    "label_when": {"en": "{when}: {name}", "ko": "{when}: {name}"},
    "when_after_train": {"en": "after train", "ko": "train 후"},
    "when_after_train_cuda": {"en": "after train on CUDA", "ko": "CUDA에서 train 후"},
    "when_after_loading": {"en": "after loading", "ko": "불러온 직후"},
    "when_after_more_steps": {"en": "after {steps} more steps", "ko": "{steps}단계 더 학습한 후"},
    "label_losses_momentum": {"en": "losses (momentum={momentum})",
                              "ko": "손실 (momentum={momentum})"},
    "label_losses_resumed": {"en": "losses after resuming", "ko": "재개한 뒤의 손실"},
    "expected_float_list": {"en": "a list of floats", "ko": "float로 이루어진 리스트"},
    "expected_result": {"en": "a result", "ko": "결과"},
    "label_backward_probe": {"en": "the backward run", "ko": "역전파 실행"},
    "label_grad_first_use": {"en": "x.grad (first use, on x)",
                             "ko": "x.grad (첫 번째 사용, x에 적용)"},
    "label_grad_second_use": {"en": "x.grad (second use, on -x)",
                              "ko": "x.grad (두 번째 사용, -x에 적용)"},
    "kind_value": {"en": "{kind} = {value}", "ko": "{kind} = {value}"},
    # how a value is described (grader.judging.kind_of)
    "kind_tensor": {"en": "a torch tensor ({dtype}, shape {shape}, on {device})",
                    "ko": "torch 텐서({dtype}, 모양 {shape}, 장치 {device})"},
    "kind_ndarray": {"en": "a NumPy array ({dtype}, shape {shape})",
                     "ko": "NumPy 배열({dtype}, 모양 {shape})"},
    "kind_npscalar": {"en": "a NumPy scalar ({dtype})", "ko": "NumPy 스칼라({dtype})"},
    "kind_object": {"en": "an object of type {type}", "ko": "{type} 타입의 객체"},
    "kind_none": {"en": "None", "ko": "None"},
    "kind_tuple": {"en": "a tuple of {size}", "ko": "원소 {size}개짜리 튜플"},
    "kind_list": {"en": "a list of {size}", "ko": "원소 {size}개짜리 리스트"},
    "kind_python": {"en": "a Python {type}", "ko": "Python {type}"},
}


def render(text: Text | str, lang: str, catalogs: Iterable[Catalog]) -> str:
    """One message in `lang` (English when there is no translation)."""
    if isinstance(text, str):
        return text
    catalogs = list(catalogs) + [COMMON]
    for catalog in catalogs:
        entry = catalog.get(text.key)
        if entry:
            template = entry.get(lang) or entry["en"]
            params = {k: render(v, lang, catalogs) if isinstance(v, Text) else v
                      for k, v in text.params.items()}
            try:
                return template.format(**params)
            except (KeyError, ValueError, IndexError, TypeError):
                return f"{template} {params}"
    return text.key


def render_lines(lines: Iterable[Text | str], lang: str, catalogs: Iterable[Catalog]) -> str:
    catalogs = list(catalogs)
    return "\n".join(render(line, lang, catalogs) for line in lines if line)
