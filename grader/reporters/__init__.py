"""Builtin reporters, by `--format` name. A reporter turns reports into the text on stdout.

terminal (default), json, csv, and for other tools: junit (JUnit XML for CI),
gradescope (Gradescope's results.json), markdown (a table to paste or post).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from grader import hookimpl
from grader.model import Report
from grader.reporters.gradescope import render_gradescope
from grader.reporters.junit import render_junit
from grader.reporters.markdown import render_markdown
from grader.reporters.terminal import render_terminal


@dataclass(frozen=True)
class ReportSettings:
    """What a reporter may need besides the reports."""

    batch: bool = False
    lang: str = "en"
    color: bool = False
    exercise_names: tuple[str, ...] = ()


Reporter = Callable[[Sequence[Report], ReportSettings], str]


def render_json(reports: Sequence[Report], settings: ReportSettings) -> str:
    if settings.batch:
        submissions = [r.to_json() for r in reports]
        sandbox = next((s.pop("sandbox") for s in submissions if "sandbox" in s), None)
        for submission in submissions:  # said once, for the whole batch
            submission.pop("sandbox", None)
        data: dict = {"submissions": submissions}
        if sandbox:
            data["sandbox"] = sandbox
        return json.dumps(data, ensure_ascii=False, indent=1)
    data = reports[0].to_json()
    data.pop("id", None)
    return json.dumps(data, ensure_ascii=False, indent=1)


def render_csv(reports: Sequence[Report], settings: ReportSettings) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = list(settings.exercise_names) or [e.name for e in reports[0].exercises] if reports \
        else list(settings.exercise_names)
    writer.writerow(["id", "score", "max_score", *names])
    for report in reports:
        scores = {e.name: e.score for e in report.exercises}
        writer.writerow([report.id or "", _number(report.score), _number(report.max_score),
                         *(_number(scores.get(n, 0.0)) for n in names)])
    return buffer.getvalue().rstrip("\n")


def _number(value: float) -> str:
    return f"{value:g}"


@hookimpl(trylast=True)
def grader_reporters() -> Mapping[str, Reporter]:
    """The builtin formats."""
    return {"terminal": render_terminal, "json": render_json, "csv": render_csv,
            "junit": render_junit, "gradescope": render_gradescope, "markdown": render_markdown}
