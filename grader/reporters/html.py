"""`--format html`: the class on one self-contained page, for staff.

The page loads nothing (a Content-Security-Policy allows no network at all): the styles,
a few lines of script and the charts, drawn as SVG by `grader.reporters.svg`, are all in
it. It shows the class summary (`grader.reporters.summary`): a histogram of the totals,
per exercise a histogram of scores and each check's pass rate, the misconceptions with
the students who hit them; then a student table that sorts on any column, each name
linking to that student's report further down the page (`#student-N`).

Everything a submission may have put into a report (its printed output, messages
quoting its code, its file name as the id) is escaped, so nothing in it becomes markup.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Sequence

from grader import i18n
from grader.hints import names_its_level
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters import svg
from grader.reporters._text import clean
from grader.reporters.status import percent, submission_status
from grader.reporters.summary import class_summary

if TYPE_CHECKING:
    from grader.reporters import ReportSettings

OUTPUT_LIMIT = 2000
MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "skipped": "–"}

STYLE = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --ok: #15803d; --bad: #b91c1c; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK KR", "Malgun Gothic",
       sans-serif; color: var(--ink); margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.muted { color: var(--muted); }
.chips span { display: inline-block; border: 1px solid var(--line); border-radius: 1rem;
              padding: .1rem .6rem; margin: .1rem .2rem .1rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(24rem, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; }
.card h3 { margin: 0 0 .3rem; font-size: 1rem; }
svg.chart { width: 100%; height: auto; display: block; margin: .4rem 0; }
.total svg.chart { max-width: 36rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .4rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0;
            cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
.status-graded { color: var(--ok); } .status-error, .status-timeout { color: var(--bad); }
.student { border-top: 2px solid var(--line); margin-top: 1.5rem; }
.student:target { background: #fefce8; }
details { margin: .3rem 0; } summary { cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; background: #f9fafb; padding: .3rem .5rem;
      margin: .2rem 0; font-size: .85rem; }
.passed { color: var(--ok); } .failed, .error, .timeout { color: var(--bad); }
td.passed, td.failed, td.error, td.timeout, td.skipped { white-space: nowrap; }
"""

SCRIPT = """
(function () {
  var table = document.getElementById("students");
  if (!table) { return; }
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (head, column) {
    var button = head.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = head.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort") || "";
        var y = b.cells[column].getAttribute("data-sort") || "";
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _e(text: Any) -> str:
    return escape(clean(str(text)))


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _anchor(index: int) -> str:
    return f"student-{index + 1}"


def _histogram(spread: dict, name: str, labels: dict) -> str:
    counts = [b["count"] for b in spread["histogram"]]
    tips = [f"{_number(b['from'])}–{_number(b['to'])}: {b['count']}" for b in spread["histogram"]]
    label = labels["histogram"].format(name=name, max=_number(spread["max_score"]))
    return svg.histogram(counts, label, ("0", _number(spread["max_score"] / 2),
                                         _number(spread["max_score"])), tips)


def _stats(spread: dict, count: int, labels: dict) -> str:
    return (f'<p class="muted">{labels["mean"]} {_number(spread["mean"])}, '
            f'{labels["median"]} {_number(spread["median"])} / {_number(spread["max_score"])}; '
            f'{labels["full_marks"]} {spread["full_marks"]}/{count}</p>')


def _exercise_card(entry: dict, count: int, labels: dict) -> str:
    rows = [(c["name"], c["pass_rate"],
             f"{c['passed']}/{c['graded']}" if c["graded"] else "–") for c in entry["checks"]]
    return (f'<section class="card exercise" id="exercise-{_e(entry["name"])}">'
            f'<h3><code>{_e(entry["name"])}</code> {_e(entry["title"])}</h3>'
            + _stats(entry, count, labels) + _histogram(entry, entry["name"], labels)
            + svg.rate_bars(rows, labels["rates"].format(name=entry["name"])) + "</section>")


def _misconceptions(entries: list[dict], anchors: dict[str, str], labels: dict) -> str:
    if not entries:
        return f'<p class="muted">{labels["none"]}</p>'
    head = (f'<table class="misconceptions"><thead><tr><th>{labels["misconception"]}</th>'
            f'<th>{labels["exercise"]}</th><th class="num">{labels["count"]}</th>'
            f'<th>{labels["who"]}</th></tr></thead><tbody>')
    rows = []
    for entry in entries:
        who = ", ".join(f'<a href="#{anchors.get(s, "")}">{_e(s)}</a>' for s in entry["students"])
        text = f'<br><span class="muted">{_e(entry["text"])}</span>' if entry["text"] else ""
        rows.append(f'<tr><td><code>{_e(entry["key"])}</code>{text}</td>'
                    f'<td><code>{_e(entry["exercise"])}</code></td>'
                    f'<td class="num">{entry["count"]}</td><td>{who}</td></tr>')
    return head + "".join(rows) + "</tbody></table>"


def _sortable(label: str, numeric: bool = False) -> str:
    return f'<th{" class=num" if numeric else ""}><button type="button">{label}</button></th>'


def _student_table(reports: Sequence[Report], names: Sequence[str], labels: dict) -> str:
    head = (_sortable(labels["student"]) + _sortable(labels["status"])
            + _sortable(labels["score"], True) + _sortable(labels["percent"], True)
            + "".join(_sortable(f"<code>{_e(n[:3])}</code>", True) for n in names))
    rows = []
    for index, report in enumerate(reports):
        status = submission_status(report)
        by_name = {e.name: e for e in report.exercises}
        cells = [f'<td data-sort="{_e(report.id or "")}"><a href="#{_anchor(index)}">'
                 f'{_e(report.id or "")}</a></td>',
                 f'<td data-sort="{status}" class="status-{status}">{status}</td>',
                 f'<td class="num" data-sort="{report.score}">{_number(report.score)}</td>',
                 f'<td class="num" data-sort="{percent(report)}">{_number(percent(report))}</td>']
        for name in names:
            exercise = by_name.get(name)
            score = exercise.score if exercise is not None else 0.0
            cells.append(f'<td class="num" data-sort="{score}">{_number(score)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table id="students"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _check_row(check: CheckResult, exercise: ExerciseResult) -> str:
    feedback = check.feedback if check.status != "passed" else ""
    if check.status not in ("passed", "skipped") and not feedback:
        feedback = exercise.summary
    body = f"<pre>{_e(feedback)}</pre>" if feedback else ""
    return (f'<tr><td class="{check.status}">{MARKS[check.status]} {check.status}</td>'
            f"<td><code>{_e(check.name)}</code></td>"
            f'<td class="num">{_number(check.score)}/{_number(check.max_score)}</td>'
            f"<td>{body}</td></tr>")


def _exercise_details(exercise: ExerciseResult, labels: dict) -> str:
    parts = [f'<details{"" if exercise.full_marks else " open"}><summary>'
             f'{"✓" if exercise.full_marks else "✗"} <code>{_e(exercise.name)}</code> '
             f"{_e(exercise.title)}: {_number(exercise.score)}/{_number(exercise.max_score)}"
             "</summary>"]
    if exercise.summary and not exercise.full_marks:
        parts.append(f"<pre>{_e(exercise.summary)}</pre>")
    parts.append(f'<table><thead><tr><th>{labels["status"]}</th><th>{labels["check"]}</th>'
                 f'<th class="num">{labels["points"]}</th><th>{labels["feedback"]}</th></tr>'
                 "</thead><tbody>" + "".join(_check_row(c, exercise) for c in exercise.checks)
                 + "</tbody></table>")
    if exercise.hint:
        label = "" if names_its_level(exercise.hint) else f'<strong>{labels["hint"]}:</strong> '
        parts.append(f'<p>{label}{_e(exercise.hint)}</p>')
    if exercise.output and not exercise.full_marks:
        parts.append(f'<p>{labels["output"]}:</p><pre>{_e(exercise.output[-OUTPUT_LIMIT:])}</pre>')
    return "".join(parts) + "</details>"


def _student_section(index: int, report: Report, labels: dict) -> str:
    status = submission_status(report)
    parts = [f'<section class="student" id="{_anchor(index)}">'
             f'<h3>{_e(report.id or "")} <span class="status-{status}">({status})</span> '
             f"{_number(report.score)}/{_number(report.max_score)}</h3>"]
    parts += [f"<p>⚠ {_e(note)}</p>" for note in report.notes]
    parts += [_exercise_details(e, labels) for e in report.exercises]
    parts.append(f'<p><a href="#students">{labels["top"]}</a></p></section>')
    return "".join(parts)


def render_html(reports: Sequence[Report], settings: ReportSettings) -> str:
    labels = i18n.labels("html", settings.lang)
    names = list(settings.exercise_names) or list(
        dict.fromkeys(e.name for r in reports for e in r.exercises))
    summary = class_summary(reports, names)
    count = summary["submissions"]
    anchors = {r.id or "": _anchor(i) for i, r in enumerate(reports)}
    seeds = sorted({r.seed for r in reports if r.seed is not None})
    seed = f' ({labels["seed"]} {", ".join(map(str, seeds))})' if seeds else ""
    chips = "".join(f"<span class=\"status-{s}\">{s}: {n}</span>"
                    for s, n in summary["statuses"].items() if n)
    parts = [f'<!DOCTYPE html><html lang="{_e(settings.lang)}"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f'<title>{labels["title"]}</title><style>{STYLE}</style></head><body>',
             f'<h1>{labels["title"]}</h1>',
             f'<p class="muted">{labels["submissions"].format(count=count)}{_e(seed)}</p>',
             f'<p class="chips">{chips}</p>',
             f'<h2 id="totals">{labels["totals"]}</h2>',
             _stats(summary["total"], count, labels),
             f'<div class="total">{_histogram(summary["total"], labels["totals"], labels)}</div>',
             f'<h2 id="exercises">{labels["exercises"]}</h2><div class="grid">',
             *(_exercise_card(entry, count, labels) for entry in summary["exercises"]),
             f'</div><h2 id="misconceptions">{labels["misconceptions"]}</h2>',
             _misconceptions(summary["misconceptions"], anchors, labels),
             f'<h2>{labels["students"]}</h2>', _student_table(reports, names, labels),
             *(_student_section(i, r, labels) for i, r in enumerate(reports))]
    sandbox = next((r.sandbox for r in reports if r.sandbox), None)
    if sandbox:
        parts.append('<p class="muted">' + _e(labels["sandbox"].format(**{
            key: sandbox.get(key, "?") for key in ("filesystem", "network", "pids")})) + "</p>")
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)
