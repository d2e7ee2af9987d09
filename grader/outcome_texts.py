"""What a worker's outcome says to the student: its errors, its timeouts, where it stopped.

Every function returns a `Text` (a message key and its parameters, rendered later in the
report's language) from the typed frames of `grader.protocol`.
"""

from __future__ import annotations

from pathlib import Path

from grader.code_facts import top_level_names
from grader.exercise import Text, t
from grader.options import Options
from grader.protocol import ErrorInfo, WhereFrame
from grader.sandbox import Outcome


def short(message: str, limit: int = 300) -> str:
    message = " ".join(str(message).split())
    return message if len(message) <= limit else message[:limit] + "..."


def redefined_text(source, names) -> Text | None:
    """One of an exercise's names defined in more than one notebook cell: the last one is
    graded (a later helper of the same name, say e09's `train`, replaces e07's), and an
    error from it would otherwise point at the exercise's own, unchanged cell."""
    cells = getattr(source, "cells", None) or ()
    for name in sorted(names):
        where = [number for number, code in cells if name in top_level_names(code)]
        if len(where) > 1:
            return t("redefined_in_cells", file=Path(source.path).name, name=name,
                     cells=", ".join(map(str, where[:-1])), last=where[-1])
    return None


def cell_error_text(error: ErrorInfo, outcome: Outcome) -> Text:
    path = outcome.job.sources[0].path
    return t("cell_error", file=Path(path).name, cell=error.cell, type=error.type,
             message=short(error.message))


def where_text(error: ErrorInfo) -> Text | str:
    if error.line is None:
        return ""
    return t("where", line=error.line, file=Path(error.file or "").name,
             function="?" if error.function is None else error.function)


def stopped_at(outcome: Outcome) -> Text | str:
    """Where the student's code was when its worker was stopped (the last "where" frame
    its timer sent before the deadline), or nothing when it did not say."""
    where = next((f for f in reversed(outcome.frames) if isinstance(f, WhereFrame)), None)
    if where is None or not where.file:
        return ""
    file = Path(where.file).name
    text = short(where.text, 200)
    if where.function == "<module>":
        return t("stopped_at_top", line=where.line, file=file, text=text)
    return t("stopped_at", line=where.line, file=file, function=where.function, text=text)


def timeout_text(outcome: Outcome) -> Text:
    seconds = outcome.job.limits.timeout
    where = stopped_at(outcome)
    return t("timeout_at", seconds=seconds, where=where) if where else \
        t("timeout", seconds=seconds)


def out_of_memory(error: ErrorInfo) -> bool:
    message = error.message
    return error.type == "MemoryError" or any(
        sign in message for sign in ("can't allocate memory", "DefaultCPUAllocator",
                                     "Cannot allocate memory"))


def error_verdict(error: ErrorInfo, name_hint: str, options: Options) -> tuple[str, Text]:
    """A student's exception as (status, message)."""
    kind = error.type
    message = short(error.message)
    if kind == "NotImplementedError":
        from grader.todos import todo_in  # a stub's TODO, in the report's language
        return "failed", t("not_implemented", name=error.function or name_hint,
                           todo=todo_in(options.lang, error.message) or message)
    if kind == "SystemExit":
        return "error", t("exited", message=message or "no code")
    if out_of_memory(error):
        return "error", t("memory", limit=options.limits.memory_mb, message=message)
    return "error", t("raised", type=kind, message=message, where=where_text(error))


def load_error_text(error: ErrorInfo, source_path: str, options: Options) -> Text:
    # An error raised before any line ran (null bytes in the source) names no file or line.
    file = Path(error.file or source_path).name
    if error.type in ("SyntaxError", "IndentationError", "TabError"):
        return t("syntax_error", file=file, line=error.line or "?", message=error.message,
                 text=error.text or "")
    if error.type == "SystemExit":
        return t("exit_at_import", file=file, message=error.message or "no code")
    if out_of_memory(error):
        return t("memory", limit=options.limits.memory_mb, message=short(error.message))
    if error.type == "NotImplementedError":
        from grader.todos import todo_in  # a stub's TODO, in the report's language
        return t("not_implemented", name=error.function or file,
                 todo=todo_in(options.lang, error.message) or short(error.message))
    return t("load_error", file=file, type=error.type,
             line="?" if error.line is None else error.line, message=short(error.message))
