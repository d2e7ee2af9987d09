"""An example exercise pack: one exercise, `x01_square`, with its own stub and reference.

A pack is a plugin of the entry-point group "grader" that implements the
`grader_exercises` hook. Its exercise carries `solution=`, the path of its
reference file (named after the exercise), since the kit's `solutions/` does
not hold it; the stub students start from is `exercises/x01_square.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader import hookimpl
from grader.exercise import Exercise, failed, passed
from grader.judging import compare

HERE = Path(__file__).resolve().parent
STUB = HERE / "exercises" / "x01_square.py"


def make_inputs(seed: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).standard_normal((4, 3))}


EXERCISE = Exercise(
    name="x01_square",
    title={"en": "Square every element (example pack)", "ko": "모든 원소 제곱하기 (예제 팩)"},
    names=("square",),
    make_inputs=make_inputs,
    hints={"en": ("Multiply the array by itself, element by element: x * x.",),
           "ko": ("배열을 원소별로 자기 자신과 곱하세요: x * x.",)},
    solution=str(HERE / "solution" / "x01_square.py"),
)


@EXERCISE.probe
def squares(sub, inputs):
    return sub.square(inputs["x"].copy())


@EXERCISE.check(points=1, probe="squares")
def square_values(ctx):
    lines = compare("square(x)", ctx.out, ctx.ref)
    return failed(*lines) if lines else passed()


@hookimpl
def grader_exercises():
    return [EXERCISE]
