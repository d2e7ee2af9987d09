"""`--format gradescope`: Gradescope's autograder `results.json`.

    {"score": 3.0,
     "output": "...",                      # notes, and per exercise its score, summary, hint
     "tests": [{"name": "e01_numpy_grads: check_grads_loss", "score": 1.0,
                "max_score": 1.0, "output": "feedback", "visibility": "visible",
                "status": "passed"}, ...]}

Gradescope knows only "passed" and "failed": an error or a timeout is "failed"
(its output says which). A skipped check (a GPU check without a GPU) counts
neither for nor against, so it is listed with a max_score of 0. The top-level
"score" is the report's total, which is also the sum of the tests' scores; the
assignment's maximum is set in Gradescope (the tests' max_scores add up to it).
A batch (never made by Gradescope itself) gives {"submissions": [{"id": ..., ...}]}.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

OUTPUT_LIMIT = 4000   # characters of the submission's own printed output kept per exercise


def _number(value: float) -> str:
    return f"{value:g}"


def _test(exercise: ExerciseResult, check: CheckResult) -> dict[str, Any]:
    skipped = check.status == "skipped"
    output = check.feedback or ("" if check.status == "passed" else exercise.summary)
    if check.status in ("error", "timeout"):
        output = f"[{check.status}] {output}".rstrip()
    if skipped:
        output = f"[skipped: counts neither for nor against] {output}".rstrip()
    return {"name": f"{exercise.name}: {check.name}",
            "score": 0.0 if skipped else check.score,
            "max_score": 0.0 if skipped else check.max_score,
            "output": clean(output),
            "visibility": "visible",
            "status": "passed" if check.status in ("passed", "skipped") else "failed"}


def _output(report: Report) -> str:
    # No seed: students see this output, and staff keep their grading seed to themselves.
    lines = [f"Total: {_number(report.score)}/{_number(report.max_score)}"]
    lines.extend(f"! {note}" for note in report.notes)
    for exercise in report.exercises:
        mark = "✓" if exercise.full_marks else "✗"
        lines.append(f"{mark} {exercise.name}  {exercise.title}  "
                     f"{_number(exercise.score)}/{_number(exercise.max_score)}")
        if exercise.full_marks:
            continue
        for text in (exercise.summary, exercise.hint and f"hint: {exercise.hint}"):
            if text:
                lines.extend("    " + line for line in text.splitlines())
        if exercise.output:
            lines.append("    your code printed:")
            lines.extend("    | " + line
                         for line in exercise.output.rstrip()[-OUTPUT_LIMIT:].splitlines())
    return "\n".join(lines)


def results(report: Report) -> dict[str, Any]:
    """One submission's results.json as a dict."""
    tests = [_test(e, c) for e in report.exercises for c in e.checks]
    return {"score": report.score, "output": clean(_output(report)), "tests": tests}


def render_gradescope(reports: Sequence[Report], settings: ReportSettings) -> str:
    if settings.batch:
        data: Any = {"submissions": [{"id": r.id, **results(r)} for r in reports]}
    else:
        data = results(reports[0])
    return json.dumps(data, ensure_ascii=False, indent=1)
