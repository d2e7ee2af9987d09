"""`python -m grader PATH --watch`: re-grade the exercise a student just saved.

Like `rustlings watch`: the paths are polled (modification time and size of
every .py and .ipynb file, about twice a second; no extra dependency), and
when a file changes, the exercises it holds are graded again and their
feedback is shown, with the overall progress below. Ctrl-C ends it (exit 0).

The grader (its zygote and the reference results) stays warm between saves,
so a re-grade takes about as long as the exercise's own checks.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, TextIO

from grader.model import ExerciseResult, Report
from grader import i18n
from grader.reporters.terminal import COLORS, MARKS, _paint, render_exercise

if TYPE_CHECKING:
    import pluggy

    from grader.grading import Grader
    from grader.reporters import ReportSettings

POLL_SECONDS = 0.5
EXIT_SECONDS = 10.0     # after Ctrl-C, the most the way out may take
SETTLE_SECONDS = 0.1     # an editor may write a file in several steps: wait until it is still
CLEAR = "\033[H\033[2J"


def snapshot(paths: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file that may belong to the submission, by real path."""
    found: dict[str, tuple[int, int]] = {}
    for path in paths:
        try:
            if path.is_dir():
                candidates = [p for p in path.iterdir() if p.suffix in (".py", ".ipynb")
                              and not p.name.startswith(".")]
            else:
                candidates = [path]
        except OSError:
            continue
        for candidate in candidates:
            try:
                info = candidate.stat()
            except OSError:
                continue
            found[os.path.realpath(candidate)] = (info.st_mtime_ns, info.st_size)
    return found


def _number(value: float) -> str:
    return f"{value:g}"


class Watcher:
    """Grades `paths` once, then again for each change; keeps the latest result per exercise."""

    def __init__(self, pm: pluggy.PluginManager, grader: Grader, paths: Sequence[Path],
                 settings: ReportSettings, out: TextIO | None = None,
                 interval: float = POLL_SECONDS):
        self.pm = pm
        self.grader = grader
        self.paths = list(paths)
        self.settings = settings
        self.out = out or sys.stdout
        self.interval = interval
        self.labels = i18n.labels("terminal", settings.lang)
        self.texts = i18n.labels("watch", settings.lang)
        self.results: dict[str, ExerciseResult] = {}
        self.sources: dict[str, str | None] = {}
        self.files: dict[str, tuple[int, int]] = {}
        self.clear = self.out.isatty() if hasattr(self.out, "isatty") else False

    # -- grading -------------------------------------------------------------
    def _grade(self, names: set[str] | None) -> tuple[Report, list[str]]:
        """Grade the submission as it is now, only the named exercises (None: all)."""
        submission = self.pm.hook.grader_load_submission(paths=self.paths, id="watch")
        everything = self.grader.exercises
        chosen = [e for e in everything if names is None or e.name in names]
        for exercise in everything:
            source = self.grader.source_for(submission, exercise)
            self.sources[exercise.name] = os.path.realpath(source.path) if source else None
        report = self.grader.grade(submission, only=[e.name for e in chosen])
        for result in report.exercises:
            self.results[result.name] = result
        return report, [e.name for e in chosen]

    def affected(self, changed: set[str]) -> set[str] | None:
        """The exercises held by a changed file (before or after the change); None: all."""
        submission = self.pm.hook.grader_load_submission(paths=self.paths, id="watch")
        names = set()
        for exercise in self.grader.exercises:
            source = self.grader.source_for(submission, exercise)
            now = os.path.realpath(source.path) if source else None
            before = self.sources.get(exercise.name)
            if now in changed or before in changed or now != before:
                names.add(exercise.name)
        return names or None   # a helper file changed: it may be imported anywhere

    # -- showing -------------------------------------------------------------
    def _footer(self) -> list[str]:
        results = [self.results[e.name] for e in self.grader.exercises if e.name in self.results]
        score = round(sum(r.score for r in results), 6)
        max_score = round(sum(r.max_score for r in results), 6)
        done = sum(r.full_marks for r in results)
        todo = next((r for r in results if not r.full_marks), None)
        color = self.settings.color
        lines = ["", _paint(self.texts["progress"].format(
            score=_number(score), max_score=_number(max_score), done=done, count=len(results)),
            "1", color)]
        lines.append(self.labels["all_done"] if todo is None
                     else self.labels["next"].format(name=todo.name))
        shown = " ".join(str(p) for p in self.paths)
        lines.append(_paint(self.texts["watching"].format(paths=shown), "2", color))
        return lines

    def view(self, report: Report, names: list[str], what: str, first: bool) -> str:
        color = self.settings.color
        lines = [self.texts["saved"].format(time=time.strftime("%H:%M:%S"), what=what), ""]
        lines.extend(_paint(f"! {note}", "33", color) for note in report.notes)
        shown = [r for r in report.exercises if r.name in names]
        if first and len(shown) > 1:
            # At the start: one line per exercise, and the feedback of the next one to do.
            todo = next((r for r in shown if not r.full_marks), None)
            for result in shown:
                if result is todo:
                    lines.extend(render_exercise(result, self.labels, color))
                else:
                    status = "passed" if result.full_marks else "failed"
                    score = f"{_number(result.score)}/{_number(result.max_score)}"
                    head = f"{result.name}  {result.title}"
                    lines.append(_paint(f"{MARKS[status]} {head:<62} {score:>7}",
                                        COLORS[status], color))
        else:
            for result in shown:
                lines.extend(render_exercise(result, self.labels, color))
        lines.extend(self._footer())
        return "\n".join(lines)

    def _show(self, text: str) -> None:
        if self.clear:
            self.out.write(CLEAR)
        self.out.write(text + "\n")
        self.out.flush()

    # -- the loop ------------------------------------------------------------
    def start(self) -> str:
        self.files = snapshot(self.paths)
        report, names = self._grade(None)
        return self.view(report, names, " ".join(str(p) for p in self.paths), first=True)

    def changes(self) -> set[str]:
        """The files changed since the last look (waiting until they are still)."""
        current = snapshot(self.paths)
        if current == self.files:
            return set()
        for _ in range(20):
            time.sleep(SETTLE_SECONDS)
            again = snapshot(self.paths)
            if again == current:
                break
            current = again
        changed = {p for p in current.keys() | self.files.keys()
                   if current.get(p) != self.files.get(p)}
        self.files = current
        return changed

    def poll(self) -> str | None:
        """One look at the files: the new view when something changed, else None."""
        changed = self.changes()
        if not changed:
            return None
        names = self.affected(changed)
        what = ", ".join(sorted(Path(p).name for p in changed))
        self.out.write(self.texts["grading"].format(what=what) + "\n")
        self.out.flush()
        report, graded = self._grade(names)
        return self.view(report, graded, what, first=False)

    def run(self) -> int:
        try:
            self._show(self.start())
            while True:
                time.sleep(self.interval)
                try:
                    text = self.poll()
                except KeyboardInterrupt:
                    raise
                except Exception:  # noqa: BLE001 - keep watching; the next save may fix it
                    traceback.print_exc(file=sys.stderr)
                    continue
                if text is not None:
                    self._show(text)
        except KeyboardInterrupt:
            self.out.write("\n" + self.texts["bye"] + "\n")
            self.out.flush()
            return 0


def _exit_within(seconds: float) -> None:
    """Ctrl-C ends the watch: the sandbox is closed on the way out, and should anything
    there be slow to end (a busy machine), the process exits anyway after `seconds`."""
    def stop() -> None:
        time.sleep(seconds)
        os._exit(0)

    threading.Thread(target=stop, name="grader-exit", daemon=True).start()


def watch(pm: pluggy.PluginManager, grader: Grader, paths: Sequence[Path],
          settings: ReportSettings) -> int:
    """Run the watch loop until Ctrl-C; returns the exit status (0)."""
    # Ctrl-C is the only way out: started in the background of a script (`... &`), a
    # process inherits SIGINT ignored, and Python then leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = Watcher(pm, grader, paths, settings).run()
    _exit_within(EXIT_SECONDS)
    return code
