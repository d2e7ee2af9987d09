"""Adding an exercise is three files and one manifest entry: proved on a copy of the kit.

A contributor's new exercise (`e10_softmax`: a stub, a solution, and a checks package
with its texts and its Korean stub) is dropped into a copy of the kit, one entry is
appended to grader/course.py, `python -m grader.course --write` rewrites the generated
tables and the stub's pristine copy, and the suite's rules that hold for every exercise then pass on it with no
other edit: the dev check (the stub scores 0, the solution full marks), the catalogue
rules (every text in every language), the hint levels and the stubs (the Korean one
the same code, the notebook in both languages), the manifest's own tests, and the
contract's public names and signatures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "e10_softmax"

STUB = '''\
"""e10: softmax, the function that turns scores into probabilities.

softmax(x)[i, j] = exp(x[i, j]) / sum_k exp(x[i, k]), row by row. Subtract each row's
maximum first: exp of a large score overflows, and the result does not change.
"""

import torch


def softmax(x):
    """The softmax of each row of a 2-D tensor `x`."""
    raise NotImplementedError("TODO: subtract the row maximum, exponentiate, divide by the row sum")
'''

SOLUTION = '''\
"""e10: softmax (reference)."""

import torch


def softmax(x):
    shifted = x - x.max(dim=1, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=1, keepdim=True)
'''

INIT = '''\
"""e10 (grader): softmax of each row, on seeded scores, some of them large."""

from grader import course, hookimpl
from grader.checks.e10_softmax import judges
from grader.checks.e10_softmax.inputs import make_inputs

EXERCISE = course.declare(__name__, make_inputs)   # name, title, texts... from the manifest
EXERCISE.check(points=2, probe="rows")(judges.values)
EXERCISE.check(points=1, probe="large")(judges.large_scores)
EXERCISE.misconception("columns", checks=["values"], mutant="columns")


@hookimpl
def grader_exercises():
    return [EXERCISE]
'''

INPUTS = '''\
"""e10 (grader): seeded scores; the large ones overflow exp without the shift."""

import numpy as np


def make_inputs(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(5, 40)), int(rng.integers(3, 17))
    return {"x": rng.standard_normal((rows, cols)).astype(np.float32),
            "large": (rng.standard_normal((rows, cols)) * 50 + 100).astype(np.float32)}
'''

PROBES = '''\
"""e10 (worker): call the submission's softmax on the grader's inputs."""

import torch


def rows(sub, inputs):
    return sub.softmax(torch.from_numpy(inputs["x"]))


def large(sub, inputs):
    return sub.softmax(torch.from_numpy(inputs["large"]))
'''

JUDGES = '''\
"""e10 (grader): compare with the reference's outputs."""

import numpy as np

from grader.exercise import failed, passed, t
from grader.judging import as_array, compare


def values(ctx):
    problems = compare("softmax(x)", ctx.out, ctx.ref, 1e-5)
    return failed(*problems) if problems else passed()


def large_scores(ctx):
    out = as_array(ctx.out)
    if out is not None and not np.isfinite(out).all():
        return failed(t("overflow"))
    problems = compare("softmax(large)", ctx.out, ctx.ref, 1e-5)
    return failed(*problems) if problems else passed()
'''

MUTANTS = '''\
"""e10 (reference worker): softmax over the wrong axis (the columns)."""

import torch


def columns(submitted):
    return {"softmax": lambda x: torch.softmax(x, dim=0)}
'''

KOREAN_STUB = '''\
"""e10: 소프트맥스, 점수를 확률로 바꾸는 함수.

softmax(x)[i, j] = exp(x[i, j]) / sum_k exp(x[i, k]), 행마다 계산합니다. 먼저 각 행의
최댓값을 빼세요: 큰 점수의 exp는 넘치지만, 빼도 결과는 같습니다.
"""

import torch


def softmax(x):
    """2차원 텐서 `x`의 각 행에 대한 소프트맥스."""
    raise NotImplementedError("TODO: 행의 최댓값을 빼고, exp를 취한 뒤, 행의 합으로 나누세요")
'''

TEXTS = {
    "en": {"hint.1": "Work row by row: dim=1, keepdim=True.",
           "hint.2": "Subtract each row's maximum before torch.exp, then divide by the row sum.",
           "hint.3": "shifted = x - x.max(dim=1, keepdim=True).values; then exp and divide.",
           "overflow": "Some outputs are inf or nan: exp overflowed on large scores.",
           "columns": "Each column sums to 1, not each row: the sum runs over dim=0. "
                      "A row is dim=1."},
    "ko": {"title": "소프트맥스",
           "hint.1": "행 단위로 계산하세요: dim=1, keepdim=True.",
           "hint.2": "torch.exp 전에 각 행의 최댓값을 빼고, 행의 합으로 나누세요.",
           "hint.3": "shifted = x - x.max(dim=1, keepdim=True).values; 그다음 exp를 취하고 나누세요.",
           "overflow": "일부 출력이 inf나 nan입니다: 큰 점수에서 exp가 넘쳤습니다.",
           "columns": "행이 아니라 각 열의 합이 1입니다: 합을 dim=0으로 구했습니다. 행은 dim=1입니다."},
}

ENTRY = '''\
    _entry(
        "e10_softmax", "Softmax, row by row",
        "softmax of each row, stable for large scores",
        "the softmax of each row of a 2-D tensor, without overflow for large scores",
        Public("softmax(x) -> Tensor")),
)
'''


def _kit_copy(tmp_path: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    kit = tmp_path / "kit"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = kit / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return kit


def _add_exercise(kit: Path) -> None:
    (kit / "exercises" / f"{NAME}.py").write_text(STUB)
    (kit / "solutions" / f"{NAME}.py").write_text(SOLUTION)
    (kit / "grader" / "stubs" / "ko" / f"{NAME}.py").write_text(KOREAN_STUB)
    package = kit / "grader" / "checks" / NAME
    (package / "texts").mkdir(parents=True)
    for file, text in [("__init__.py", INIT), ("inputs.py", INPUTS), ("probes.py", PROBES),
                       ("judges.py", JUDGES), ("mutants.py", MUTANTS)]:
        (package / file).write_text(text)
    for lang, texts in TEXTS.items():
        (package / "texts" / f"{lang}.json").write_text(json.dumps(texts, ensure_ascii=False))
    manifest = kit / "grader" / "course.py"
    text = manifest.read_text()
    end = text.index("\n)\n\nBY_NAME")   # the end of the COURSE tuple
    manifest.write_text(text[:end + 1] + ENTRY + text[end + 3:])


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the kit's git checkout")
def test_a_new_exercise_needs_three_files_and_a_manifest_entry(tmp_path):
    kit = _kit_copy(tmp_path)
    _add_exercise(kit)
    env = {**os.environ, "PYTHONPATH": str(kit), "GRADER_NO_CACHE": "1"}
    env.pop("PYTHONSAFEPATH", None)
    run = lambda *args, **kw: subprocess.run(  # noqa: E731
        [sys.executable, *args], cwd=kit, env=env, capture_output=True, text=True, **kw)

    wrote = run("-m", "grader.course", "--write", timeout=60)
    assert wrote.returncode == 0, wrote.stderr

    solutions = run("-m", "grader", "solutions", "--only", NAME, "--format", "json",
                    timeout=300)
    assert solutions.returncode == 0, solutions.stdout[-3000:] + solutions.stderr[-3000:]
    stubs = run("-m", "grader", "exercises", "--only", NAME, "--lang", "ko", timeout=300)
    assert stubs.returncode == 1 and "소프트맥스" in stubs.stdout, stubs.stdout[-3000:]

    buggy = tmp_path / "buggy"
    buggy.mkdir()
    (buggy / f"{NAME}.py").write_text(textwrap.dedent('''\
        import torch
        def softmax(x):
            return torch.exp(x) / torch.exp(x).sum(dim=0, keepdim=True)
        '''))
    graded = run("-m", "grader", str(buggy), "--only", NAME, "--format", "json", timeout=300)
    exercise = next(e for e in json.loads(graded.stdout)["exercises"] if e["name"] == NAME)
    checks = {c["name"]: c for c in exercise["checks"]}
    assert checks["values"]["status"] == "failed", checks
    assert checks["values"].get("misconception") == "columns", checks["values"]
    assert checks["large_scores"]["status"] == "failed", checks   # and no shift: inf

    rules = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_course.py",
                "tests/test_messages.py", "tests/test_dev_check.py",
                "tests/test_hints_and_notebook.py", "-k",
                f"{NAME} or documents or builtin_plugin or every_key_the_shared",
                timeout=1200)
    assert rules.returncode == 0, rules.stdout[-4000:] + rules.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", rules.stdout).group(1))
    assert passed >= 15, rules.stdout[-2000:]   # the new exercise's own parametrized rules
    contract = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_contract.py",
                   "-k", "public or signature", timeout=1200)
    assert contract.returncode == 0, contract.stdout[-4000:] + contract.stderr[-2000:]
