"""`--format classroom`: the result that GitHub Classroom's autograding reporter reads.

    {"version": 1, "status": "pass", "max_score": 103.5,
     "tests": [{"name": "e01_numpy_grads: loss", "status": "pass", "score": 1.0,
                "message": ""}, ...]}

It is what Classroom's own graders (the command, I/O and Python graders) hand to
`classroom-resources/autograding-grading-reporter` in their `result` output, base64
encoded; docs/USING.md has the workflow. One test per check, each with the points it
earned, so partial credit shows: the reporter adds up the tests' scores against
`max_score`. Test statuses are pass, fail and error (a timeout is an error). A skipped
check (a GPU check without a GPU) counts neither for nor against: 0 points, out of a
`max_score` that leaves it out, listed as passing with "(skipped)" in its name, since
the reporter knows no fourth status. The whole result is "pass" with full marks,
"error" when no check could run at all, "fail" otherwise.
A batch gives {"submissions": [{"id": ..., ...}]}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean, json_text

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

TEST_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error",
               "skipped": "pass"}


def _test(exercise: ExerciseResult, check: CheckResult) -> dict[str, Any]:
    name = f"{exercise.name}: {check.name}"
    message = check.feedback or ("" if check.status == "passed" else exercise.summary)
    if check.status == "skipped":
        name += " (skipped)"
    elif check.status == "timeout":
        message = f"[timeout] {message}".rstrip()
    return {"name": clean(name), "status": TEST_STATUS[check.status],
            "score": 0.0 if check.status == "skipped" else check.score,
            "message": clean(message)}


def _status(report: Report) -> str:
    counted = [c for e in report.exercises for c in e.checks if c.status != "skipped"]
    if report.full_marks:
        return "pass"
    if counted and all(c.status in ("error", "timeout") for c in counted):
        return "error"
    return "fail"


def result(report: Report) -> dict[str, Any]:
    """One submission's result as a dict."""
    return {"version": 1, "status": _status(report), "max_score": report.max_score,
            "tests": [_test(e, c) for e in report.exercises for c in e.checks]}


def render_classroom(reports: Sequence[Report], settings: ReportSettings) -> str:
    if settings.batch:
        data: Any = {"submissions": [{"id": r.id, **result(r)} for r in reports]}
    else:
        data = result(reports[0])
    return json_text(data)
