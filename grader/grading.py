"""Grade submissions: the `Grader` owns the sandbox, the references and their cache.

It hands each batch to the scheduler (`grader.schedule`: which workers run, the
reference's outputs made once per seed and reused), then judges each submission's raw
outputs against the reference's (`grader.verdicts`) into a `Report`. What counts as
copying the reference is `grader.integrity`'s.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from grader import stubs
from grader.exercise import Exercise, Verdict
from grader.i18n import render
from grader.integrity import KIT_ROOT, check_files, hidden_paths, links_checked, \
    reference_modules
from grader.loaders import Source, Submission, load_paths
from grader.model import Report
from grader.options import DEFAULT_SEED, Options
from grader.outcome_texts import cell_error_text, redefined_text
from grader.printed import notebook_output_once
from grader.protocol import LoadedFrame, ViolationFrame
from grader.refcache import ReferenceCache
from grader.sandbox import Outcome, Sandbox
from grader.sandbox.spawn import SpawnSandbox
from grader.schedule import Finished, Scheduler
from grader.seeds import without_seed
from grader.strip import plan as plan_strip
from grader.verdicts import judge_exercise, through_notebook
from grader.worker import IN_WORKER_ENV, make_worker_main
from grader.worker_warmup import warm_up

SOLUTIONS_DIR = KIT_ROOT / "solutions"
EXERCISES_DIR = KIT_ROOT / "exercises"


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
        hidden = hidden_paths(exercises, solutions_dir)
        if options.backend == "spawn":   # fresh interpreters: macOS, Windows (or asked for)
            self.sandbox = SpawnSandbox(by_name, jobs=options.jobs, hidden=hidden)
        else:
            self.sandbox = Sandbox(warm_up_and_plan, make_worker_main(by_name),
                                   jobs=options.jobs, hidden=hidden)
        # An exercise pack's own references come first, so that they win over a kit
        # solution of the same name.
        packs = dict.fromkeys(Path(e.solution) for e in exercises if e.solution)
        self.reference_submission = load_paths([*packs, solutions_dir], "reference")
        cache = ReferenceCache(
            [*Path(__file__).resolve().parent.rglob("*.py"), *check_files(exercises)],
            [s.code + "".join(code for _, code in s.cells)
             for s in self.reference_submission.sources])
        # The pristine stubs, in every language (not exercises/, where a student works).
        self._stubs = frozenset(
            s.code for lang in stubs.languages()
            for s in load_paths([stubs.STUBS_DIR / lang], "stubs").sources if s.kind == "module")
        self._tmp = tempfile.mkdtemp(prefix="grader-")
        self.schedule = Scheduler(options, self.exercises, self.sandbox,
                                  self.reference_submission, solutions_dir,
                                  reference_modules(exercises), cache, self._tmp)

    def close(self) -> None:
        self.sandbox.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def source_for(self, submission: Submission, exercise: Exercise) -> Source | None:
        """The file of `submission` that this grader grades `exercise` from."""
        return submission.source_for(exercise.name, exercise.names, self._stubs)

    def grade(self, submission: Submission, only: Iterable[str] | None = None) -> Report:
        return next(iter(self.grade_many([submission], only)))

    def grade_many(self, submissions: Iterable[Submission],
                   only: Iterable[str] | None = None,
                   seeds: Mapping[str, int] | None = None) -> Iterator[Report]:
        """Grade each submission (on the exercises named in `only`, else all of this
        grader's); yield each report as soon as it is complete.

        `seeds` gives a submission, by id, its own seed (--student-seeds) instead of the
        grader's; such a seed is never shown in the report (`grader.seeds.without_seed`).
        The sandbox is the same for every seed; the references are made (or read from the
        disk) for a few seeds at a time and dropped after, so that memory stays flat."""
        submissions = [links_checked(s, self.schedule.is_reference_file) for s in submissions]
        wanted = None if only is None else set(only)
        exercises = [e for e in self.exercises if wanted is None or e.name in wanted]
        own = {} if seeds is None else {s.id: seeds[s.id] for s in submissions if s.id in seeds}
        seed_of = [own.get(s.id, self.options.seed) for s in submissions]
        for start, stop in seed_windows(seed_of, max(4, 2 * self.options.jobs)):
            for finished in self.schedule.run(submissions[start:stop], exercises,
                                              self.source_for, seed_of[start:stop]):
                submission = submissions[start + finished.index]
                report = self._report(exercises, submission, finished)
                yield without_seed(report, finished.seed) if submission.id in own else report
            for seed in set(seed_of[start:stop]):
                self.schedule.forget(seed)

    def _report(self, exercises: list[Exercise], submission: Submission,
                finished: Finished) -> Report:
        notes: list[str] = list(submission.problems)
        results = []
        sources, notebook_runs = finished.sources, finished.notebook_runs
        outcomes: dict[str, Outcome] = dict(finished.outcomes)
        for name, source in sources.items():
            run = notebook_runs.get(source.path) if source is not None else None
            if run is not None:
                outcomes[name] = through_notebook(outcomes.get(name), run)
        options = replace(self.options, seed=finished.seed)
        seen = [f for o in outcomes.values() if o for f in o.frames  # every worker's
                if isinstance(f, ViolationFrame)]
        for exercise in exercises:
            reference = self.schedule.reference.get((finished.seed, exercise.name))
            judged = judge_exercise(exercise, sources[exercise.name],
                                    outcomes.get(exercise.name), reference, options,
                                    self.schedule.inputs_of(exercise, finished.seed),
                                    [e.name for e in self.exercises], seen)
            results.append(judged)
            redefined = None if judged.full_marks else \
                redefined_text(sources[exercise.name], exercise.names)
            if redefined is not None:
                notes.append(render(redefined, self.options.lang, []))
            outcome = outcomes.get(exercise.name)
            if outcome is not None:
                for frame in outcome.frames:
                    if isinstance(frame, LoadedFrame):
                        for error in frame.cell_errors:
                            note = render(cell_error_text(error, outcome), self.options.lang,
                                          [])
                            if note not in notes:
                                notes.append(note)
        results = notebook_output_once(results, sources, notebook_runs,
                                       {e.name: e.names for e in self.exercises})
        return Report(exercises=tuple(results), id=submission.id, seed=finished.seed,
                      sandbox={**self.sandbox.confinement, "backend": self.options.backend},
                      notes=tuple(notes))


def seed_windows(seeds: Sequence[int], most: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive runs of `seeds` with at most `most` distinct seeds
    each: one run for a batch on one seed."""
    start, distinct = 0, set()
    for index, seed in enumerate(seeds):
        if seed not in distinct and len(distinct) == most:
            yield start, index
            start, distinct = index, set()
        distinct.add(seed)
    if start < len(seeds) or not seeds:
        yield start, len(seeds)


__all__ = ["Grader", "Options", "judge_exercise", "Verdict", "DEFAULT_SEED", "EXERCISES_DIR",
           "SOLUTIONS_DIR"]
