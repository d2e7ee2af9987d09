"""`--format junit`: JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters).

One <testsuite> per exercise (per student and exercise in a batch), one <testcase>
per check. A failed check is a <failure>, an error or a timeout an <error>, a
skipped check (a GPU check without a GPU) <skipped>; the element's text is the
feedback. Points go into the suite's <properties>; the exercise's summary, hint
and the submission's printed output into its <system-out>, the report's notes
(a notebook cell that raised, an unreadable file) into <system-err>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Sequence

from grader.hints import labelled
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean

if TYPE_CHECKING:
    from grader.reporters import ReportSettings


def _number(value: float) -> str:
    return f"{value:g}"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _testcase(suite: ET.Element, classname: str, check: CheckResult,
              exercise: ExerciseResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=clean(check.name))
    feedback = clean(check.feedback or exercise.summary)
    points = f"{_number(check.score)}/{_number(check.max_score)} points"
    if check.status == "passed":
        return
    if check.status == "skipped":
        ET.SubElement(case, "skipped", message=_first_line(feedback) or "skipped").text = \
            feedback or None
        return
    tag = "failure" if check.status == "failed" else "error"
    message = f"{check.status} ({points})"
    if _first_line(feedback):
        message += f": {_first_line(feedback)}"
    body = feedback
    if check.misconception:
        body += f"\n[misconception: {check.misconception}]"
    element = ET.SubElement(case, tag, message=message, type=check.status)
    element.text = body or None


def _suite(parent: ET.Element, report: Report, exercise: ExerciseResult,
           notes: Sequence[str]) -> None:
    name = clean(exercise.name if report.id is None else f"{report.id}.{exercise.name}")
    counts = {status: sum(c.status == status for c in exercise.checks)
              for status in ("failed", "error", "timeout", "skipped")}
    suite = ET.SubElement(parent, "testsuite", name=name, tests=str(len(exercise.checks)),
                          failures=str(counts["failed"]),
                          errors=str(counts["error"] + counts["timeout"]),
                          skipped=str(counts["skipped"]))
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="title", value=clean(exercise.title))
    ET.SubElement(properties, "property", name="score", value=_number(exercise.score))
    ET.SubElement(properties, "property", name="max_score", value=_number(exercise.max_score))
    if report.seed is not None:
        ET.SubElement(properties, "property", name="seed", value=str(report.seed))
    for check in exercise.checks:
        _testcase(suite, name, check, exercise)
    out = [text for text in (exercise.summary,
                             exercise.hint and labelled(exercise.hint, "hint"),
                             exercise.output and f"your code printed:\n{exercise.output}")
           if text]
    if out:
        ET.SubElement(suite, "system-out").text = clean("\n\n".join(out))
    if notes:
        ET.SubElement(suite, "system-err").text = clean("\n".join(notes))


def render_junit(reports: Sequence[Report], settings: ReportSettings) -> str:
    checks = [c for r in reports for e in r.exercises for c in e.checks]
    root = ET.Element("testsuites", name="torchkit", tests=str(len(checks)),
                      failures=str(sum(c.status == "failed" for c in checks)),
                      errors=str(sum(c.status in ("error", "timeout") for c in checks)),
                      skipped=str(sum(c.status == "skipped" for c in checks)))
    for report in reports:
        for index, exercise in enumerate(report.exercises):
            _suite(root, report, exercise, report.notes if index == 0 else ())
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
