"""The spawn backend: every job in a fresh interpreter, on Linux, macOS and Windows.

`SpawnSandbox` has the fork `Sandbox`'s interface (`run(jobs)` yields `Outcome`s,
`confinement`, `close`), so the scheduler does not know which one it has. Each job runs
in its own `python -m grader.spawn_worker`, taken warm from a `Pool` (torch imported);
the job goes in as the protocol's Job JSON on its stdin, frames come back on its stdout
(read by the same `Running.take_result` as the fork backend's), its prints on stderr.

Limits: the whole process tree is killed at the deadline (`Tree`); memory is capped by
RLIMIT_DATA (Linux, as in the fork backend), a Job Object (Windows) or, where the system
has no hard cap (macOS), by watching the tree's memory and killing it past the cap.

A notebook has no state to fork from: its top-level code runs once in a worker of its own
(its output, its cell errors, its time limit), and each exercise's worker runs the
notebook's code again, quietly and under the notebook's time limit, before its probes.
"""

from __future__ import annotations

import faulthandler
import json
import queue
import sys
import time
from collections import deque
from dataclasses import replace
from typing import Iterator, Mapping

from grader import confine
from grader.exercise import Exercise
from grader.protocol import Confinement, Job
from grader.sandbox.exercise_spec import spec_of
from grader.sandbox.pool import Interpreter, Pool
from grader.sandbox.running import (NOTEBOOK_GONE, SANDBOX_GONE, JobSpec, Outcome, Queued,
                                    Running, not_started)

#: What the report says of a machine where the workers confine nothing (macOS, Windows).
UNCONFINED = {"filesystem": "none", "network": "open", "pids": "open", "landlock_abi": "0"}
#: How often the grader looks at each worker's process tree: where it watches the memory
#: (no RLIMIT_DATA), and on Linux only for strays (the worker, their subreaper, kills
#: them itself; a group's are killed with it).
WATCH_EVERY = 1.0 if sys.platform.startswith("linux") else 0.25
#: How long the grader reads, at most, before it looks at the deadlines again.
READ_FOR = 0.05


class SpawnRunning(Running):
    """A job in its spawned interpreter. A notebook's exercise first runs the notebook's
    code again (the notebook's time limit), then its probes (its own, from its first
    frame on)."""

    def __init__(self, entry: Queued, job: Job, interpreter: Interpreter,
                 notebook: Job | None = None):
        super().__init__(entry, job, interpreter.pid, "result", "output", None)
        self.interpreter = interpreter
        self.rerunning = notebook is not None
        if notebook is not None:
            self.deadline = self.started + notebook.limits.timeout
        self.memory_cap_mb = float("inf")   # where the grader watches the tree's memory
        self.watched_at = 0.0

    def kill(self) -> None:
        self.interpreter.tree.kill()

    def feed(self, channel: str, data: bytes) -> None:
        if channel == "output":
            self.take_output(data)
            return
        self.take_result(data)
        if self.rerunning and self.outcome.frames:   # its probes start: their own limit
            self.rerunning = False
            self.deadline = time.monotonic() + self.entry.limits.timeout
        if self.outcome.bad_channel:
            self.kill()


class SpawnSandbox:
    """Runs jobs in fresh spawned interpreters, `jobs` at a time (see the module)."""

    backend = "spawn"

    def __init__(self, exercises: Mapping[str, Exercise], jobs: int = 1,
                 hidden: tuple[str, ...] = ()):
        self.jobs = max(1, jobs)
        self.exercises = exercises
        #: What each worker confines (Linux: what the fork backend's do, applied by the
        #: worker to itself); what the report says.
        self.confinement = confine.available() if sys.platform.startswith("linux") \
            else dict(UNCONFINED)
        self._confinement = Confinement(self.confinement, tuple(hidden))
        self._specs: dict[str, dict] = {}
        self.pool = Pool(self.jobs)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> SpawnSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spec(self, name: str) -> dict:
        if name not in self._specs:
            self._specs[name] = spec_of(self.exercises[name])
        return self._specs[name]

    def _envelope(self, job: Job, notebook: Job | None) -> bytes:
        names = [] if job.mode == "notebook" else [job.exercise]
        return json.dumps({"job": job.to_json(), "exercises": [self._spec(n) for n in names],
                           "sys_path": list(sys.path),
                           "faulthandler": faulthandler.is_enabled(),
                           "notebook": None if notebook is None else notebook.to_json()
                           }).encode()

    def run(self, jobs: list[JobSpec]) -> Iterator[Outcome]:
        """Run every job; yield each outcome as soon as its worker is done. A notebook's
        exercises are yielded (started=False where the notebook did not run), then the
        notebook's own outcome."""
        pending: deque[Queued] = deque()
        for spec in jobs:
            job, limits, *children = spec
            pending.append(Queued(job, limits, children=[
                Queued(child, child_limits) for child, child_limits in
                (children[0] if children else ())]))
        running: dict[Interpreter, SpawnRunning] = {}
        #: id(a notebook's exercise, queued) -> the notebook's worker, done; and by
        #: id(that worker), how many of its exercises are not done yet.
        notebook_of: dict[int, SpawnRunning] = {}
        left: dict[int, int] = {}
        self.pool.fill(len(pending))
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    if self.pool.broken:
                        yield from self._none_can_start(pending)
                        break
                    interpreter = self.pool.take(len(pending))
                    if interpreter is None:
                        break
                    entry = pending.popleft()
                    notebook = notebook_of.get(id(entry))
                    state = self._start(entry, interpreter,
                                        None if notebook is None else notebook.outcome.job)
                    if state is None:                 # gone before it read its job: again
                        pending.appendleft(entry)
                        continue
                    running[interpreter] = state
                if not (pending or running):
                    break
                now = time.monotonic()
                wait = min((s.deadline for s in running.values()), default=now + 0.1) - now
                self._read(max(0.0, min(wait, 0.25)), running)
                now = time.monotonic()
                for interpreter, state in list(running.items()):
                    self._watch(state, now)
                    if state.exit_seen_at is not None and (
                            not state.open_fds or now - state.exit_seen_at > 1.0):
                        del running[interpreter]
                        yield from self._done(state, pending, notebook_of, left)
        finally:
            for interpreter in running:
                interpreter.end()
        self.pool.fill()   # warm for the next call (--watch); killed at once by a close

    def _start(self, entry: Queued, interpreter: Interpreter,
               notebook: Job | None) -> SpawnRunning | None:
        job = replace(entry.job, limits=entry.limits, confinement=self._confinement)
        if not interpreter.hand(self._envelope(job, notebook)):
            self.pool.note(interpreter, "result", b"")
            return None
        state = SpawnRunning(entry, job, interpreter, notebook)
        interpreter.serving = state
        if not sys.platform.startswith("linux"):   # no RLIMIT_DATA to rely on
            state.memory_cap_mb = interpreter.tree.memory_mb() + entry.limits.memory_mb
            interpreter.tree.limit_memory(entry.limits.memory_mb)
        return state

    def _read(self, timeout: float, running: dict[Interpreter, SpawnRunning]) -> None:
        """Take what the interpreters said (waiting up to `timeout` for the first of it),
        for a moment at most: a worker that prints without end must not keep the grader
        from its deadlines."""
        try:
            event = self.pool.events.get(timeout=timeout)
        except queue.Empty:
            return
        enough = time.monotonic() + READ_FOR
        while True:
            interpreter, channel, data = event
            state = interpreter.serving
            if state is None:
                self.pool.note(interpreter, channel, data)
            elif running.get(interpreter) is state:
                if data:
                    state.feed(channel, data)
                else:
                    state.open_fds.discard(channel)
            if time.monotonic() > enough:
                return
            try:
                event = self.pool.events.get_nowait()
            except queue.Empty:
                return

    def _watch(self, state: SpawnRunning, now: float) -> None:
        """Its exit, its deadline, its tree (strays, memory)."""
        interpreter = state.interpreter
        if state.exit_seen_at is None:
            code = interpreter.proc.poll()
            if code is not None:
                state.exit_seen_at = now
                if not state.outcome.exit:
                    state.outcome.exit = describe_returncode(code)
                return
        if now - state.watched_at >= WATCH_EVERY:
            state.watched_at = now
            if interpreter.tree.memory_mb() > state.memory_cap_mb:
                state.outcome.exit = f"killed past its memory cap ({state.entry.limits.memory_mb}" \
                                     " MB more than the grader's own)"
                state.kill()
        if state.exit_seen_at is None and not state.outcome.timed_out and state.out_of_time(now):
            state.outcome.timed_out = True
            state.kill()
            state.deadline = now + 5.0
        elif state.exit_seen_at is None and state.outcome.timed_out and now >= state.deadline:
            state.exit_seen_at = now    # killed, and still not reaped: settle it anyway
            state.outcome.exit = state.outcome.exit or "SIGKILL"

    def _done(self, state: SpawnRunning, pending: deque[Queued],
              notebook_of: dict[int, SpawnRunning], left: dict[int, int]) -> Iterator[Outcome]:
        state.interpreter.end()   # what it started dies with it (and its pipes close)
        outcome = state.finish()
        entry = state.entry
        if entry.children:   # a notebook: its exercises run now, if its code did run
            if state.has_run() and not outcome.bad_channel:
                left[id(state)] = len(entry.children)
                for child in reversed(entry.children):
                    notebook_of[id(child)] = state
                    pending.appendleft(child)
                return       # its own outcome comes after theirs, as in the fork backend
            for child in entry.children:
                yield not_started(child, NOTEBOOK_GONE)
            yield outcome
            return
        yield outcome
        notebook = notebook_of.pop(id(entry), None)
        if notebook is not None:
            left[id(notebook)] -= 1
            if left[id(notebook)] == 0:
                del left[id(notebook)]
                yield notebook.outcome

    def _none_can_start(self, pending: deque[Queued]) -> Iterator[Outcome]:
        """No interpreter starts: every job left ends, saying why (once, for the staff)."""
        why = self.pool.why()
        print(f"grader: the spawn backend's workers do not start{':' if why else '.'}\n{why}",
              file=sys.stderr)
        while pending:
            entry = pending.popleft()
            for child in entry.children:
                yield not_started(child, SANDBOX_GONE)
            yield Outcome(replace(entry.job, limits=entry.limits), exit=SANDBOX_GONE)


def describe_returncode(code: int) -> str:
    """How a worker ended, as the fork backend says it: "" for 0, a signal's name, or
    "exit code N"."""
    if code == 0:
        return ""
    if code < 0:
        import signal
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


__all__ = ["SpawnSandbox", "describe_returncode"]
