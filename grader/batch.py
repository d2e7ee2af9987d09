"""`python -m grader --batch DIR`: one report per student, graded here (`--jobs N`) or on a
Dask cluster (`--cluster ADDRESS`); the same gradebook either way. Runs in the grader."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from grader.model import Report
from grader.reporters import ReportSettings


def batch_entries(directory: Path) -> list[Path]:
    """One student per entry: a subdirectory, a .py file or a notebook (hidden entries and
    Python's own __pycache__ skipped)."""
    return sorted(p for p in directory.iterdir()
                  if not p.name.startswith(".") and p.name != "__pycache__"
                  and (p.is_dir() or p.suffix in (".py", ".ipynb")))


def student_ids(entries: list[Path]) -> list[str]:
    """Each entry's name without .py/.ipynb (a folder keeps its whole name, dots too);
    where two entries would share an id (bob/ and bob.py), both keep their full names."""
    ids = [entry.stem if entry.is_file() else entry.name for entry in entries]
    return [entry.name if ids.count(id_) > 1 else id_ for entry, id_ in zip(entries, ids)]


class EmptyBatch(ValueError):
    """A batch folder with no submission in it (a usage error: exit 2)."""


@dataclass(frozen=True)
class Batch:
    """The batch folder's entries and their student ids, in the gradebook's order."""

    entries: tuple[Path, ...]
    ids: tuple[str, ...]

    @classmethod
    def of(cls, directory: Path) -> Batch:
        entries = batch_entries(directory)
        if not entries:
            raise EmptyBatch(f"--batch {directory}: no submissions in it (each entry, a "
                             "folder, a .py file or a notebook, is one student's)")
        return cls(tuple(entries), tuple(student_ids(entries)))


def grade_here(pm, grader, batch: Batch, on_report: Callable[[Report], None],
               seeds: Mapping[str, int] | None = None) -> list[Report]:
    """The batch graded by this machine's sandbox (`--jobs` workers); `seeds`, by student
    id, for --student-seeds."""
    submissions = [pm.hook.grader_load_submission(paths=[entry], id=student_id)
                   for entry, student_id in zip(batch.entries, batch.ids)]
    reports = []
    for report in grader.grade_many(submissions, seeds=seeds):
        reports.append(report)
        on_report(report)
    return _in_order(reports, batch)


def grade_on_cluster(address: str, exercises, options, batch: Batch,
                     on_report: Callable[[Report], None],
                     seeds: Mapping[str, int] | None = None) -> list[Report]:
    """The batch graded on the Dask cluster at `address` (or `local:N`); `seeds` as for
    `grade_here` (the seeds travel, never the key they come from)."""
    from grader import cluster

    client = cluster.connect(address)
    try:
        packed = cluster.packed_batch(batch.entries, batch.ids)
        return _in_order(cluster.grade_on_cluster(client, packed, options, exercises,
                                                  on_report, seeds=seeds), batch)
    finally:
        cluster.disconnect(client)


def _in_order(reports: list[Report], batch: Batch) -> list[Report]:
    order = {student_id: index for index, student_id in enumerate(batch.ids)}
    return sorted(reports, key=lambda r: order.get(r.id or "", 0))


def emit_batch(reports: Sequence[Report], reporters: Mapping, args,
               settings: ReportSettings, emit: Callable[[str], None]) -> None:
    """The batch's reports in the chosen format (a Canvas roster's strays said on stderr)."""
    from grader.reporters.lms import not_in_roster

    if args.format == "canvas":
        column = args.roster_column or "SIS User ID"
        missing = not_in_roster(reports, settings.roster, column)
        if missing:
            print(f"warning: not in the roster's {column!r} column, so not in the gradebook: "
                  + ", ".join(missing), file=sys.stderr)
    emit(reporters[args.format](reports, settings))
