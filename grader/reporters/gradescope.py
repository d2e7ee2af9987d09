"""`--format gradescope`: Gradescope's autograder `results.json`.

    {"score": 3.0,
     "execution_time": 12,                 # seconds the grading took (when measured)
     "output": "...",                      # notes, and per exercise its score, summary, hint
     "extra_data": {"status": "graded", "misconceptions": ["e01_numpy_grads:factor_two"]},
     "tests": [{"name": "e01_numpy_grads: check_grads_loss", "score": 1.0,
                "max_score": 1.0, "output": "feedback", "visibility": "visible",
                "status": "passed", "extra_data": {"status": "passed"}}, ...]}

Gradescope knows only "passed" and "failed": an error or a timeout is "failed"
(its output says which). A skipped check (a GPU check without a GPU) counts
neither for nor against, so it is listed with a max_score of 0, its output starting
with "[skipped]", and no "status" (it neither passed nor failed). The top-level
"score" is the report's total, which is also the sum of the tests' scores; the
assignment's maximum is set in Gradescope (the tests' max_scores add up to it).
`--visibility` sets every test's "visibility" (Gradescope's visible, after_due_date,
after_published, hidden). "extra_data", which Gradescope keeps for staff and does not
show, holds each check's own status and the misconceptions recognised (their ids).
Students see "output": the grading seed never appears in it, nor anywhere in the file
(a hidden seed stays hidden, even where a message would have quoted it).
A batch (never made by Gradescope itself) gives {"submissions": [{"id": ..., ...}]}.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Sequence

from grader.hints import labelled
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean, json_text
from grader.reporters.status import submission_status

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

OUTPUT_LIMIT = 4000   # characters of the submission's own printed output kept per exercise
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
#: A seed this short is no secret to scrub (and its digits are common in other numbers).
SEED_DIGITS = 4


def _number(value: float) -> str:
    return f"{value:g}"


def _test(exercise: ExerciseResult, check: CheckResult, visibility: str) -> dict[str, Any]:
    skipped = check.status == "skipped"
    output = check.feedback or ("" if check.status == "passed" else exercise.summary)
    if check.status in ("error", "timeout", "skipped"):
        output = f"[{check.status}] {output}".rstrip()
    test: dict[str, Any] = {"name": f"{exercise.name}: {check.name}",
                            "score": 0.0 if skipped else check.score,
                            "max_score": 0.0 if skipped else check.max_score,
                            "output": clean(output),
                            "visibility": visibility}
    if not skipped:  # Gradescope has no "skipped": a skipped check neither passed nor failed
        test["status"] = "passed" if check.status == "passed" else "failed"
    test["extra_data"] = {"status": check.status}
    if check.misconception:
        test["extra_data"]["misconception"] = check.misconception
    return test


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
        for text in (exercise.summary, exercise.hint and labelled(exercise.hint, "hint")):
            if text:
                lines.extend("    " + line for line in text.splitlines())
        if exercise.output:
            lines.append("    your code printed:")
            lines.extend("    | " + line
                         for line in exercise.output.rstrip()[-OUTPUT_LIMIT:].splitlines())
    return "\n".join(lines)


def _without_seed(data: Any, seed: int | None) -> Any:
    """`data` with every text's mention of the grading seed replaced by "…"."""
    if seed is None or len(str(abs(seed))) < SEED_DIGITS:
        return data
    pattern = re.compile(rf"(?<![\d.]){abs(seed)}(?!\d)")
    if isinstance(data, str):
        return pattern.sub("…", data)
    if isinstance(data, list):
        return [_without_seed(item, seed) for item in data]
    if isinstance(data, dict):
        return {key: _without_seed(value, seed) for key, value in data.items()}
    return data


def results(report: Report, visibility: str = "visible",
            execution_time: float | None = None) -> dict[str, Any]:
    """One submission's results.json as a dict."""
    tests = [_test(e, c, visibility) for e in report.exercises for c in e.checks]
    data: dict[str, Any] = {"score": report.score}
    if execution_time is not None:
        data["execution_time"] = max(1, round(execution_time))
    data["output"] = clean(_output(report))
    misconceptions = [f"{e.name}:{c.misconception}" for e in report.exercises
                      for c in e.checks if c.misconception and c.status != "passed"]
    data["extra_data"] = {"status": submission_status(report),
                          "misconceptions": list(dict.fromkeys(misconceptions))}
    data["tests"] = tests
    return _without_seed(data, report.seed)


def render_gradescope(reports: Sequence[Report], settings: ReportSettings) -> str:
    visibility = settings.visibility
    if settings.batch:
        data: Any = {"submissions": [{"id": r.id, **results(r, visibility)} for r in reports]}
    else:
        data = results(reports[0], visibility, settings.elapsed)
    return json_text(data)
