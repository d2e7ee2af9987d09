"""Grade submissions: schedule workers, then judge their raw outputs against the reference.

Reference outputs are computed once per seed (in a worker too, running the
kit's solutions and the misconception mutants) and reused for every
submission of a batch.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from grader import codec
from grader.exercise import Check, Exercise, JudgeContext, Text, Verdict, t
from grader.loaders import Source, Submission, load_paths, top_level_names
from grader.i18n import render, render_lines
from grader.model import CheckResult, ExerciseResult, Report
from grader.protocol import (CellFrame, DoneFrame, ErrorInfo, FatalFrame, Job, JobModule,
                             JobSource, LoadedFrame, ProbeFrame, ViolationFrame, WhereFrame,
                             read_only)
from grader.refcache import ReferenceCache
from grader.strip import plan as plan_strip
from grader.sandbox import Limits, Outcome, Sandbox, scratch_dir
from grader.worker import IN_WORKER_ENV, make_worker_main, warm_up

KIT_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = KIT_ROOT / "solutions"
EXERCISES_DIR = KIT_ROOT / "exercises"
DEFAULT_SEED = 1234
REFERENCE_LIMITS = Limits(timeout=120.0, memory_mb=8192)


@dataclass(frozen=True)
class Options:
    seed: int = DEFAULT_SEED
    lang: str = "en"
    hints: bool | str = False     # --hints: False (level 1), "next" or "all"
    only: tuple[str, ...] = ()
    jobs: int = 2
    limits: Limits = field(default_factory=Limits)
    timeout_given: bool = False   # --timeout overrides each exercise's own timeout
    #: Seconds for a notebook's top-level code, run once per submission (--notebook-timeout)
    notebook_timeout: float = 120.0


class Grader:
    """Owns the zygote and the reference cache; grades one submission or a whole class."""

    def __init__(self, exercises: list[Exercise], options: Options,
                 solutions_dir: Path = SOLUTIONS_DIR):
        if os.environ.get(IN_WORKER_ENV):
            raise RuntimeError("the grader does not run inside a submission it is grading")
        self.options = options
        self.exercises = [e for e in exercises if not options.only or e.name in options.only]
        self.solutions_dir = solutions_dir
        # The sandbox forks its zygotes from here: before the grader reads any reference
        # source, so that no worker finds a solution in its own memory (gc.get_objects()).
        by_name = {e.name: e for e in exercises}

        def warm_up_and_plan() -> None:  # in the nursery, while the grader goes on
            warm_up()
            for exercise in by_name.values():
                exercise.load_worker_code()
            plan_strip(by_name)
        self.sandbox = Sandbox(warm_up_and_plan, make_worker_main(by_name),
                               jobs=options.jobs, hidden=hidden_paths(exercises, solutions_dir))
        # An exercise pack's own references come first, so that they win over a kit
        # solution of the same name.
        packs = dict.fromkeys(Path(e.solution) for e in exercises if e.solution)
        self.reference_submission = load_paths([*packs, solutions_dir], "reference")
        self._cache = ReferenceCache(
            [*Path(__file__).resolve().parent.rglob("*.py"), *_check_files(exercises)],
            [s.code + "".join(code for _, code in s.cells)
             for s in self.reference_submission.sources])
        self.reference: dict[tuple[int, str], Outcome] = {}
        self._inputs: dict[tuple[str, int], dict[str, Any]] = {}
        self._plain: dict[tuple[str, int], Any] = {}
        self._reference_modules = reference_modules(exercises)
        self._stubs = frozenset(s.code for s in load_paths([EXERCISES_DIR], "stubs").sources
                                if s.kind == "module")
        self._tmp = tempfile.mkdtemp(prefix="grader-")

    def close(self) -> None:
        self.sandbox.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scheduling ----------------------------------------------------------
    def _limits(self, exercise: Exercise) -> Limits:
        limits = self.options.limits
        if exercise.timeout and not self.options.timeout_given:
            limits = Limits(exercise.timeout, limits.memory_mb, limits.output_kb, limits.file_mb)
        return limits

    def _inputs_of(self, exercise: Exercise) -> dict[str, Any]:
        """The exercise's inputs on this grader's seed (made once, read-only)."""
        key = (exercise.name, self.options.seed)
        if key not in self._inputs:
            self._inputs[key] = read_only(exercise.make_inputs(self.options.seed))
        return self._inputs[key]

    def _plain_inputs(self, exercise: Exercise) -> Any:
        """The inputs as they travel in a job: made here, in the grader, so that a worker
        needs no data-making code (which may share helpers with the mutants)."""
        key = (exercise.name, self.options.seed)
        if key not in self._plain:
            self._plain[key] = codec.to_plain(self._inputs_of(exercise))
        return self._plain[key]

    def _job(self, exercise: Exercise, source: Source, submission: Submission,
             role: str, index: int, workdir: str | None = None) -> Job:
        forbidden: list[str] = []
        # The kit's own solutions, graded as they are (the instructor's check), are not
        # copying; reached through a link, they are.
        own_references = any(_inside(p, self.solutions_dir) for p in submission.search_path) \
            and not any(s.link for s in submission.sources)
        if role == "student" and not own_references:
            forbidden = [str(self.solutions_dir)]
            forbidden += [e.solution for e in self.exercises if e.solution]
        # The submission's other modules travel with the job, as read before any worker
        # ran: what a classmate's worker writes on disk later changes nothing here.
        modules = {s.module_name: JobModule(s.path, s.code) for s in submission.sources
                   if s.kind == "module" and s is not source}
        violation = ""
        linked = [s.link for s in submission.sources if s.link and s is not source
                  and s.kind == "module" and self._is_reference_file(s.link)]
        if forbidden and self._is_reference_file(source.path):
            violation = f"open {source.path}"  # a link to a reference file
        elif forbidden and linked:
            violation = f"open {linked[0]}"    # a module of it is one
        elif forbidden:
            course = [e.name for e in self.exercises]
            copied = [m for m in imports_reference(source, self._reference_modules)
                      if concerns(f"import {m}", exercise.name, course)]
            if copied:
                violation = f"import {copied[0]}"
        return Job(role=role, seed=self.options.seed, exercise=exercise.name,
                   sources=(JobSource.from_json(source.to_job()),), modules=modules,
                   search_path=tuple(submission.search_path), forbidden=tuple(forbidden),
                   workdir=workdir or scratch_dir(self._tmp), index=index,
                   inputs=self._plain_inputs(exercise), violation=violation)

    def _notebook_job(self, source: Source, members: list[Exercise], submission: Submission,
                      index: int) -> tuple[Job, Limits, list]:
        """A notebook's top-level code runs once, in one worker under the notebook's own
        time limit; each exercise then runs in a worker forked from the state it built
        (a folder of the notebook's: the only place its workers may write)."""
        notebook = replace(self._job(members[0], source, submission, "student", index),
                           violation="", mode="notebook", exercise="",
                           exercises=tuple(e.name for e in members), notebook=source.path)
        children = []
        for exercise in members:
            child = self._job(exercise, source, submission, "student", index,
                              workdir=scratch_dir(notebook.workdir))
            child = replace(child, mode="exercise", modules={},  # its state: the notebook's
                            sources=(replace(child.sources[0], cells=()),))
            children.append((child, self._limits(exercise)))
        base = self.options.limits
        limits = Limits(self.options.notebook_timeout, base.memory_mb, base.output_kb,
                        base.file_mb)
        return notebook, limits, children

    def _links_checked(self, submission: Submission) -> Submission:
        """A file that is a link out of the submission's folder is read only to tell
        whether it is a reference file (then it is copying, as any reference file is);
        any other such file is dropped, so that nothing outside the submission (a file
        only the grader's user may read) ever reaches a worker or a report."""
        kept, problems = [], list(submission.problems)
        for source in submission.sources:
            if source.link and not self._is_reference_file(source.link):
                problems.append(f"{Path(source.path).name} is a link to a file outside the "
                                "submission's folder: not read")
                continue
            kept.append(source)
        if len(kept) == len(submission.sources):
            return submission
        return replace(submission, sources=tuple(kept), problems=tuple(problems))

    def _is_reference_file(self, path: str) -> bool:
        """Whether a submitted file is a reference file itself (a symbolic or hard link)."""
        for reference in self.reference_submission.sources:
            try:
                if os.path.samefile(path, reference.path):
                    return True
            except OSError:
                continue
        return _inside(path, self.solutions_dir)

    def source_for(self, submission: Submission, exercise: Exercise) -> Source | None:
        """The file of `submission` that this grader grades `exercise` from."""
        return submission.source_for(exercise.name, exercise.names, self._stubs)

    def grade(self, submission: Submission, only: Iterable[str] | None = None) -> Report:
        return next(iter(self.grade_many([submission], only)))

    def grade_many(self, submissions: Iterable[Submission],
                   only: Iterable[str] | None = None) -> Iterator[Report]:
        """Grade each submission (on the exercises named in `only`, else all of this
        grader's); yield each report as soon as it is complete."""
        submissions = [self._links_checked(s) for s in submissions]
        seed = self.options.seed
        wanted = None if only is None else set(only)
        exercises = [e for e in self.exercises if wanted is None or e.name in wanted]
        jobs: list[tuple] = []
        for exercise in exercises:
            if (seed, exercise.name) not in self.reference:
                cached = self._cache.load(seed, exercise.name, Job(
                    role="reference", seed=seed, exercise=exercise.name,
                    limits=REFERENCE_LIMITS))
                if cached is not None:
                    self.reference[(seed, exercise.name)] = cached
            if (seed, exercise.name) in self.reference:
                continue
            source = self.reference_submission.source_for(exercise.name, exercise.names)
            if source is not None:
                jobs.append((self._job(exercise, source, self.reference_submission,
                                       "reference", -1), REFERENCE_LIMITS))
        references_pending = {job.exercise for job, _limits in jobs}
        sources: list[dict[str, Source | None]] = []
        waiting: list[int] = []
        for index, submission in enumerate(submissions):
            chosen = {e.name: self.source_for(submission, e) for e in exercises}
            sources.append(chosen)
            waiting.append(0)
            notebooks: dict[str, list[Exercise]] = {}
            for exercise in exercises:
                source = chosen[exercise.name]
                if source is None:
                    continue
                if source.kind == "notebook":   # run once, below, for all its exercises
                    notebooks.setdefault(source.path, []).append(exercise)
                    continue
                jobs.append((self._job(exercise, source, submission, "student", index),
                             self._limits(exercise)))
                waiting[index] += 1
            for members in notebooks.values():
                jobs.append(self._notebook_job(chosen[members[0].name], members, submission,
                                               index))
                waiting[index] += 1 + len(members)
        outcomes: list[dict[str, Outcome]] = [{} for _ in submissions]
        notebook_runs: list[dict[str, Outcome]] = [{} for _ in submissions]
        done: set[int] = set()

        def ready() -> Iterator[Report]:
            if references_pending:
                return
            for index, submission in enumerate(submissions):
                if index not in done and waiting[index] == 0:
                    done.add(index)
                    yield self._report(exercises, submission, sources[index],
                                       outcomes[index], notebook_runs[index])

        yield from ready()
        for outcome in self.sandbox.run(jobs):
            job = outcome.job
            if job.role == "reference":
                self.reference[(seed, job.exercise)] = outcome
                self._cache.store(seed, job.exercise, outcome)
                references_pending.discard(job.exercise)
            elif job.mode == "notebook":
                notebook_runs[job.index][job.notebook] = outcome
                waiting[job.index] -= 1
            else:
                outcomes[job.index][job.exercise] = outcome
                waiting[job.index] -= 1
            # Now, not at the end: a batch of files written up to the size limit adds up.
            shutil.rmtree(job.workdir, ignore_errors=True)
            yield from ready()

    # -- judging -------------------------------------------------------------
    def _report(self, exercises: list[Exercise], submission: Submission,
                sources: dict[str, Source | None], outcomes: dict[str, Outcome],
                notebook_runs: dict[str, Outcome] | None = None) -> Report:
        notes: list[str] = list(submission.problems)
        results = []
        outcomes = dict(outcomes)
        for name, source in sources.items():
            run = (notebook_runs or {}).get(source.path) if source is not None else None
            if run is not None:
                outcomes[name] = through_notebook(outcomes.get(name), run)
        for exercise in exercises:
            reference = self.reference.get((self.options.seed, exercise.name))
            judged = judge_exercise(exercise, sources[exercise.name],
                                    outcomes.get(exercise.name), reference, self.options,
                                    self._inputs_of(exercise), [e.name for e in self.exercises])
            results.append(judged)
            outcome = outcomes.get(exercise.name)
            if outcome is not None:
                for frame in outcome.frames:
                    if isinstance(frame, LoadedFrame):
                        for error in frame.cell_errors:
                            note = render(_cell_error(error, outcome), self.options.lang, [])
                            if note not in notes:
                                notes.append(note)
        results = _notebook_output_once(results, sources, notebook_runs or {})
        return Report(exercises=tuple(results), id=submission.id, seed=self.options.seed,
                      sandbox=self.sandbox.confinement,
                      notes=tuple(notes))


#: Modules that hold reference code: the kit's solutions, and the grader's own reference
#: models and misconception mutants (a correct implementation is among them).
REFERENCE_MODULES = ("solutions", "grader.checks")


def reference_modules(exercises: Sequence[Exercise]) -> tuple[str, ...]:
    """REFERENCE_MODULES and the modules of every exercise pack's check code (a pack's
    reference solution may live in its package: `pack.solution.x01`)."""
    found = list(REFERENCE_MODULES)
    for exercise in exercises:
        for probe in exercise.probes.values():
            module = getattr(probe, "__module__", "") or ""
            if module and not any(module == r or module.startswith(r + ".") for r in found):
                found.append(module)
    return tuple(found)


def _is_reference_module(name: str, roots: Sequence[str] = REFERENCE_MODULES) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def concerns(what: str, exercise: str, course: Sequence[str]) -> bool:
    """Whether using a reference file or module (a violation's "what") voids `exercise`:
    the reference of one exercise voids that one only; anything else voids them all."""
    kind, _, target = what.partition(" ")
    parts = [Path(target).name.split(".")[0]] if kind == "open" else target.split(".")
    named = [part for part in parts if part in course]
    return not named or exercise in named


def imports_reference(source: Source,
                      roots: Sequence[str] = REFERENCE_MODULES) -> list[str]:
    """The reference modules a submission imports (statically visible).

    The worker's audit hook refuses `solutions` at run time; the grader's own
    modules are already loaded there, so importing them raises no audit event.
    """
    codes = [source.code] if source.kind == "module" else [code for _, code in source.cells]
    found: list[str] = []
    for code in codes:
        try:
            tree = ast.parse(code)
        except Exception:  # noqa: BLE001 - a syntax error is reported when it loads
            continue
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Call) and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                function = node.func
                called = function.attr if isinstance(function, ast.Attribute) else \
                    getattr(function, "id", "")
                if called in ("__import__", "import_module"):
                    names = [node.args[0].value]
            # `import solutions` alone reads nothing (an empty package); its modules count
            found += [n for n in names if _is_reference_module(n, roots) and n != "solutions"]
    return found


def _is_empty(source: Source) -> bool:
    """Whether a file holds no code at all (nothing, or only comments and a docstring)."""
    codes = [source.code] if source.kind == "module" else [code for _, code in source.cells]
    for code in codes:
        try:
            body = ast.parse(code).body
        except Exception:  # noqa: BLE001 - SyntaxError, or MemoryError/RecursionError on deep nesting
            return False
        if any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
               for node in body):
            return False
    return True


def _check_files(exercises: Sequence[Exercise]) -> list[Path]:
    """The files of every exercise's check code (packs' included)."""
    files = []
    for exercise in exercises:
        for probe in exercise.probes.values():
            module = sys.modules.get(getattr(probe, "__module__", ""))
            if getattr(module, "__file__", None):
                files.append(Path(module.__file__))
        for name in exercise.worker_modules():  # found, not imported: they stay in workers
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                files.append(Path(spec.origin))
    return files


def hidden_paths(exercises: Sequence[Exercise], solutions_dir: Path) -> tuple[str, ...]:
    """What no student worker may read: the references and the folders of the check code
    (its judges and mutants hold the answers)."""
    paths = {str(solutions_dir)}
    # The kit's own history and tests hold the references and correct variants too.
    paths.update(str(KIT_ROOT / name) for name in (".git", "tests")
                 if (KIT_ROOT / name).exists())
    paths.update(str(exercise.solution) for exercise in exercises if exercise.solution)
    paths.update(str(path.resolve().parent) for path in _check_files(exercises))
    return tuple(sorted(paths))


def _inside(path: str | Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


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


def _notebook_output_once(results: list[ExerciseResult], sources: dict[str, Source | None],
                          notebook_runs: dict[str, Outcome]) -> list[ExerciseResult]:
    """What a notebook's top-level code printed, shown once: with the first of its
    exercises that did not get full marks (else its first)."""
    results = list(results)
    for path, run in notebook_runs.items():
        if not run.output:
            continue
        mine = [i for i, r in enumerate(results)
                if sources.get(r.name) is not None and sources[r.name].path == path]
        if not mine:
            continue
        at = next((i for i in mine if not results[i].full_marks), mine[0])
        results[at] = replace(results[at], output=run.output + results[at].output)
    return results


def _cell_error(error: ErrorInfo, outcome: Outcome) -> Text:
    path = outcome.job.sources[0].path
    return t("cell_error", file=Path(path).name, cell=error.cell, type=error.type,
             message=_short(error.message))


def _short(message: str, limit: int = 300) -> str:
    message = " ".join(str(message).split())
    return message if len(message) <= limit else message[:limit] + "..."


def _where(error: ErrorInfo) -> Text | str:
    if error.line is None:
        return ""
    return t("where", line=error.line, file=Path(error.file or "").name,
             function="?" if error.function is None else error.function)


def _stopped_at(outcome: Outcome) -> Text | str:
    """Where the student's code was when its worker was stopped (the last "where" frame
    its timer sent before the deadline), or nothing when it did not say."""
    where = next((f for f in reversed(outcome.frames) if isinstance(f, WhereFrame)), None)
    if where is None or not where.file:
        return ""
    file = Path(where.file).name
    text = _short(where.text, 200)
    if where.function == "<module>":
        return t("stopped_at_top", line=where.line, file=file, text=text)
    return t("stopped_at", line=where.line, file=file, function=where.function, text=text)


def _timeout_text(outcome: Outcome) -> Text:
    seconds = outcome.job.limits.timeout
    where = _stopped_at(outcome)
    return t("timeout_at", seconds=seconds, where=where) if where else \
        t("timeout", seconds=seconds)


def _out_of_memory(error: ErrorInfo) -> bool:
    message = error.message
    return error.type == "MemoryError" or any(
        sign in message for sign in ("can't allocate memory", "DefaultCPUAllocator",
                                     "Cannot allocate memory"))


def _error_verdict(error: ErrorInfo, name_hint: str, options: Options) -> tuple[str, Text]:
    """A student's exception as (status, message)."""
    kind = error.type
    message = _short(error.message)
    if kind == "NotImplementedError":
        from grader.todos import todo_in  # a stub's TODO, in the report's language
        return "failed", t("not_implemented", name=error.function or name_hint,
                           todo=todo_in(options.lang, error.message) or message)
    if kind == "SystemExit":
        return "error", t("exited", message=message or "no code")
    if _out_of_memory(error):
        return "error", t("memory", limit=options.limits.memory_mb, message=message)
    return "error", t("raised", type=kind, message=message, where=_where(error))


def _load_error_text(error: ErrorInfo, source_path: str, options: Options) -> Text:
    # An error raised before any line ran (null bytes in the source) names no file or line.
    file = Path(error.file or source_path).name
    if error.type in ("SyntaxError", "IndentationError", "TabError"):
        return t("syntax_error", file=file, line=error.line or "?", message=error.message,
                 text=error.text or "")
    if error.type == "SystemExit":
        return t("exit_at_import", file=file, message=error.message or "no code")
    if _out_of_memory(error):
        return t("memory", limit=options.limits.memory_mb, message=_short(error.message))
    if error.type == "NotImplementedError":
        from grader.todos import todo_in  # a stub's TODO, in the report's language
        return t("not_implemented", name=error.function or file,
                 todo=todo_in(options.lang, error.message) or _short(error.message))
    return t("load_error", file=file, type=error.type,
             line="?" if error.line is None else error.line, message=_short(error.message))


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
                   course: Sequence[str] = ()) -> ExerciseResult:
    """Turn one worker's raw outputs into check results, points and feedback."""
    lang = options.lang
    catalogs = [exercise.catalogue]
    title = exercise.title_in(lang)

    def result(check: Check, status: str, lines: Iterable[Text | str], fraction: float = 0.0,
               misconception: str | None = None) -> CheckResult:
        score = round(check.points * fraction, 6) if status == "passed" or fraction else 0.0
        return CheckResult(check.name, status, score, check.points,
                           render_lines(lines, lang, catalogs), misconception)

    ref_loaded, ref_probes = _frames(reference)
    # GPU checks the reference skipped here stay skipped whatever happened to the rest:
    # the score never depends on the hardware that grades it.
    no_cuda_here = {c.name for c in exercise.checks
                    if c.needs_cuda and _skipped(ref_probes.get((c.probe, None)))}

    def everything(status: str, line: Text, summary: Text | None = None) -> ExerciseResult:
        checks = tuple(result(c, "skipped", [t("no_cuda")]) if c.name in no_cuda_here
                       else result(c, status, [line]) for c in exercise.checks)
        return ExerciseResult(exercise.name, title, checks,
                              summary=render_lines([summary or line], lang, catalogs),
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
    if violations:
        return everything("failed", t("violation", what=_short(violations[0].what)))
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
                                               where=_stopped_at(outcome)))
            return everything("timeout", _timeout_text(outcome))
        fatal = next((f for f in outcome.frames if isinstance(f, FatalFrame)), None)
        if fatal is not None:
            return everything("error", t("internal", detail=_short(fatal.error)))
        return everything("error", t("crashed", how=outcome.exit or "no result"))
    if loaded.load_error is not None:
        return everything("error", _load_error_text(loaded.load_error, source.path, options))

    missing = set(loaded.missing)
    checks: list[CheckResult] = []
    not_implemented = 0
    for check in exercise.checks:
        frame = probes.get((check.probe, None))
        ref_frame = ref_probes.get((check.probe, None))
        if frame is None:
            if outcome.timed_out:
                checks.append(result(check, "timeout", [_timeout_text(outcome)]))
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
            status, line = _error_verdict(frame.error, check.probe, options)
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
                                                    f"{type(exc).__name__}: {_short(str(exc))}")]))
            continue
        if verdict.passed:
            checks.append(result(check, "passed", verdict.lines, 1.0))
            continue
        key = verdict.misconception or _misconception(exercise, check, ctx, probes,
                                                      ref_probes)
        lines = list(verdict.lines)
        if key:
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
                summary_lines.append(_cell_error(error, outcome))
    return ExerciseResult(exercise.name, title, done,
                          summary=render_lines(summary_lines, lang, catalogs),
                          hint=_hint(exercise, options, failed=failed_any, source=source),
                          output=outcome.output)


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


__all__ = ["Grader", "Options", "judge_exercise", "Verdict", "DEFAULT_SEED"]
