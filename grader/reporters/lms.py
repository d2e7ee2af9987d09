"""Gradebooks that a learning management system reads.

- `csv`: `id,score,max_score,<exercise>...` (the contract's columns, in its order), then
  `status` (graded, empty, stubs, timeout, error: see `grader.reporters.status`) and
  `percent`, added at the end so that tools reading columns by position still work;
- `canvas`: Canvas's gradebook import (`Student,ID,SIS User ID,SIS Login ID,Section`, then
  one assignment column), one row per student of a roster exported from Canvas, joined on
  one of its columns (`--roster-column`, the SIS User ID by default);
- `moodle`: Moodle's grade import: an identifier column, then per exercise a grade column
  and its feedback column, then the total and its feedback.

With `--excel` each starts with a UTF-8 byte order mark, so that Excel reads Korean names
as UTF-8 (it guesses the local code page otherwise).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from grader import i18n
from grader.model import ExerciseResult, Report
from grader.reporters._text import clean
from grader.reporters.status import misconception_text, percent, submission_status

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

BOM = "\ufeff"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
DEFAULT_ROSTER_COLUMN = "SIS User ID"
DEFAULT_ASSIGNMENT = "torchkit"
MOODLE_ID_COLUMN = "ID number"
#: Moodle keeps feedback as text; a long one is cut here (it is a summary, not the report).
FEEDBACK_LIMIT = 1000


class RosterError(ValueError):
    """A roster that cannot be used (no such file, no such column): a usage error."""


def _number(value: float) -> str:
    return f"{value:g}"


def _text(value: str) -> str:
    """Text for a cell, which a spreadsheet must not take for a formula (a folder named
    `=HYPERLINK(...)` is a student id too): such a cell starts with an apostrophe."""
    value = clean(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _write(rows: Iterable[Sequence[object]], settings: ReportSettings) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    text = buffer.getvalue().rstrip("\n")
    return BOM + text if settings.excel else text


def _names(reports: Sequence[Report], settings: ReportSettings) -> list[str]:
    if settings.exercise_names:
        return list(settings.exercise_names)
    return [e.name for e in reports[0].exercises] if reports else []


def render_csv(reports: Sequence[Report], settings: ReportSettings) -> str:
    names = _names(reports, settings)
    rows: list[list[object]] = [["id", "score", "max_score", *names, "status", "percent"]]
    for report in reports:
        scores = {e.name: e.score for e in report.exercises}
        rows.append([_text(report.id or ""), _number(report.score), _number(report.max_score),
                     *(_number(scores.get(n, 0.0)) for n in names),
                     submission_status(report), _number(percent(report))])
    return _write(rows, settings)


# ------------------------------------------------------------------ Canvas

def _key(value: str) -> str:
    return value.strip().casefold()


def read_roster(path: Path, column: str) -> tuple[dict[str, str], ...]:
    """The students of a roster CSV (Canvas's gradebook export works as it is): its rows,
    without Canvas's "Points Possible" row. Raises RosterError when unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if column not in fields:
        raise RosterError(f"the roster {path} has no column {column!r} "
                          f"(its columns: {', '.join(fields) or 'none'})")
    # a short row's missing cells are None; a long row's extra cells go under the key None
    rows = tuple({key.strip(): (value or "").strip() for key, value in row.items()
                  if key is not None} for row in reader)
    return tuple(row for row in rows
                 if row.get("Student", "") != "Points Possible" and any(row.values()))


def not_in_roster(reports: Sequence[Report], roster: Sequence[Mapping[str, str]],
                  column: str) -> list[str]:
    """The ids of the submissions that no roster row's `column` names."""
    known = {_key(row.get(column, "")) for row in roster}
    return [r.id or "" for r in reports if _key(r.id or "") not in known]


def render_canvas(reports: Sequence[Report], settings: ReportSettings) -> str:
    column = settings.roster_column or DEFAULT_ROSTER_COLUMN
    assignment = settings.assignment or DEFAULT_ASSIGNMENT
    by_id = {_key(r.id or ""): r for r in reports}
    max_score = max((r.max_score for r in reports), default=0.0)
    rows: list[list[object]] = [[*CANVAS_COLUMNS, assignment],
                                # as in Canvas's own export; it sets a new assignment's points
                                ["Points Possible", "", "", "", "", _number(max_score)]]
    for student in settings.roster or ():
        report = by_id.get(_key(student.get(column, "")))
        # no submission: left blank, which Canvas leaves as it was (not a zero)
        score = _number(report.score) if report is not None else ""
        rows.append([_text(student.get(name, "")) for name in CANVAS_COLUMNS] + [score])
    return _write(rows, settings)


# ------------------------------------------------------------------ Moodle

def _cut(text: str) -> str:
    text = _text(" ".join(text.split()))
    return text if len(text) <= FEEDBACK_LIMIT else text[:FEEDBACK_LIMIT - 1] + "…"


def exercise_feedback(exercise: ExerciseResult, labels: Mapping) -> str:
    """One line: the score, the exercise's first note, then the checks that did not pass
    by status and misconception (four or more alike are counted, not named)."""
    head = f"{_number(exercise.score)}/{_number(exercise.max_score)}"
    if exercise.full_marks:
        return f"{head} {labels['complete']}"
    groups: dict[tuple[str, str], list[str]] = {}
    for check in exercise.checks:
        if check.status not in ("passed", "skipped"):
            groups.setdefault((check.status, misconception_text(check)), []).append(check.name)
    parts = []
    for (status, text), names in groups.items():
        who = ", ".join(names) if len(names) < 4 else labels["checks"].format(count=len(names))
        parts.append(f"{who}: {status}" + (f" ({text})" if text else ""))
    first = (exercise.summary or "").strip().splitlines()[:1]
    return _cut("; ".join([head + (f" {first[0]}" if first else ""), *parts]))


def render_moodle(reports: Sequence[Report], settings: ReportSettings) -> str:
    labels = i18n.labels("lms", settings.lang)
    names = _names(reports, settings)
    total = labels["total"]
    header: list[object] = [settings.roster_column or MOODLE_ID_COLUMN]
    for name in [*names, total]:
        header += [name, f"{name} ({labels['feedback']})"]
    rows: list[list[object]] = [header]
    for report in reports:
        by_name = {e.name: e for e in report.exercises}
        row: list[object] = [_text(report.id or "")]
        for name in names:
            exercise = by_name.get(name)
            row += ["", ""] if exercise is None else [_number(exercise.score),
                                                      exercise_feedback(exercise, labels)]
        status = submission_status(report)
        row += [_number(report.score),
                f"{_number(report.score)}/{_number(report.max_score)} "
                f"({_number(percent(report))}%), {labels['status.' + status]}"]
        rows.append(row)
    return _write(rows, settings)
