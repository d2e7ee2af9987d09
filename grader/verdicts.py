"""Judging: one worker's raw outputs, against the reference's, become check results.

Everything here runs in the grader's own process, on the typed frames of
`grader.protocol` (`decode_frame` has already refused anything malformed). A judge that
raises, or a detector that cannot decide, costs its own check only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from grader.exercise import Check, Exercise, JudgeContext, Text, t
from grader.i18n import DEFAULT_LANG, Catalogue, core, render_lines, shared
from grader.integrity import concerns, names
from grader.code_facts import code_facts, top_level_names
from grader.loaders import Source
from grader.model import CheckResult, ExerciseResult
from grader.options import Options
from grader.outcome_texts import (cell_error_text, error_verdict, load_error_text, short,
                                  stopped_at, timeout_text)
from grader.protocol import (CellFrame, DoneFrame, FatalFrame, LoadedFrame, ProbeFrame,
                             ViolationFrame, read_only)
from grader.sandbox import Outcome


def _is_empty(source: Source) -> bool:
    """Whether a file holds no code at all (nothing, or only comments and a docstring)."""
    codes = [source.code] if source.kind == "module" else [code for _, code in source.cells]
    return all(code_facts(code).empty for code in codes)


#: A worker's probe frames by (probe, variant): the first of each (a second is tampering).
Probes = dict[tuple[str, "str | None"], ProbeFrame]


def _frames(outcome: Outcome | None) -> tuple[LoadedFrame | None, Probes]:
    loaded: LoadedFrame | None = None
    probes: Probes = {}
    if outcome is None:
        return loaded, probes
    for frame in outcome.frames:
        if isinstance(frame, LoadedFrame) and loaded is None:
            loaded = frame
        elif isinstance(frame, ProbeFrame):
            probes.setdefault((frame.probe, frame.variant), frame)
    return loaded, probes


def _repeated_frame(outcome: Outcome) -> str:
    """A worker sends each result once: a second frame for the same probe (or a second
    "loaded"/"done") can only come from the submission writing on the result channel."""
    seen: set[tuple] = set()
    for frame in outcome.frames:
        if isinstance(frame, ProbeFrame):
            key: tuple = (frame.kind, frame.probe, frame.variant)
        elif isinstance(frame, (LoadedFrame, DoneFrame)):
            key = (frame.kind,)
        else:
            continue
        if key in seen:
            return "the result channel carried the same result twice"
        seen.add(key)
    return ""


def judge_exercise(exercise: Exercise, source: Source | None, outcome: Outcome | None,
                   reference: Outcome | None, options: Options,
                   inputs: dict[str, Any] | None = None,
                   course: Sequence[str] = (),
                   elsewhere: Sequence[ViolationFrame] = ()) -> ExerciseResult:
    """Turn one worker's raw outputs into check results, points and feedback. `elsewhere`:
    the violations the submission's other workers saw (one that names this exercise's
    reference voids it: without Landlock, e02's worker read e01's solution and wrote it
    where e01's worker took it, and e01 got full marks)."""
    lang = options.lang
    catalogs = [exercise.catalogue]
    title = exercise.title_in(lang)

    def result(check: Check, status: str, lines: Iterable[Text | str], fraction: float = 0.0,
               misconception: str | None = None) -> CheckResult:
        score = round(check.points * fraction, 6) if status == "passed" or fraction else 0.0
        return CheckResult(check.name, status, score, check.points,
                           _capped(render_lines(lines, lang, catalogs)), misconception)

    ref_loaded, ref_probes = _frames(reference)
    # GPU checks the reference skipped here stay skipped whatever happened to the rest:
    # the score never depends on the hardware that grades it.
    no_cuda_here = {c.name for c in exercise.checks
                    if c.needs_cuda and _skipped(ref_probes.get((c.probe, None)))}

    def everything(status: str, line: Text, summary: Text | None = None) -> ExerciseResult:
        checks = tuple(result(c, "skipped", [t("no_cuda")]) if c.name in no_cuda_here
                       else result(c, status, [line]) for c in exercise.checks)
        return ExerciseResult(exercise.name, title, checks,
                              summary=_capped(render_lines([summary or line], lang,
                                                           catalogs)),
                              hint=_hint(exercise, options, failed=True, source=source),
                              output=outcome.output if outcome else "")

    if source is None:
        return everything("failed", t("missing_exercise", file=exercise.name,
                                      names=", ".join(exercise.names)))
    if _is_empty(source):
        return everything("error", t("empty_file", file=Path(source.path).name))
    ref_load_error = ref_loaded.load_error if ref_loaded is not None else None
    if reference is None or not reference.finished or ref_load_error is not None:
        detail = "no reference result" if reference is None else (
            "reference timed out" if reference.timed_out else "reference did not finish")
        if ref_load_error is not None:
            detail = f"reference failed to load: {ref_load_error.message}"
        return everything("error", t("internal", detail=detail))
    loaded, probes = _frames(outcome)
    assert outcome is not None
    violations = [f for f in outcome.frames if isinstance(f, ViolationFrame)
                  and concerns(f.what, exercise.name, course)]
    violations += [f for f in elsewhere if names(f.what, exercise.name, course)]
    if violations:
        return everything("failed", t("violation", what=short(violations[0].what)))
    tampered = outcome.bad_channel or _repeated_frame(outcome)
    if tampered:
        return everything("failed", t("bad_channel", detail=tampered))
    if outcome.killed_sandbox:
        return everything("error", t("killed_sandbox"))
    if loaded is None:
        if outcome.timed_out:
            cells = [f.cell for f in outcome.frames if isinstance(f, CellFrame)]
            seconds = outcome.job.limits.timeout
            if cells:
                return everything("timeout", t("timeout_in_cell", seconds=seconds,
                                               file=Path(source.path).name, cell=cells[-1],
                                               where=stopped_at(outcome)))
            return everything("timeout", timeout_text(outcome))
        fatal = next((f for f in outcome.frames if isinstance(f, FatalFrame)), None)
        if fatal is not None:
            return everything("error", t("internal", detail=short(fatal.error)))
        return everything("error", t("crashed", how=outcome.exit or "no result"))
    if loaded.load_error is not None:
        return everything("error", load_error_text(loaded.load_error, source.path, options))

    missing = set(loaded.missing)
    checks: list[CheckResult] = []
    not_implemented = 0
    for check in exercise.checks:
        frame = probes.get((check.probe, None))
        ref_frame = ref_probes.get((check.probe, None))
        if frame is None:
            if outcome.timed_out:
                checks.append(result(check, "timeout", [timeout_text(outcome)]))
            elif outcome.exit or not outcome.finished:
                how = outcome.exit or "exit code 0"  # os._exit(0) ends it quietly
                checks.append(result(check, "error", [t("crashed", how=how)]))
            else:
                checks.append(result(check, "error", [t("no_result")]))
            continue
        if frame.missing is not None:
            name = frame.missing.strip("'\"")
            checks.append(result(check, "failed", [t("missing_name", name=name,
                                                     names=", ".join(exercise.names))]))
            continue
        if frame.skip is not None:
            # Skipped only where the reference was too (no CUDA here): a submission that
            # raises Skip itself on a GPU machine does not make a check drop out.
            if check.needs_cuda and _skipped(ref_frame):
                checks.append(result(check, "skipped", [t("no_cuda")]))
            else:
                checks.append(result(check, "error", [t("raised", type="Skip",
                                                        message=frame.skip, where="")]))
            continue
        if frame.error is not None:
            status, line = error_verdict(frame.error, check.probe, options)
            not_implemented += line.key == "not_implemented"
            checks.append(result(check, status, [line]))
            continue
        if ref_frame is None or not ref_frame.returned:
            checks.append(result(check, "error",
                                 [t("internal", detail=f"reference probe {check.probe} failed")]))
            continue
        try:
            if inputs is None:
                inputs = read_only(exercise.make_inputs(options.seed))
            ctx = JudgeContext(frame.value, ref_frame.value, inputs, options.seed)
            verdict = check.judge(ctx)
        except Exception as exc:  # noqa: BLE001 - a judge bug must not crash the grader
            checks.append(result(check, "error", [t("internal", detail=f"{check.name}: "
                                                    f"{type(exc).__name__}: {short(str(exc))}")]))
            continue
        if verdict.passed:
            checks.append(result(check, "passed", verdict.lines, 1.0))
            continue
        key = verdict.misconception or _misconception(exercise, check, ctx, probes,
                                                      ref_probes)
        lines = list(verdict.lines)
        if key:  # the misconception says why: each line in its brief form, where it has one
            lines = [_brief(line, catalogs) for line in lines]
            lines.append(t("misconception", text=t(key)))
        checks.append(result(check, "failed", lines, verdict.fraction, key))

    summary_lines: list[Text | str] = []
    if missing and not all(c.status == "passed" for c in checks):
        summary_lines.append(t("missing_name", name=", ".join(sorted(missing)),
                               names=", ".join(exercise.names)))
    if not_implemented:
        summary_lines.append(t("todo_summary", file=Path(source.path).name,
                               count=not_implemented))
    if outcome.output_bytes > len(outcome.output.encode()):
        summary_lines.append(t("output_note", size=outcome.output_bytes))
    done = tuple(checks)
    failed_any = any(c.status not in ("passed", "skipped") for c in done)
    if failed_any:
        for error in loaded.cell_errors:
            if missing or _cell_defines(source, error.cell) & set(exercise.names):
                summary_lines.append(cell_error_text(error, outcome))
    return ExerciseResult(exercise.name, title, done,
                          summary=_capped(render_lines(summary_lines, lang, catalogs)),
                          hint=_hint(exercise, options, failed=failed_any, source=source),
                          output=outcome.output)


#: The longest feedback of one check. A submission names much of what it is told (a
#: class's __name__, an exception's text, a Skip's reason, a missing name): a 5 MB class
#: name made 5 MB of feedback per check, in every report format.
MAX_FEEDBACK_CHARS = 4000


def _capped(text: str) -> str:
    if len(text) <= MAX_FEEDBACK_CHARS:
        return text
    return text[:MAX_FEEDBACK_CHARS - 1] + "…"


def _brief(line: Text | str, catalogs: Sequence[Catalogue]) -> Text | str:
    """A failed check's line as it reads next to the misconception that explains it.

    A message that gives its own reason (`no_parameters`: "... a layer kept in a plain
    Python list is invisible ...") would say again what the misconception says; its
    `<key>.brief` text, where the catalogue that gives the message has one, says only
    what went wrong. Without a misconception the full message stands: its reason is then
    the only one given."""
    if not isinstance(line, Text):
        return line
    chain = [*catalogs, shared(), core()]
    giver = next((c for c in chain if c.lookup(line.key, DEFAULT_LANG) is not None), None)
    brief = f"{line.key}.brief"
    if giver is None or giver.lookup(brief, DEFAULT_LANG) is None:
        return line
    return Text(brief, line.params)


def _cell_defines(source: Source, number: Any) -> frozenset[str]:
    """What a notebook cell defines: its error concerns the exercises of those names
    (every error is also listed once in the report's notes)."""
    code = next((code for n, code in source.cells if n == number), "")
    return top_level_names(code)


def _misconception(exercise: Exercise, check: Check, ctx: JudgeContext,
                   probes: Probes, ref_probes: Probes) -> str | None:
    """The first known misconception whose outputs the student's match.

    A mutant names a misconception only when the student's outputs match the mutant's
    on EVERY check it claims (each of its symptoms), not just on the failing one: a
    student with a different bug that happens to share one symptom is not told the
    wrong cause.
    """
    for misconception in exercise.misconceptions:
        if check.name not in misconception.checks:
            continue
        try:
            if misconception.detect is not None:
                if misconception.detect(ctx):
                    return misconception.key
                continue
            if all(_matches_mutant(exercise, name, misconception.key, ctx, probes, ref_probes)
                   for name in misconception.checks):
                return misconception.key
        except Exception:  # noqa: BLE001 - a detector that cannot decide says nothing
            continue
    return None


def _matches_mutant(exercise: Exercise, check_name: str, key: str, ctx: JudgeContext,
                    probes: Probes, ref_probes: Probes) -> bool:
    """Whether the student's output of one check passes that check's judge when the
    mutant's output is taken as the reference."""
    check = next((c for c in exercise.checks if c.name == check_name), None)
    if check is None:
        return False
    mutant = ref_probes.get((check.probe, key))
    own = probes.get((check.probe, None))
    if mutant is None or not mutant.returned or own is None or not own.returned:
        return False
    mutant_ctx = JudgeContext(own.value, mutant.value, ctx.inputs, ctx.seed)
    return check.judge(mutant_ctx).passed


def _skipped(frame: ProbeFrame | None) -> bool:
    """Whether a probe said it cannot run here (no CUDA)."""
    return frame is not None and frame.skip is not None


def _hint(exercise: Exercise, options: Options, failed: bool, source: Source | None = None
          ) -> str:
    from grader.hints import hint_text  # the level to show, climbed with --hints
    return hint_text(exercise, options.lang, options.hints, failed=failed,
                     folder=Path(source.path).parent if source is not None else None)


def through_notebook(outcome: Outcome | None, run: Outcome) -> Outcome:
    """An exercise of a notebook as the judge sees it: its own worker's outcome, with what
    the notebook's run sent (the guard's violations); or the notebook's run itself when the
    exercise never started (the notebook timed out, crashed, or killed the sandbox)."""
    if outcome is None or not outcome.started or run.killed_sandbox:
        ran = any(isinstance(f, LoadedFrame) and f.load_error is None for f in run.frames)
        exit_ = (outcome.exit if outcome is not None and ran else "") or run.exit
        return replace(run, output="", output_bytes=0, exit=exit_, frames=list(run.frames))
    violations = [f for f in run.frames if isinstance(f, ViolationFrame)]
    return replace(outcome, frames=violations + outcome.frames,
                   bad_channel=outcome.bad_channel or run.bad_channel)
