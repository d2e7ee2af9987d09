"""The default report: a friendly to-do list for a student at a terminal."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from grader import i18n
from grader.hints import names_its_level
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "skipped": "-"}
COLORS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33", "skipped": "2"}

#: Terminal columns for check names, and the most feedback lines shown for one check.
NAME_WIDTH = 58
MAX_LINES = 4


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _columns(text: str) -> int:
    """Width in terminal columns (Korean letters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Pad to a width in terminal columns (Korean letters take two)."""
    return text + " " * max(0, width - _columns(text))


def _score(value: float) -> str:
    return f"{value:g}"


def render_exercise(exercise: ExerciseResult, labels: dict, color: bool,
                    notes: Sequence[str] = (), seen: dict | None = None) -> list[str]:
    """One exercise: its score line, then (unless it has full marks) what went wrong.

    `notes` are the report's own notes, already shown above it (a notebook cell that
    raised): they are not repeated in the exercise. `seen` carries, from one exercise to
    the next, the summaries and printed output already shown, so that a problem common to
    all of them (a notebook that timed out) reads once.
    """
    seen = {"summaries": {}, "outputs": set()} if seen is None else seen
    status = "passed" if exercise.full_marks else "failed"
    head = f"{exercise.name}  {exercise.title}"
    score = f"{_score(exercise.score)}/{_score(exercise.max_score)}"
    lines = [_paint(f"{MARKS[status]} {_pad(head, 62)} {score:>7}", COLORS[status], color)]
    summary = "\n".join(line for line in exercise.summary.splitlines() if line not in notes)
    # the same whole-exercise problem again (every check says just the summary: a notebook
    # that timed out, say) reads once; a summary that goes with other feedback is kept
    whole = all(c.feedback == exercise.summary for c in exercise.checks)
    if summary:
        if whole and summary in seen["summaries"]:
            lines.append("    " + labels["same_problem"].format(name=seen["summaries"][summary]))
        else:
            if whole:
                seen["summaries"].setdefault(summary, exercise.name)
            lines.append(_indent(summary, "    "))
    if not exercise.full_marks:
        checks, shared = _shared_misconceptions(exercise.checks)
        for group in _grouped(checks):
            lines.extend(_render_group(group, exercise, labels, color))
            for check in group:
                lines.extend(_indent(line, "    ") for line in shared.get(check.name, ()))
    if exercise.hint:   # "Hint 2/3: ..." names its level: no label of ours before it
        label = "" if names_its_level(exercise.hint) else f"{labels['hint']}: "
        lines.extend(_hanging(label, exercise.hint, "    "))
    if exercise.output and not exercise.full_marks:
        if exercise.output in seen["outputs"]:
            lines.append(f"    {labels['output']}: {labels['same_output']}")
        else:
            seen["outputs"].add(exercise.output)
            lines.append(f"    {labels['output']}:")
            lines.append(_indent(exercise.output.rstrip()[-1200:], "    | "))
    return lines


def _hanging(label: str, text: str, prefix: str) -> list[str]:
    """`label` then `text`, its later lines lined up under the first one's text."""
    first, *rest = text.splitlines() or [""]
    under = prefix + " " * _columns(label)
    return [prefix + label + first] + [under + line for line in rest]


def _shared_misconceptions(checks: Sequence[CheckResult]
                           ) -> tuple[list[CheckResult], dict[str, list[str]]]:
    """A misconception named by several checks is said once: the checks lose their last
    feedback line (the one that names it), and the line comes back apart, to be shown after
    the last of them (keyed by its name), with the names of the checks it explains when
    other checks failed too."""
    wrong = [c for c in checks if c.status not in ("passed", "skipped")]
    sharing: dict[str, list[str]] = {}
    for check in wrong:
        if check.misconception:
            sharing.setdefault(check.misconception, []).append(check.name)
    after: dict[str, list[str]] = {}
    result = []
    for check in checks:
        names = sharing.get(check.misconception or "", [])
        if len(names) > 1 and any(check is w for w in wrong):
            body, _, last = check.feedback.rpartition("\n")
            if check.name == names[-1]:
                if len(names) < len(wrong) and ": " in last:
                    label, _, text = last.partition(": ")
                    last = f"{label} ({', '.join(names)}): {text}"
                after.setdefault(check.name, []).append(last)
            check = replace(check, feedback=body, misconception=None)
        result.append(check)
    return result, after


def _grouped(checks: Sequence[CheckResult]) -> list[list[CheckResult]]:
    """Checks with the same status and feedback, together (a stub's to-do reads once)."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for check in checks:
        key = (check.status, check.feedback if check.status != "passed" else check.name)
        groups.setdefault(key, []).append(check)
    return list(groups.values())


def _names(group: list[CheckResult], exercise: ExerciseResult, labels: dict) -> list[str]:
    """The group's check names, wrapped to NAME_WIDTH columns ("all N checks" for all)."""
    if len(group) > 1 and len(group) == len(exercise.checks):
        return [labels["all_checks"].format(count=len(group))]
    rows = [""]
    for index, check in enumerate(group):
        piece = check.name + ("," if index < len(group) - 1 else "")
        if rows[-1] and _columns(rows[-1]) + 1 + len(piece) > NAME_WIDTH:
            rows.append(piece)
        else:
            rows[-1] = f"{rows[-1]} {piece}" if rows[-1] else piece
    return rows


def _render_group(group: list[CheckResult], exercise: ExerciseResult, labels: dict,
                  color: bool) -> list[str]:
    first = group[0]
    mark = _paint(MARKS[first.status], COLORS[first.status], color)
    if first.status == "skipped":
        score = labels["skipped"]
    else:
        score = f"{_score(sum(c.score for c in group))}/{_score(sum(c.max_score for c in group))}"
    names = _names(group, exercise, labels)
    lines = [f"  {mark} {_pad(names[0], NAME_WIDTH)} {_pad('', 7 - _columns(score))}{score}"]
    lines.extend(f"    {name}" for name in names[1:])
    if first.feedback and first.status != "passed" and first.feedback != exercise.summary:
        feedback = first.feedback.splitlines()
        # the last line names the misconception (when there is one): it always shows
        tail = feedback[-1:] if first.misconception else []
        body = feedback[:len(feedback) - len(tail)]
        if len(body) > MAX_LINES:
            body = body[:MAX_LINES - 1] + [labels["more"].format(count=len(body) - MAX_LINES + 1)]
        feedback = body + tail
        lines.append(_indent("\n".join(feedback), "      "))
    return lines


def render_report(report: Report, labels: dict, color: bool) -> list[str]:
    lines: list[str] = []
    if report.id is not None:
        lines.append(f"== {report.id} ==")
    for note in report.notes:
        lines.append(_paint(f"! {note}", "33", color))
    seen: dict = {"summaries": {}, "outputs": set()}
    for exercise in report.exercises:
        lines.extend(render_exercise(exercise, labels, color, report.notes, seen))
    total = f"{labels['total']}: {_score(report.score)}/{_score(report.max_score)}"
    if report.seed is not None:
        total += f"   ({labels['seed']} {report.seed})"
    lines.append("")
    lines.append(_paint(total, "1", color))
    todo = next((e for e in report.exercises if not e.full_marks), None)
    if report.course:  # part of the course shown: its standing, never "all complete" wrongly
        course = {"score": _score(report.course["score"]),
                  "max_score": _score(report.course["max_score"])}
        if todo is not None:
            lines.append(labels["next"].format(name=f"{todo.name} ({todo.title})"))
        lines.append(labels["course_done"].format(**course) if report.course.get("next") is None
                     else labels["course"].format(**course, name=report.course["next"]))
    else:
        lines.append(labels["all_done"] if todo is None
                     else labels["next"].format(name=f"{todo.name} ({todo.title})"))
    return lines


def _cleaned(report: Report) -> Report:
    """The report with what a submission may have put in it (messages, printed output)
    stripped of terminal escape and control codes: a student cannot redraw the report."""
    exercises = tuple(replace(e, summary=clean(e.summary), hint=clean(e.hint),
                              output=clean(e.output),
                              checks=tuple(replace(c, feedback=clean(c.feedback))
                                           for c in e.checks))
                      for e in report.exercises)
    return replace(report, exercises=exercises, notes=tuple(clean(n) for n in report.notes),
                   id=None if report.id is None else clean(report.id))


def render_terminal(reports: Sequence[Report], settings: ReportSettings) -> str:
    labels = i18n.labels("terminal", settings.lang)
    blocks = ["\n".join(render_report(_cleaned(r), labels, settings.color)) for r in reports]
    sandbox = next((r.sandbox for r in reports if r.sandbox), None)
    if sandbox:
        blocks.append(_paint(labels["sandbox"].format(**{
            key: sandbox.get(key, "?") for key in ("filesystem", "network", "pids")}),
            "2", settings.color))
    return "\n\n".join(blocks)
