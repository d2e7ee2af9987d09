"""Builtin reporters, by `--format` name. A reporter turns reports into the text on stdout.

terminal (default), json, csv, and for other tools: junit (JUnit XML for CI),
gradescope (Gradescope's results.json), classroom (GitHub Classroom's autograding
result), markdown (a table to paste or post), html (a class report page), and the
gradebooks of learning management systems: canvas, moodle (`grader.reporters.lms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from grader import hookimpl
from grader.model import Report
from grader.reporters.classroom import render_classroom
from grader.reporters.gradescope import render_gradescope
from grader.reporters.html import render_html
from grader.reporters.junit import render_junit
from grader.reporters.lms import render_canvas, render_csv, render_moodle
from grader.reporters.markdown import render_markdown
from grader.reporters._text import json_text
from grader.reporters.summary import class_summary
from grader.reporters.terminal import render_terminal

#: Formats that write a spreadsheet (`--excel` gives them a UTF-8 byte order mark).
SPREADSHEETS = ("csv", "canvas", "moodle")


@dataclass(frozen=True)
class ReportSettings:
    """What a reporter may need besides the reports."""

    batch: bool = False
    lang: str = "en"
    color: bool = False
    exercise_names: tuple[str, ...] = ()
    #: Spreadsheets start with a UTF-8 byte order mark (for Excel).
    excel: bool = False
    #: canvas: the roster's students (rows of its CSV), joined on `roster_column`;
    #: moodle: the identifier column's name. Empty: the format's default.
    roster: tuple[Mapping[str, str], ...] = ()
    roster_column: str = ""
    #: canvas: the assignment column ("Homework 1 (12345)" for an existing one).
    assignment: str = ""
    #: gradescope: the tests' visibility.
    visibility: str = "visible"
    #: Seconds the grading took, where measured (gradescope's execution_time).
    elapsed: float | None = None


Reporter = Callable[[Sequence[Report], ReportSettings], str]


def render_json(reports: Sequence[Report], settings: ReportSettings) -> str:
    if settings.batch:
        submissions = [r.to_json() for r in reports]
        sandbox = next((s.pop("sandbox") for s in submissions if "sandbox" in s), None)
        for submission in submissions:  # said once, for the whole batch
            submission.pop("sandbox", None)
        data: dict = {"submissions": submissions,
                      "summary": class_summary(reports, settings.exercise_names)}
        if sandbox:
            data["sandbox"] = sandbox
        return json_text(data)
    data = reports[0].to_json()
    data.pop("id", None)
    return json_text(data)


@hookimpl(trylast=True)
def grader_reporters() -> Mapping[str, Reporter]:
    """The builtin formats."""
    return {"terminal": render_terminal, "json": render_json, "csv": render_csv,
            "junit": render_junit, "gradescope": render_gradescope, "markdown": render_markdown,
            "classroom": render_classroom, "html": render_html, "canvas": render_canvas,
            "moodle": render_moodle}
