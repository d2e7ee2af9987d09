"""`--format markdown`: a summary table to paste into an issue, a PR comment or a
CI job summary (`>> $GITHUB_STEP_SUMMARY`).

One submission: a table of exercises with their scores, then, folded under
<details>, the feedback of each exercise that is not yet complete. A batch: a
gradebook table, one row per student and one column per exercise, then the class
summary (`grader.reporters.summary`) as tables: per exercise the mean, median and a
histogram of scores, per check its pass rate, per misconception who hit it. Feedback and
printed output go into fenced blocks, so nothing a submission prints can turn
into markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from grader.hints import names_its_level
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters._text import clean
from grader.reporters.summary import class_summary

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

CHECK_MARKS = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️", "skipped": "⏭️"}
OUTPUT_LIMIT = 2000
#: A histogram as a row of bars, one character per bin (eighths of a block).
SPARKS = " ▁▂▃▄▅▆▇█"


def _number(value: float) -> str:
    return f"{value:g}"


def _cell(text: str) -> str:
    """Text for a table cell: one line, pipes escaped, and no HTML (a student id is a
    folder's name, which may be markup: `<img onerror=...>` stays text)."""
    text = " ".join(clean(str(text)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _fenced(text: str, info: str = "text") -> str:
    text = clean(text)
    runs = [len(m) for m in re.findall(r"`+|~+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _mark(exercise: ExerciseResult) -> str:
    if exercise.full_marks:
        return "✅"
    return "🟡" if exercise.score > 0 else "❌"


def _score(exercise: ExerciseResult | Report) -> str:
    return f"{_number(exercise.score)}/{_number(exercise.max_score)}"


def _check_line(check: CheckResult) -> str:
    return (f"{CHECK_MARKS[check.status]} **{_cell(check.name)}**: {check.status}, "
            f"{_number(check.score)}/{_number(check.max_score)}")


def _details(exercise: ExerciseResult) -> list[str]:
    lines = ["<details>",
             f"<summary>{_mark(exercise)} {_cell(exercise.name)}: {_score(exercise)}</summary>",
             ""]
    if exercise.summary:
        lines += [_fenced(exercise.summary), ""]
    # Checks in a row with the same feedback (one function not implemented, say) share it.
    groups: list[list[CheckResult]] = []
    for check in exercise.checks:
        if groups and groups[-1][-1].feedback == check.feedback \
                and groups[-1][-1].status == check.status:
            groups[-1].append(check)
        else:
            groups.append([check])
    for group in groups:
        lines += [_check_line(c) + "  " for c in group[:-1]] + [_check_line(group[-1]), ""]
        feedback = group[0].feedback
        if feedback and group[0].status != "passed" and feedback.strip() != exercise.summary:
            lines += [_fenced(feedback), ""]
    if exercise.hint:
        hint = _cell(exercise.hint)   # "Hint 2/3: ..." names its level: no label before it
        lines += [hint if names_its_level(exercise.hint) else f"**Hint:** {hint}", ""]
    if exercise.output:
        lines += ["Your code printed:", "", _fenced(exercise.output[-OUTPUT_LIMIT:]), ""]
    lines += ["</details>", ""]
    return lines


def render_one(report: Report) -> str:
    title = "torchkit report" + (f": {_cell(report.id)}" if report.id else "")
    lines = [f"### {title} ({_score(report)})", ""]
    for note in report.notes:
        lines.append(f"> ⚠️ {_cell(note)}")
    if report.notes:
        lines.append("")
    lines += ["| | Exercise | | Score |", "|:-:|---|---|--:|"]
    for exercise in report.exercises:
        lines.append(f"| {_mark(exercise)} | `{_cell(exercise.name)}` | {_cell(exercise.title)} "
                     f"| {_score(exercise)} |")
    lines.append(f"| | **Total** | | **{_score(report)}** |")
    lines.append("")
    if report.seed is not None:
        lines += [f"Graded with seed {report.seed}.", ""]
    for exercise in report.exercises:
        if not exercise.full_marks:
            lines += _details(exercise)
    return "\n".join(lines).rstrip() + "\n"


def render_batch(reports: Sequence[Report], names: Sequence[str]) -> str:
    names = list(names) or list(dict.fromkeys(e.name for r in reports for e in r.exercises))
    lines = [f"### torchkit gradebook ({len(reports)} submission"
             f"{'' if len(reports) == 1 else 's'})", "",
             "| Student | Total | " + " | ".join(f"`{_cell(n)}`" for n in names) + " |",
             "|---|--:|" + "--:|" * len(names)]
    for report in reports:
        by_name = {e.name: e for e in report.exercises}
        cells = [f"{_mark(by_name[n])} {_score(by_name[n])}" if n in by_name else "–"
                 for n in names]
        lines.append(f"| {_cell(report.id or '')} | **{_score(report)}** | "
                     + " | ".join(cells) + " |")
    if reports:
        mean = sum(r.score for r in reports) / len(reports)
        lines += ["", f"Mean score: {mean:.2f}/{_number(max(r.max_score for r in reports))}"]
        lines += ["", *render_summary(class_summary(reports, names))]
    return "\n".join(lines) + "\n"


def _sparkline(histogram: Sequence[dict]) -> str:
    highest = max((b["count"] for b in histogram), default=0) or 1
    return "".join(SPARKS[max(1, round(8 * b["count"] / highest))] if b["count"] else "·"
                   for b in histogram)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def render_summary(summary: dict) -> list[str]:
    """The class summary as markdown tables."""
    count = summary["submissions"]
    statuses = ", ".join(f"{name} {n}" for name, n in summary["statuses"].items() if n)
    lines = ["### Class summary", "", f"Submissions: {count} ({statuses}).", "",
             "| Exercise | Mean | Median | Full marks | Scores, 0 → max |",
             "|---|--:|--:|--:|:--|"]
    for entry in [*summary["exercises"], {"name": "Total", **summary["total"]}]:
        name = f"`{_cell(entry['name'])}`" if entry["name"] != "Total" else "**Total**"
        maximum = _number(entry["max_score"])
        lines.append(f"| {name} | {_number(entry['mean'] or 0)}/{maximum} "
                     f"| {_number(entry['median'] or 0)}/{maximum} | {entry['full_marks']}/{count} "
                     f"| `{_sparkline(entry['histogram'])}` |")
    lines += ["", "<details>", "<summary>Pass rate of every check</summary>", "",
              "| Exercise | Check | Passed | Rate |", "|---|---|--:|--:|"]
    for entry in summary["exercises"]:
        for check in entry["checks"]:
            lines.append(f"| `{_cell(entry['name'])}` | `{_cell(check['name'])}` "
                         f"| {check['passed']}/{check['graded']} | {_rate(check['pass_rate'])} |")
    lines += ["", "</details>", "", "#### Misconceptions", ""]
    if not summary["misconceptions"]:
        return lines + ["None recognised."]
    lines += ["| Misconception | Exercise | Students | Who |", "|---|---|--:|---|"]
    for entry in summary["misconceptions"]:
        text = f"<br>{_cell(entry['text'])}" if entry["text"] else ""
        lines.append(f"| `{_cell(entry['key'])}`{text} | `{_cell(entry['exercise'])}` "
                     f"| {entry['count']} | {_cell(', '.join(entry['students']))} |")
    return lines


def render_markdown(reports: Sequence[Report], settings: ReportSettings) -> str:
    if settings.batch:
        return render_batch(reports, settings.exercise_names).rstrip("\n")
    return render_one(reports[0]).rstrip("\n")
