"""The class at a glance: per exercise the mean, median and a histogram of scores, per
check the pass rate, per misconception who hit it, and how many submissions ended how.

`class_summary` returns plain data (the `"summary"` of a batch's JSON report); the
markdown and HTML reporters draw the same numbers as tables and charts.
"""

from __future__ import annotations

import statistics
from typing import Any, Sequence

from grader.model import ExerciseResult, Report
from grader.reporters.status import STATUSES, misconception_text, submission_status

#: Histogram bins: ten of equal width from 0 to the maximum (the last one holds it too).
BINS = 10


def _round(value: float) -> float:
    return round(value, 3)


def histogram(scores: Sequence[float], max_score: float, bins: int = BINS) -> list[dict]:
    """[{"from", "to", "count"}, ...]: `bins` equal bins over [0, max_score]."""
    width = max_score / bins if max_score > 0 else 0.0
    counts = [0] * bins
    for score in scores:
        index = int(score / width) if width else 0
        counts[min(max(index, 0), bins - 1)] += 1
    return [{"from": _round(i * width), "to": _round((i + 1) * width), "count": count}
            for i, count in enumerate(counts)]


def _spread(scores: Sequence[float], max_score: float) -> dict[str, Any]:
    return {"max_score": max_score,
            "mean": _round(statistics.fmean(scores)) if scores else None,
            "median": _round(statistics.median(scores)) if scores else None,
            "full_marks": sum(score >= max_score for score in scores),
            "histogram": histogram(scores, max_score)}


def _exercise_names(reports: Sequence[Report], names: Sequence[str]) -> list[str]:
    return list(names) or list(dict.fromkeys(e.name for r in reports for e in r.exercises))


def _checks(results: Sequence[ExerciseResult]) -> list[dict[str, Any]]:
    """Each check's pass rate among the submissions where it counted (not skipped)."""
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        for check in result.checks:
            row = rows.setdefault(check.name, {"name": check.name, "max_score": check.max_score,
                                               "passed": 0, "graded": 0, "skipped": 0})
            if check.status == "skipped":
                row["skipped"] += 1
                continue
            row["graded"] += 1
            row["passed"] += check.status == "passed"
    for row in rows.values():
        row["pass_rate"] = _round(row["passed"] / row["graded"]) if row["graded"] else None
    return list(rows.values())


def _misconceptions(reports: Sequence[Report]) -> list[dict[str, Any]]:
    """Each misconception named in the batch, with the students whose answers showed it."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for report in reports:
        for exercise in report.exercises:
            for check in exercise.checks:
                if not check.misconception or check.status == "passed":
                    continue
                entry = found.setdefault((exercise.name, check.misconception), {
                    "key": check.misconception, "exercise": exercise.name,
                    "text": misconception_text(check), "checks": [], "students": []})
                if check.name not in entry["checks"]:
                    entry["checks"].append(check.name)
                student = report.id or ""
                if student not in entry["students"]:
                    entry["students"].append(student)
    entries = list(found.values())
    for entry in entries:
        entry["count"] = len(entry["students"])
    order = {name: i for i, name in enumerate(dict.fromkeys(k[0] for k in found))}
    entries.sort(key=lambda e: (-e["count"], order[e["exercise"]], e["key"]))
    return entries


def class_summary(reports: Sequence[Report], names: Sequence[str] = ()) -> dict[str, Any]:
    """The batch's summary as plain data (see the module's docstring)."""
    statuses = [submission_status(r) for r in reports]
    exercises = []
    for name in _exercise_names(reports, names):
        results = [e for r in reports for e in r.exercises if e.name == name]
        if not results:
            continue
        max_score = max(e.max_score for e in results)
        exercises.append({"name": name, "title": results[0].title,
                          **_spread([e.score for e in results], max_score),
                          "checks": _checks(results)})
    max_total = max((r.max_score for r in reports), default=0.0)
    return {"submissions": len(reports),
            "statuses": {s: statuses.count(s) for s in STATUSES},
            "total": _spread([r.score for r in reports], max_total),
            "exercises": exercises,
            "misconceptions": _misconceptions(reports)}
