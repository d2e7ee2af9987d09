"""The default report: a friendly to-do list for a student at a terminal."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Sequence

from grader.model import CheckResult, ExerciseResult, Report

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "skipped": "-"}
COLORS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33", "skipped": "2"}
LABELS = {
    "en": {"total": "Total", "hint": "hint", "output": "your code printed", "seed": "seed",
           "all_done": "All exercises complete. Well done!",
           "next": "Next up: {name}"},
    "ko": {"total": "합계", "hint": "힌트", "output": "코드가 출력한 내용", "seed": "시드",
           "all_done": "모든 문제를 완료했습니다. 잘했어요!",
           "next": "다음 할 일: {name}"},
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _pad(text: str, width: int) -> str:
    """Pad to a width in terminal columns (Korean letters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def _score(value: float) -> str:
    return f"{value:g}"


def render_exercise(exercise: ExerciseResult, labels: dict, color: bool) -> list[str]:
    status = "passed" if exercise.full_marks else "failed"
    head = f"{exercise.name}  {exercise.title}"
    score = f"{_score(exercise.score)}/{_score(exercise.max_score)}"
    lines = [_paint(f"{MARKS[status]} {_pad(head, 62)} {score:>7}", COLORS[status], color)]
    if exercise.summary:
        lines.append(_indent(exercise.summary, "    "))
    if not exercise.full_marks:
        for group in _grouped(exercise.checks):
            lines.extend(_render_group(group, exercise.summary, color))
    if exercise.hint:
        lines.append(_indent(f"{labels['hint']}: {exercise.hint}", "    "))
    if exercise.output and not exercise.full_marks:
        lines.append(f"    {labels['output']}:")
        lines.append(_indent(exercise.output.rstrip()[-1200:], "    | "))
    return lines


def _grouped(checks: Sequence[CheckResult]) -> list[list[CheckResult]]:
    """Checks with the same status and feedback, together (a stub's to-do reads once)."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for check in checks:
        key = (check.status, check.feedback if check.status != "passed" else check.name)
        groups.setdefault(key, []).append(check)
    return list(groups.values())


def _render_group(group: list[CheckResult], summary: str, color: bool) -> list[str]:
    first = group[0]
    mark = _paint(MARKS[first.status], COLORS[first.status], color)
    names = ", ".join(c.name for c in group)
    score = f"{_score(sum(c.score for c in group))}/{_score(sum(c.max_score for c in group))}"
    lines = [f"  {mark} {_pad(names, 58)} {score:>7}"]
    if first.feedback and first.status != "passed" and first.feedback != summary:
        lines.append(_indent(first.feedback, "      "))
    return lines


def render_report(report: Report, labels: dict, color: bool) -> list[str]:
    lines: list[str] = []
    if report.id is not None:
        lines.append(f"== {report.id} ==")
    for note in report.notes:
        lines.append(_paint(f"! {note}", "33", color))
    for exercise in report.exercises:
        lines.extend(render_exercise(exercise, labels, color))
    total = f"{labels['total']}: {_score(report.score)}/{_score(report.max_score)}"
    if report.seed is not None:
        total += f"   ({labels['seed']} {report.seed})"
    lines.append("")
    lines.append(_paint(total, "1", color))
    todo = next((e for e in report.exercises if not e.full_marks), None)
    lines.append(labels["all_done"] if todo is None else labels["next"].format(name=todo.name))
    return lines


def render_terminal(reports: Sequence[Report], settings: ReportSettings) -> str:
    labels = LABELS.get(settings.lang, LABELS["en"])
    blocks = ["\n".join(render_report(r, labels, settings.color)) for r in reports]
    return "\n\n".join(blocks)
