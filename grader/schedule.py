"""Which workers a batch needs, and running them: the jobs, the reference's, the batch.

The reference's outputs are made once per seed (in a worker too, running the kit's
solutions and the misconception mutants), kept on disk between runs (`grader.refcache`)
and reused for every submission of a batch. A notebook's top-level code runs once, and
each of its exercises in a worker forked from the state it built.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from grader import codec
from grader.exercise import Exercise
from grader.integrity import concerns, imports_reference, inside, is_reference_file
from grader.loaders import Source, Submission
from grader.options import Options
from grader.protocol import Job, JobModule, JobSource, Limits, read_only
from grader.refcache import ReferenceCache
from grader.sandbox import Outcome, Sandbox, scratch_dir

REFERENCE_LIMITS = Limits(timeout=120.0, memory_mb=8192)


@dataclass
class Finished:
    """A submission whose every worker is done: what each exercise was graded from, and
    what the workers sent (a notebook's own run by the notebook's path)."""

    index: int
    sources: dict[str, Source | None]
    outcomes: dict[str, Outcome]
    notebook_runs: dict[str, Outcome]
    seed: int                             # the seed it was graded on


class Scheduler:
    """Makes the jobs of the grader's exercises and runs them in its sandbox."""

    def __init__(self, options: Options, exercises: Sequence[Exercise], sandbox: Sandbox,
                 references: Submission, solutions_dir: Path,
                 reference_modules: Sequence[str], cache: ReferenceCache, tmp: str):
        self.options = options
        self.exercises = exercises        # the course, as this grader grades it
        self.sandbox = sandbox
        self.references = references      # the reference solutions, as loaded
        self.solutions_dir = solutions_dir
        self.reference_modules = tuple(reference_modules)
        self.cache = cache
        self.tmp = tmp                    # the scratch folders' parent
        #: The reference's outcomes by (seed, exercise), for the grader's lifetime.
        self.reference: dict[tuple[int, str], Outcome] = {}
        self._inputs: dict[tuple[str, int], dict[str, Any]] = {}
        self._plain: dict[tuple[str, int], Any] = {}

    def limits(self, exercise: Exercise) -> Limits:
        limits = self.options.limits
        if exercise.timeout and not self.options.timeout_given:
            limits = Limits(exercise.timeout, limits.memory_mb, limits.output_kb, limits.file_mb)
        return limits

    def inputs_of(self, exercise: Exercise, seed: int | None = None) -> dict[str, Any]:
        """The exercise's inputs on `seed` (default: this grader's; made once, read-only)."""
        seed = self.options.seed if seed is None else seed
        key = (exercise.name, seed)
        if key not in self._inputs:
            self._inputs[key] = read_only(exercise.make_inputs(seed))
        return self._inputs[key]

    def plain_inputs(self, exercise: Exercise, seed: int | None = None) -> Any:
        """The inputs as they travel in a job: made here, in the grader, so that a worker
        needs no data-making code (which may share helpers with the mutants)."""
        seed = self.options.seed if seed is None else seed
        key = (exercise.name, seed)
        if key not in self._plain:
            self._plain[key] = codec.to_plain(self.inputs_of(exercise, seed))
        return self._plain[key]

    def forget(self, seed: int) -> None:
        """Drop what was made for `seed` (inputs, the reference's outcomes): a seed of one
        student's (--student-seeds) is not needed again by this grader, and a class's
        worth of them would fill its memory. The grader's own seed is kept."""
        if seed == self.options.seed:
            return
        for made in (self._inputs, self._plain):
            for key in [key for key in made if key[1] == seed]:
                del made[key]
        for key in [key for key in self.reference if key[0] == seed]:
            del self.reference[key]

    def is_reference_file(self, path: str) -> bool:
        return is_reference_file(path, self.references, self.solutions_dir)

    def job(self, exercise: Exercise, source: Source, submission: Submission,
            role: str, index: int, workdir: str | None = None, seed: int | None = None
            ) -> Job:
        seed = self.options.seed if seed is None else seed
        forbidden: list[str] = []
        # The kit's own solutions, graded as they are (the instructor's check), are not
        # copying; reached through a link, they are.
        own_references = any(inside(p, self.solutions_dir) for p in submission.search_path) \
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
                  and s.kind == "module" and self.is_reference_file(s.link)]
        if forbidden and self.is_reference_file(source.path):
            violation = f"open {source.path}"  # a link to a reference file
        elif forbidden and linked:
            violation = f"open {linked[0]}"    # a module of it is one
        elif forbidden:
            course = [e.name for e in self.exercises]
            own = {name.split(".")[0] for name in modules}   # a student's own solutions.py
            copied = [m for m in imports_reference(source, self.reference_modules)
                      if m.split(".")[0] not in own
                      and concerns(f"import {m}", exercise.name, course)]
            if copied:
                violation = f"import {copied[0]}"
        return Job(role=role, seed=seed, exercise=exercise.name,
                   sources=(JobSource.from_json(source.to_job()),), modules=modules,
                   search_path=tuple(submission.search_path), forbidden=tuple(forbidden),
                   workdir=workdir or scratch_dir(self.tmp), index=index,
                   inputs=self.plain_inputs(exercise, seed), violation=violation)

    def notebook_job(self, source: Source, members: list[Exercise], submission: Submission,
                     index: int, seed: int | None = None) -> tuple[Job, Limits, list]:
        """A notebook's top-level code runs once, in one worker under the notebook's own
        time limit; each exercise then runs in a worker forked from the state it built
        (a folder of the notebook's: the only place its workers may write)."""
        notebook = replace(self.job(members[0], source, submission, "student", index,
                                    seed=seed),
                           violation="", mode="notebook", exercise="",
                           exercises=tuple(e.name for e in members), notebook=source.path)
        children = []
        for exercise in members:
            child = self.job(exercise, source, submission, "student", index,
                             workdir=scratch_dir(notebook.workdir), seed=seed)
            child = replace(child, mode="exercise", modules={},  # its state: the notebook's
                            sources=(replace(child.sources[0], cells=()),))
            children.append((child, self.limits(exercise)))
        base = self.options.limits
        limits = Limits(self.options.notebook_timeout, base.memory_mb, base.output_kb,
                        base.file_mb)
        return notebook, limits, children

    def _reference_jobs(self, exercises: Sequence[Exercise], seed: int) -> list[tuple]:
        """The reference's jobs this batch needs on `seed`: none for what it has, or the
        disk has."""
        jobs: list[tuple] = []
        for exercise in exercises:
            if (seed, exercise.name) not in self.reference:
                cached = self.cache.load(seed, exercise.name, Job(
                    role="reference", seed=seed, exercise=exercise.name,
                    limits=REFERENCE_LIMITS))
                if cached is not None:
                    self.reference[(seed, exercise.name)] = cached
            if (seed, exercise.name) in self.reference:
                continue
            source = self.references.source_for(exercise.name, exercise.names)
            if source is not None:
                jobs.append((self.job(exercise, source, self.references, "reference", -1,
                                      seed=seed), REFERENCE_LIMITS))
        return jobs

    def run(self, submissions: Sequence[Submission], exercises: Sequence[Exercise],
            source_for: Callable[[Submission, Exercise], Source | None],
            seeds: Sequence[int] | None = None) -> Iterator[Finished]:
        """Run the workers of every submission on `exercises` (and the reference's it
        needs, on each submission's seed in `seeds`, default the grader's); yield each
        submission as soon as all of its workers are done."""
        seeds = [self.options.seed] * len(submissions) if seeds is None else list(seeds)
        jobs = [spec for seed in dict.fromkeys(seeds)
                for spec in self._reference_jobs(exercises, seed)]
        references_pending = {(job.seed, job.exercise) for job, _limits in jobs}
        sources: list[dict[str, Source | None]] = []
        waiting: list[int] = []
        for index, submission in enumerate(submissions):
            chosen = {e.name: source_for(submission, e) for e in exercises}
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
                jobs.append((self.job(exercise, source, submission, "student", index,
                                      seed=seeds[index]), self.limits(exercise)))
                waiting[index] += 1
            for members in notebooks.values():
                jobs.append(self.notebook_job(chosen[members[0].name], members, submission,
                                              index, seeds[index]))
                waiting[index] += 1 + len(members)
        outcomes: list[dict[str, Outcome]] = [{} for _ in submissions]
        notebook_runs: list[dict[str, Outcome]] = [{} for _ in submissions]
        done: set[int] = set()

        def ready() -> Iterator[Finished]:
            unready = {seed for seed, _exercise in references_pending}
            for index in range(len(submissions)):
                if index not in done and waiting[index] == 0 and seeds[index] not in unready:
                    done.add(index)
                    yield Finished(index, sources[index], outcomes[index], notebook_runs[index],
                                   seeds[index])
                    # Reported: its outputs are not kept until the batch ends (about 16 MB
                    # a submission, 1.8 GB for a class of 100).
                    outcomes[index], notebook_runs[index] = {}, {}

        yield from ready()
        for outcome in self.sandbox.run(jobs):
            job = outcome.job
            if job.role == "reference":
                self.reference[(job.seed, job.exercise)] = outcome
                self.cache.store(job.seed, job.exercise, outcome)
                references_pending.discard((job.seed, job.exercise))
            elif job.mode == "notebook":
                notebook_runs[job.index][job.notebook] = outcome
                waiting[job.index] -= 1
            else:
                outcomes[job.index][job.exercise] = outcome
                waiting[job.index] -= 1
            # Now, not at the end: a batch of files written up to the size limit adds up.
            shutil.rmtree(job.workdir, ignore_errors=True)
            yield from ready()
