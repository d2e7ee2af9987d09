"""Hint levels that a student climbs one at a time: a nudge, an approach, near-code.

An exercise's levels are the keys `hint.1`, `hint.2`, ... of its catalogue. What a
failing exercise shows depends on `--hints`:

* without it, level 1 ("Hint 1/3: ...");
* `--hints` (mode "next"): the level after the last one this student was shown, one more
  per run of the grader, up to the last. The level reached is kept per submission folder
  (its absolute path) and exercise in a small JSON file, `GRADER_HINTS_FILE` or
  `$XDG_CACHE_HOME/torchkit/hints.json` (`~/.cache/torchkit/hints.json`). Level 1 is what
  a run without `--hints` shows, so the first `--hints` shows level 2;
* `--hints all`: every level, one per line.

A process climbs at most once per exercise and folder, however often it grades them
(`--watch` re-grades on every save; `--only FILE` grades the file and its folder), and
keeps only the levels of the exercises its report shows (`remember`, from the CLI).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from grader import i18n

if TYPE_CHECKING:
    from grader.exercise import Exercise

HINTS_FILE_ENV = "GRADER_HINTS_FILE"
MODES = ("next", "all")
_LABELLED = re.compile(r"\S+ \d+/\d+: ")

_lock = threading.Lock()
#: {(state file, folder, exercise): the level shown}: this process's climbs (one each).
_shown: dict[tuple[str, str, str], int] = {}


def state_file() -> Path:
    """Where the levels reached are kept."""
    named = os.environ.get(HINTS_FILE_ENV)
    if named:
        return Path(named)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "torchkit" / "hints.json"


def mode_of(option: Any) -> str:
    """The `--hints` option as a mode: "first" (no flag), "next" or "all" (`True`, the
    old boolean option, showed every level)."""
    if option is True:
        return "all"
    return option if option in MODES else "first"


def names_its_level(hint: str) -> bool:
    """Whether a hint starts with its own label ("Hint 2/3: "), so that a report need not
    put one of its own before it."""
    return bool(_LABELLED.match(hint))


def labelled(hint: str, label: str) -> str:
    """`hint` with `label` before it, unless it names its own level ("Hint 2/3: ...")."""
    return hint if names_its_level(hint) else f"{label}: {hint}"


def hint_text(exercise: Exercise, lang: str, option: Any, *, failed: bool,
              folder: str | Path | None) -> str:
    """The hint a report shows for `exercise` (nothing when it did not fail)."""
    if not failed:
        return ""
    levels = exercise.hint_levels(lang)
    if len(levels) <= 1:
        return levels[0] if levels else ""
    mode = mode_of(option)
    if mode == "all":
        shown = list(range(1, len(levels) + 1))
    elif mode == "next" and folder is not None:
        shown = [climb(folder, exercise.name, len(levels))]
    else:
        shown = [1]
    label = i18n.labels("hints", lang)["label"]
    return "\n".join(label.format(level=level, count=len(levels)) + levels[level - 1]
                     for level in shown)


def climb(folder: str | Path, exercise: str, count: int) -> int:
    """The next level (1-based, at most `count`) for this folder's exercise. It is kept
    by `remember`, once the report that shows it is out."""
    path = state_file()
    where = str(Path(folder).resolve())
    key = (str(path), where, exercise)
    with _lock:
        if key not in _shown:
            reached = _read(path).get(where, {}).get(exercise)
            _shown[key] = min((reached if _is_level(reached) else 1) + 1, count)
        return _shown[key]


def remember(exercises: Iterable[str]) -> None:
    """Keep the levels this process climbed to for `exercises` (those its report showed:
    `--only` grades the whole course but shows a part of it)."""
    names = set(exercises)
    with _lock:
        by_file: dict[str, list[tuple[str, str, int]]] = {}
        for (path, where, exercise), level in _shown.items():
            if exercise in names:
                by_file.setdefault(path, []).append((where, exercise, level))
        for path, climbed in by_file.items():
            state = _read(Path(path))
            for where, exercise, level in climbed:
                reached = state.setdefault(where, {}).get(exercise)
                state[where][exercise] = max(level, reached if _is_level(reached) else 0)
            _write(Path(path), state)


def _is_level(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _read(path: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    folders = data.get("folders") if isinstance(data, dict) else None
    if not isinstance(folders, dict):
        return {}
    return {folder: dict(levels) for folder, levels in folders.items()
            if isinstance(levels, dict)}


def _write(path: Path, state: dict[str, dict[str, int]]) -> None:
    """Replace the file at once (a reader never sees half of it); a cache that cannot be
    written costs only the memory of the levels, never the report."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".hints-", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"version": 1, "folders": state}, out, ensure_ascii=False, indent=1)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
