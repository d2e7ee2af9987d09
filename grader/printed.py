"""What a submission printed, shown once, with the exercise it belongs to.

Each exercise's worker sends what the exercise's own functions printed (`Outcome.output`).
What runs once for several exercises prints once too: a notebook's top-level code (its
worker marks where each cell's output starts, `protocol.CELL_MARK`), or a module that
holds several exercises, imported by each one's worker. Here, in the grader's process,
that output goes to the exercises it belongs to, once.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

from grader.loaders import Source, top_level_names
from grader.model import ExerciseResult
from grader.protocol import CELL_MARK
from grader.sandbox import Outcome


def notebook_output_once(results: list[ExerciseResult], sources: dict[str, Source | None],
                          notebook_runs: dict[str, Outcome],
                          names: Mapping[str, Sequence[str]] | None = None
                          ) -> list[ExerciseResult]:
    """What a submission printed outside its exercises' functions, shown once, with the
    exercise it belongs to.

    A notebook's top-level code runs once: what each cell printed goes with the exercise
    whose names the cell defines, or, for a cell that defines none (a setup cell, a demo),
    with the exercise of the nearest cell above that does (below, before the first one),
    under a line that names the cell, after what the exercise's functions printed when its
    checks called them; a cell of an exercise left out of the report (--only) is not
    shown. `names` gives each exercise's names ({exercise: names}); without it, or
    when the output does not say which cell printed what, all of it goes with the first
    exercise of the notebook that did not get full marks (else its first). A module that
    holds several exercises is run once for each: what it prints on import, the same in
    each, is kept once, with the first of them that did not get full marks."""
    results = list(results)
    for path, run in notebook_runs.items():
        mine = [i for i, r in enumerate(results)
                if sources.get(r.name) is not None and sources[r.name].path == path]
        if not mine or not run.output:
            continue
        source = sources[results[mine[0]].name]
        assert source is not None
        owners = _cell_owners(source, names) if names else {}
        index = {results[i].name: i for i in mine}
        printed: dict[int, list[str]] = {i: [] for i in mine}
        for cell, text in _cell_chunks(run.output):
            owner = owners.get(cell) if cell is not None else None
            if owner is None:   # not told which cell printed it: the first to do
                printed[_first_to_do(results, mine)].append(text)
                continue
            graded = [index[name] for name in owner if name in index]
            if graded:  # else another exercise's cell, not in this report
                at = _first_to_do(results, graded)
                printed[at].append(f"{Path(path).name} [cell {cell}]:\n{text}")
        for i, parts in printed.items():
            if parts:  # after what its functions printed: each cell's output under its name
                own = results[i].output
                own += "\n" if own and not own.endswith("\n") else ""
                results[i] = replace(results[i], output=own + "".join(parts))
    return _import_output_once(results, sources)


_CELL_MARK = re.compile(re.escape(CELL_MARK).replace(re.escape("{cell}"), r"(\d+)"))


def _cell_chunks(output: str) -> list[tuple[int | None, str]]:
    """A notebook's output cut at its worker's cell marks: (cell, what it printed), in
    order; None for what came before any mark. A mark the output's cut (its limit) broke
    in two leaves its NUL bytes, which go."""
    parts = _CELL_MARK.split(output)
    chunks: list[tuple[int | None, str]] = [(None, parts[0])]
    chunks += [(int(parts[k]), parts[k + 1]) for k in range(1, len(parts) - 1, 2)]
    found = []
    for cell, text in chunks:
        text = text.replace("\x00", "")
        if text:
            found.append((cell, text if text.endswith("\n") else text + "\n"))
    return found


def _cell_owners(source: Source, names: Mapping[str, Sequence[str]]
                 ) -> dict[int, tuple[str, ...]]:
    """Each code cell's exercises: those whose names it defines; for a cell that defines
    none, those of the nearest cell above that does (below, for the cells before it)."""
    owners: dict[int, tuple[str, ...]] = {}
    current: tuple[str, ...] = ()
    before: list[int] = []
    for number, code in source.cells:
        defined = top_level_names(code)
        own = tuple(name for name, its in names.items() if defined & set(its))
        current = own or current
        if not current:
            before.append(number)
            continue
        owners.update({cell: current for cell in before})
        before = []
        owners[number] = current
    return owners


def _first_to_do(results: Sequence[ExerciseResult], among: Sequence[int]) -> int:
    """The first of `among` (indexes into results) without full marks, else the first."""
    return next((i for i in among if not results[i].full_marks), among[0])


def _import_output_once(results: list[ExerciseResult], sources: dict[str, Source | None]
                        ) -> list[ExerciseResult]:
    """A module of several exercises prints the same on import in each one's worker: the
    lines all their outputs start with are kept once, with the first of them to do."""
    by_file: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        source = sources.get(result.name)
        if source is not None and source.kind == "module" and result.output:
            by_file.setdefault(source.path, []).append(i)
    for mine in by_file.values():
        if len(mine) < 2:
            continue
        common = os.path.commonprefix([results[i].output for i in mine])
        cut = common.rfind("\n") + 1
        if not cut:
            continue
        keep = _first_to_do(results, mine)
        for i in mine:
            output = results[i].output
            results[i] = replace(results[i], output=(output if i == keep else output[cut:]))
    return results
