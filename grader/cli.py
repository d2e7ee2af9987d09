"""`python -m grader`: parse the command line, grade, report, and exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from grader.grading import DEFAULT_SEED, Grader, Options
from grader.hints import remember as remember_hints
from grader.i18n import languages
from grader.model import Report
from grader.options import BACKENDS, choose_backend
from grader.plugins import collect_exercises, collect_reporters, plugin_manager
from grader.reporters import SPREADSHEETS, ReportSettings
from grader.reporters.gradescope import VISIBILITIES
from grader.sandbox import Limits
from grader.seeds import KEY_ENV, BadKey, read_key
from grader.stubs import languages as stub_languages

EXIT_FULL_MARKS, EXIT_NOT_FULL, EXIT_USAGE = 0, 1, 2
#: When this run started (Gradescope's execution_time counts from here).
_STARTED = time.monotonic()


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 like argparse, but through our handler
        raise UsageError(message)


def build_parser(formats: Sequence[str]) -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m grader",
                     description="Grade PyTorch exercises against the reference solutions.")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="exercise files, a directory of them, or a notebook")
    parser.add_argument("--format", default="terminal", choices=sorted(formats),
                        help="report format (default: terminal)")
    parser.add_argument("--seed", type=int,
                        help=f"seed of the grading data (default {DEFAULT_SEED})")
    parser.add_argument("--lang", default=os.environ.get("GRADER_LANG", "en"), choices=languages(),
                        help=f"language of the feedback ({', '.join(languages())})")
    parser.add_argument("--hints", nargs="?", const="next", metavar="all",
                        help="show the next level of each unfinished exercise's hint (one more "
                             "per run); --hints all: every level")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="grade only this exercise (repeatable)")
    parser.add_argument("--batch", type=Path, metavar="DIR",
                        help="grade each entry of DIR as one student's submission")
    parser.add_argument("--student-seeds", nargs="?", const="", metavar="KEY",
                        help="--batch: each student graded on their own data, seeded from "
                             "KEY and their id (never shown); better @FILE (the key in a "
                             f"file) or no KEY (from {KEY_ENV}) than KEY in clear")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="--batch on a Dask cluster: a scheduler (tcp://host:8786) or "
                             "local:N (N worker processes here); needs the cluster extra")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="workers in parallel (default: the number of cores)")
    parser.add_argument("--timeout", type=float, help="seconds per exercise (default 10)")
    parser.add_argument("--notebook-timeout", type=float, metavar="SECONDS",
                        default=Options.notebook_timeout,
                        help="seconds for a notebook's top-level code, run once per "
                             f"submission (default {Options.notebook_timeout:g})")
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, metavar="MB",
                        help=f"extra memory per worker in MB (default {Limits.memory_mb})")
    parser.add_argument("--output-kb", type=int, default=Limits.output_kb, metavar="KB",
                        help="captured output kept per exercise (default 32)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="how workers start: fork (Linux: from a warm zygote) or spawn "
                             "(any system: fresh interpreters); default: $GRADER_BACKEND, "
                             "else fork on Linux and spawn elsewhere")
    parser.add_argument("--strict-sandbox", action="store_true",
                        help="refuse to grade where workers cannot be confined (no Landlock "
                             "or no network namespace): exit 2")
    parser.add_argument("--watch", action="store_true",
                        help="grade again each time you save an exercise file (Ctrl-C to stop)")
    staff = parser.add_argument_group("gradebooks and course tools")
    staff.add_argument("--excel", action="store_true",
                       help="start a spreadsheet (csv, canvas, moodle) with a UTF-8 byte order "
                            "mark, so that Excel reads names in any language")
    staff.add_argument("--roster", type=Path, metavar="FILE",
                       help="canvas: the class roster, a CSV such as Canvas's gradebook export")
    staff.add_argument("--roster-column", default="", metavar="NAME",
                       help="canvas: the roster column that holds the submission ids (default "
                            "'SIS User ID'); moodle: the identifier column's name (default "
                            "'ID number')")
    staff.add_argument("--assignment", default="", metavar="NAME",
                       help="canvas: the assignment column, 'Name (id)' for an existing "
                            "assignment, a new name for a new one (default 'torchkit')")
    staff.add_argument("--visibility", choices=VISIBILITIES, metavar="WHEN",
                       help="gradescope: when students see the tests: "
                            + ", ".join(VISIBILITIES) + " (default visible)")
    return parser


def build_notebook_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m grader notebook",
                     description="Write the whole course (every exercise stub) as one notebook.")
    parser.add_argument("--out", type=Path, default=Path("course.ipynb"), metavar="FILE",
                        help="the notebook to write (default: course.ipynb; - for stdout)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the notebook if it exists (your work in it is lost)")
    parser.add_argument("--from", dest="source", type=Path, metavar="DIR",
                        help="the directory of exercise files (default: the kit's own stubs)")
    parser.add_argument("--lang", choices=stub_languages(),
                        default=os.environ.get("GRADER_LANG") if os.environ.get("GRADER_LANG")
                        in stub_languages() else "en",
                        help=f"language of the instructions ({', '.join(stub_languages())})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"python -m grader: error: {exc}", file=sys.stderr)
        print("usage: python -m grader PATH [PATH ...] [--format FORMAT] [--seed N] [--watch] | "
              "--batch DIR [--jobs N] | notebook [--out FILE]  (see --help)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the grader reports its own failure, it never crashes
        print("python -m grader: internal error; nothing was graded. Please report this:",
              file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return EXIT_NOT_FULL


def _notebook(argv: list[str]) -> int:
    from grader.notebook import write_notebook

    args = build_notebook_parser().parse_args(argv)
    if args.source is not None and not args.source.is_dir():
        raise UsageError(f"--from needs a directory: {args.source}")
    out = args.out
    if str(out) != "-":
        if out.exists() and not args.force:
            raise UsageError(f"{out} exists; it may hold your work. Use --out OTHER.ipynb, "
                             "or --force to overwrite it")
        if not out.parent.is_dir():
            raise UsageError(f"no such directory: {out.parent}")
    notebook = write_notebook(out, args.source, lang=args.lang)
    if str(out) != "-":
        count = len(notebook.metadata["torchkit"]["exercises"])
        print(f"wrote {out} ({count} exercises). Grade it with: python -m grader {out}",
              file=sys.stderr)
    return EXIT_FULL_MARKS


def _main(argv: list[str]) -> int:
    if argv[:1] == ["notebook"]:
        return _notebook(argv[1:])
    pm = plugin_manager()
    exercises = collect_exercises(pm)
    reporters = collect_reporters(pm)
    args = build_parser(list(reporters)).parse_args(argv)
    if args.hints not in (None, "next", "all"):   # `--hints exercises/`: a path, not a level
        args.paths, args.hints = [Path(args.hints), *args.paths], "next"

    if args.batch is None and not args.paths:
        raise UsageError("give a PATH to grade (a directory, a .py file or a notebook)")
    if args.batch is not None and args.paths:
        raise UsageError("--batch DIR takes no other PATH")
    for path in [args.batch] if args.batch is not None else args.paths:
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
    if args.batch is not None and not args.batch.is_dir():
        raise UsageError(f"--batch needs a directory: {args.batch}")
    args.only = [_exercise_named(name, {e.name for e in exercises}) for name in args.only]
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if not 0 < args.notebook_timeout < float("inf"):
        raise UsageError("--notebook-timeout must be a positive number of seconds")
    if args.memory < 1 or args.output_kb < 1:
        raise UsageError("--memory and --output-kb must be positive")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise UsageError("--seed must be between 0 and 4294967295")
    args.seed_key = _seed_key(args)
    if args.cluster and args.batch is None:
        raise UsageError("--cluster grades a class: use it with --batch DIR")
    if args.watch and args.batch is not None:
        raise UsageError("--watch grades one submission; it takes no --batch")
    if args.watch and args.format != "terminal":
        raise UsageError("--watch shows the terminal report; it takes no --format")
    args.report_options = report_options(args)

    shown: list[str] = list(args.only)
    if args.batch is None:
        # One file still lists every exercise (the contract): the rest as not found.
        args.paths, located = _located(args.paths, exercises)
        if located:
            print(located, file=sys.stderr)
    try:
        args.backend = choose_backend(args.backend)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.strict_sandbox:
        _require_confinement()
    limits = Limits(timeout=args.timeout if args.timeout is not None else Limits.timeout,
                    memory_mb=args.memory,
                    output_kb=args.output_kb)
    partial = bool(shown) and args.batch is None and not args.watch
    options = Options(seed=DEFAULT_SEED if args.seed is None else args.seed,
                      lang=args.lang, hints=args.hints,
                      only=() if partial else tuple(args.only),
                      jobs=args.jobs, limits=limits, timeout_given=args.timeout is not None,
                      notebook_timeout=args.notebook_timeout, backend=args.backend)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                       and not os.environ.get("NO_COLOR"))
    if args.batch is not None:
        return _batch(pm, exercises, options, args, reporters, color)
    with Grader(exercises, options) as grader:
        names = tuple(e.name for e in grader.exercises)
        settings = ReportSettings(batch=False, lang=args.lang, color=color, exercise_names=names,
                                  **args.report_options)
        if args.watch:
            from grader.watch import watch
            return watch(pm, grader, args.paths, settings)
        submission = pm.hook.grader_load_submission(paths=args.paths, id=_id_of(args.paths))
        if partial:
            report = _part_of_the_course(pm, grader, submission, args.paths, shown)
            settings = ReportSettings(batch=False, lang=args.lang, color=color,
                                      exercise_names=tuple(shown), **args.report_options)
        else:
            report = grader.grade(submission)
        _emit(reporters[args.format]([report], replace(settings, elapsed=_elapsed())))
        remember_hints(e.name for e in report.exercises)   # --hints: the levels it showed
        return EXIT_FULL_MARKS if report.full_marks else EXIT_NOT_FULL


def _located(paths: Sequence[Path], exercises) -> tuple[list[Path], str]:
    """Each path as it is graded: a folder with no exercise file of its own gives way to
    the one folder one or two levels down that has some (said in the returned note)."""
    from grader.locate import NotFound, locate

    found, notes = [], []
    for path in paths:
        try:
            where, note = locate(path, exercises)
        except NotFound as exc:
            raise UsageError(str(exc)) from None
        found.append(where)
        if note:
            notes.append(note)
    return found, "; ".join(notes)


def _part_of_the_course(pm, grader: Grader, submission, paths: Sequence[Path],
                        shown: Sequence[str]) -> Report:
    """The report of the exercises asked for (--only, or what one file holds), with the
    standing of the whole course: the rest graded from the same folder, in the same run."""
    if len(paths) == 1 and paths[0].is_file():
        folder = pm.hook.grader_load_submission(paths=[paths[0].parent],
                                                id=f"{submission.id} (course)")
        reports = {r.id: r for r in grader.grade_many([submission, folder])}
        own, whole = reports[submission.id], reports[folder.id]
    else:
        own = whole = grader.grade(submission)
    results = {e.name: e for e in whole.exercises}
    results.update({e.name: e for e in own.exercises if e.name in shown})
    course = [results[e.name] for e in grader.exercises if e.name in results]
    todo = next((e.name for e in course if not e.full_marks), None)
    standing = {"score": round(sum(e.score for e in course), 6),
                "max_score": round(sum(e.max_score for e in course), 6), "next": todo}
    return replace(own, exercises=tuple(results[name] for name in shown), course=standing)


def _exercise_named(given: str, known: set[str]) -> str:
    """The exercise `--only` names: its full name, its number's prefix (`e03`) or its
    file's name (`e03_autograd.py`), as a student would type it."""
    name = given.strip().removesuffix(".py").removesuffix(".ipynb")
    matches = sorted(k for k in known if k == name or k.startswith(name + "_"))
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"unknown exercise {given} (known: {', '.join(sorted(known))})")


def _seed_key(args) -> bytes | None:
    """The key of --student-seeds (None without it), checked before any grading."""
    if args.student_seeds is None:
        return None
    if args.batch is None:
        raise UsageError("--student-seeds gives each student of a batch their own seed: "
                         "use it with --batch DIR")
    if args.seed is not None:
        raise UsageError("--student-seeds or --seed, not both: each student's seed comes "
                         "from the key")
    try:
        return read_key(args.student_seeds or None)
    except BadKey as exc:
        raise UsageError(str(exc)) from None


def _require_confinement() -> None:
    """--strict-sandbox: exit 2, saying why, unless both the filesystem and the network
    of every worker can be confined here."""
    from grader.confine import available

    held = available()
    missing = []
    if held["filesystem"] != "landlock":
        missing.append("filesystem (needs Linux 5.13 or newer with Landlock enabled)")
    if held["network"] != "isolated":
        missing.append("network (needs unprivileged user and network namespaces)")
    if missing:
        raise UsageError("--strict-sandbox: workers cannot be confined on this machine: "
                         + "; ".join(missing))


def _emit(text: str) -> None:
    """The report on stdout; a reader that went away (`| head`) is no error of ours."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit-time flush is quiet too


def _id_of(paths: Sequence[Path]) -> str:
    return paths[0].resolve().stem if len(paths) == 1 else "submission"


def report_options(args) -> dict:
    """The settings of --excel, --roster, --roster-column, --assignment and --visibility,
    checked against --format (a wrong combination is a usage error, before any grading)."""
    from grader.reporters.lms import RosterError, read_roster

    fmt = args.format
    if args.excel and fmt not in SPREADSHEETS:
        raise UsageError(f"--excel is for the spreadsheets ({', '.join(SPREADSHEETS)}), "
                         f"not --format {fmt}")
    if fmt == "canvas" and args.roster is None:
        raise UsageError("--format canvas needs --roster FILE (the class list, such as "
                         "Canvas's gradebook export) to join the scores on")
    for flag, value, formats in (("--roster", args.roster, ("canvas",)),
                                 ("--assignment", args.assignment, ("canvas",)),
                                 ("--roster-column", args.roster_column, ("canvas", "moodle")),
                                 ("--visibility", args.visibility, ("gradescope",))):
        if value and fmt not in formats:
            raise UsageError(f"{flag} is for --format {' or '.join(formats)}")
    if fmt == "canvas" and args.batch is None:
        raise UsageError("--format canvas writes a class's gradebook: use it with --batch DIR")
    options: dict = {"excel": args.excel, "roster_column": args.roster_column,
                     "assignment": args.assignment, "visibility": args.visibility or "visible"}
    if args.roster is not None:
        column = args.roster_column or "SIS User ID"
        try:
            options["roster"] = read_roster(args.roster, column)
        except RosterError as exc:
            raise UsageError(str(exc)) from None
    return options


def _elapsed() -> float:
    return time.monotonic() - _STARTED


def _batch(pm, exercises, options: Options, args, reporters, color: bool) -> int:
    """A class: graded here, or on the cluster (--cluster), with a progress bar."""
    from grader.batch import Batch, EmptyBatch, emit_batch, grade_here, grade_on_cluster
    from grader.cluster import ClusterUnavailable
    from grader.reporters.progress import Progress
    from grader.seeds import student_seeds

    try:
        batch = Batch.of(args.batch)
    except EmptyBatch as exc:
        raise UsageError(str(exc)) from None
    # Made here, from the key: on a cluster only the seeds travel.
    seeds = None if args.seed_key is None else student_seeds(args.seed_key, batch.ids)
    names = tuple(e.name for e in exercises if not options.only or e.name in options.only)
    with Progress(len(batch.ids)) as progress:
        if args.cluster:
            try:
                reports = grade_on_cluster(args.cluster, exercises, options, batch,
                                           progress.graded, seeds)
            except ClusterUnavailable as exc:
                raise UsageError(str(exc)) from None
        else:
            with Grader(exercises, options) as grader:
                reports = grade_here(pm, grader, batch, progress.graded, seeds)
    settings = ReportSettings(batch=True, lang=args.lang, color=color, exercise_names=names,
                              elapsed=_elapsed(), **args.report_options)
    emit_batch(reports, reporters, args, settings, _emit)
    return EXIT_FULL_MARKS
