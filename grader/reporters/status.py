"""What happened to a submission as a whole, read from its report: one word for a gradebook.

    graded   the grader ran the submission's code (whatever it scored)
    empty    nothing of the course in it: an empty folder, empty files, no exercise found
    stubs    nothing but the kit's stubs: every exercise still raises NotImplementedError
             (or is missing), and nothing earned a point
    timeout  some exercise ran out of time (an endless loop?)
    error    some exercise could not run: a syntax or load error, a crashed worker, a
             notebook cell that raised, an unreadable file, an internal error

Reports carry no such word, and the grader's internals are not for reporters to reach:
the status is derived from what every report holds, the check statuses and the grader's
own messages (`grader/texts/`, matched in every language they are written in, so that a
Korean report reads the same as an English one).
"""

from __future__ import annotations

import re
from functools import lru_cache

from grader.i18n import core
from grader.model import CheckResult, ExerciseResult, Report

STATUSES = ("graded", "empty", "stubs", "timeout", "error")

#: Messages that say no code of the exercise was there to grade.
NOTHING_THERE = ("missing_exercise", "empty_file")
#: Messages that say the submission's code could not run (as opposed to a wrong answer).
COULD_NOT_RUN = ("syntax_error", "load_error", "exit_at_import", "crashed", "killed_sandbox",
                 "internal", "cell_error")


#: A Korean particle written in both forms, "이(가)", "(으)로": the rendered text keeps one.
_PARTICLE_PAIR = re.compile(r"([가-힣]?)\(([가-힣]{1,2})\)")


def _literal(text: str) -> str:
    """Template text as a regular expression, each particle pair matching either form."""
    pieces, last = [], 0
    for pair in _PARTICLE_PAIR.finditer(text):
        pieces.append(re.escape(text[last:pair.start()]))
        first, second = pair.groups()
        pieces.append(f"(?:{re.escape(first)}|{re.escape(second)}|{re.escape(pair.group(0))})")
        last = pair.end()
    return "".join(pieces) + re.escape(text[last:])


def _pattern(template: str) -> str:
    """A message template as a regular expression: its placeholders match any text."""
    return "(.*?)".join(_literal(part) for part in re.split(r"\{[^{}]*\}", template))


@lru_cache(maxsize=None)
def _compiled(key: str) -> tuple[re.Pattern, ...]:
    templates = core().by_key().get(key, {})
    return tuple(re.compile(_pattern(text), re.DOTALL)
                 for text in dict.fromkeys(templates.values()))


def says(text: str, *keys: str) -> bool:
    """Whether `text` (one message, or one line of several) is one of the messages `keys`."""
    lines = [text, *text.splitlines()] if "\n" in text else [text]
    return any(pattern.fullmatch(line) for key in keys for pattern in _compiled(key)
               for line in lines)


def misconception_text(check: CheckResult) -> str:
    """The misconception's explanation as the student read it (its feedback's line)."""
    if not check.misconception:
        return ""
    for line in reversed(check.feedback.splitlines()):
        for pattern in _compiled("misconception"):
            found = pattern.fullmatch(line)
            if found:
                return found.group(1)
    return ""


def _counted(exercise: ExerciseResult) -> list[CheckResult]:
    return [c for c in exercise.checks if c.status != "skipped"]


def nothing_there(exercise: ExerciseResult) -> bool:
    """No code of this exercise in the submission (not found, or an empty file)."""
    checks = _counted(exercise)
    return bool(checks) and all(says(c.feedback, *NOTHING_THERE) for c in checks)


def is_stub(exercise: ExerciseResult) -> bool:
    """The exercise as the kit hands it out: no point, and its TODOs still raise."""
    return exercise.score == 0 and (
        says(exercise.summary, "todo_summary")
        or any(says(c.feedback, "not_implemented") for c in exercise.checks))


def could_not_run(exercise: ExerciseResult) -> bool:
    """The exercise's code could not run: every check an error, or a message that says so."""
    checks = _counted(exercise)
    if checks and all(c.status == "error" for c in checks) \
            and not all(says(c.feedback, *NOTHING_THERE) for c in checks):
        return True
    return any(says(c.feedback, *COULD_NOT_RUN) for c in checks) or (
        not exercise.full_marks and says(exercise.summary, *COULD_NOT_RUN))


def submission_status(report: Report) -> str:
    """One of STATUSES for the whole submission (see the module's docstring)."""
    exercises = [e for e in report.exercises if _counted(e)]
    if all(nothing_there(e) for e in exercises):
        # something was handed in that could not be read (a broken notebook): an error
        return "error" if report.notes else "empty"
    if any(c.status == "timeout" for e in exercises for c in e.checks):
        return "timeout"
    if any(could_not_run(e) for e in exercises):
        return "error"
    if all(is_stub(e) or nothing_there(e) for e in exercises):
        return "stubs"
    return "graded"


def percent(report: Report) -> float:
    """The score as a percentage of the maximum, to two decimals."""
    return round(100 * report.score / report.max_score, 2) if report.max_score else 0.0
