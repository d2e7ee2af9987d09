"""Jobs in the sandbox, from the grader's side: queued, running, and what came back.

A running worker's result channel is read here: length-prefixed frames, each decoded by
`grader.protocol.decode_frame`; anything malformed, oversized or too much is tampering
(`Outcome.bad_channel`), never a crash of the grader. Its output is kept head and tail.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

from grader.protocol import (HEADER, MAX_NOTE_FRAME_BYTES, MAX_NOTE_FRAMES, MAX_RESULT_BYTES,
                             PROBE_PREFIX, DoneFrame, Frame, Job, Limits, LoadedFrame,
                             ProbeFrame, decode_frame)
from grader.sandbox.processes import cpu_wait, kill_group
from grader.sandbox.zygote import SubZygote, Zygote

#: The exit of a job whose worker killed its zygote (it ran alone when the zygote died).
KILLED_ZYGOTE = "it killed the grader's sandbox process"
#: The exit of the jobs left when no new zygote can be had (the nursery is gone too).
SANDBOX_GONE = "the grader's sandbox process is gone"
#: The exit of a notebook's exercise whose notebook's process ended before it was done.
NOTEBOOK_GONE = "the process that ran your notebook ended"
#: A time limit is on the time a worker could run: the time it waited for a CPU others
#: held (a busy machine) is given back, up to this many times the limit, so that a verdict
#: does not depend on the load; past that the worker is stopped whatever it waited.
MOST_GIVEN_BACK = 2.0


@dataclass
class Outcome:
    """What came back from one worker: decoded frames, captured output, how it ended."""

    job: Job
    frames: list[Frame] = field(default_factory=list)
    output: str = ""
    output_bytes: int = 0
    exit: str = ""               # "" for a clean exit, else a description (signal, exit code)
    timed_out: bool = False
    bad_channel: str = ""        # set when the result channel carried something malformed
    killed_sandbox: bool = False  # its worker killed the zygote (whatever it sent before)
    seconds: float = 0.0
    started: bool = True         # False: a notebook's exercise its notebook never started

    @property
    def finished(self) -> bool:
        return any(isinstance(f, DoneFrame) for f in self.frames)


@dataclass(eq=False)  # found in the queue by identity
class Queued:
    """A job waiting for a worker."""

    job: Job
    limits: Limits
    tries: int = 0                      # how many zygotes died while it was running before
    #: A notebook's exercises: started, once the notebook has run, from the state it built.
    children: list[Queued] = field(default_factory=list)
    family: Running | None = None       # the notebook's worker that starts this job


class Running:
    """A job's worker, from its start until its outcome is settled."""

    def __init__(self, entry: Queued, job: Job, pid: int, result_r: int,
                 output_r: int, spawner: Zygote):
        limits = entry.limits
        self.entry = entry        # as it was queued
        self.outcome = Outcome(job)
        self.tries = entry.tries
        self.pid = pid
        self.spawner = spawner    # the zygote that forked it (and tells its exit)
        self.family = entry.family
        self.children = entry.children   # a notebook's exercises, until it has run
        self.is_notebook = bool(entry.children)
        self.sub: SubZygote | None = None   # a notebook's worker, as the zygote of its exercises
        self.serving = False      # a notebook that has run: it only forks its exercises now
        self.ended = False        # a notebook the grader ended once its exercises were done
        self.result_r = result_r
        self.output_r = output_r
        self.result_buf = bytearray()
        self.result_total = 0
        self.head = bytearray()
        self.tail = bytearray()
        self.keep = limits.output_kb * 1024
        self.started = time.monotonic()
        self.deadline = self.started + limits.timeout
        self.waited = cpu_wait(pid)    # for a spawned interpreter: before this job too
        self.given_back = 0.0
        self.open_fds = {result_r, output_r}
        self.exit_seen_at: float | None = None

    @property
    def root(self) -> Running:
        """The worker this one stands or falls with: its notebook's, or itself."""
        return self.family or self

    def out_of_time(self, now: float) -> bool:
        """Whether it is past its deadline in time it could have run: the time it spent
        waiting for a CPU since it was last looked at moves the deadline (up to
        MOST_GIVEN_BACK x its limit in all); a sleeping or blocked worker waits for no CPU."""
        if now < self.deadline:
            return False
        waited = cpu_wait(self.pid)
        if waited is None or self.waited is None:
            return True
        more, self.waited = waited - self.waited, waited
        room = MOST_GIVEN_BACK * self.entry.limits.timeout - self.given_back
        more = min(more, room)
        if more < 0.01:
            return True
        self.given_back += more
        self.deadline += more
        return now >= self.deadline

    def take_output(self, data: bytes) -> None:
        self.outcome.output_bytes += len(data)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail = (self.tail + data)[-(self.keep // 4):]

    def take_result(self, data: bytes) -> None:
        self.result_total += len(data)
        if self.result_total > MAX_RESULT_BYTES:
            self.outcome.bad_channel = "the result channel carried too much data"
            return
        self.result_buf += data
        while len(self.result_buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.result_buf)
            if len(self.result_buf) < HEADER.size + size:
                break
            payload = bytes(self.result_buf[HEADER.size:HEADER.size + size])
            del self.result_buf[:HEADER.size + size]
            if size > MAX_NOTE_FRAME_BYTES and not payload.startswith(PROBE_PREFIX):
                self.outcome.bad_channel = "the result channel carried an oversized frame"
                continue
            notes = sum(not isinstance(f, ProbeFrame) for f in self.outcome.frames)
            if notes > MAX_NOTE_FRAMES:
                self.outcome.bad_channel = "the result channel carried too many frames"
                continue
            try:  # MalformedFrame (a ValueError) says why; the student is told it is tampering
                frame = decode_frame(json.loads(payload))
            except (ValueError, RecursionError):
                self.outcome.bad_channel = "the result channel carried a malformed frame"
                continue
            self.outcome.frames.append(frame)

    def has_run(self) -> bool:
        """Whether a notebook's top-level code has run (its exercises may start)."""
        return any(isinstance(f, LoadedFrame) and f.load_error is None
                   for f in self.outcome.frames)

    def kill(self) -> None:
        if isinstance(self.spawner, SubZygote):
            self.spawner.kill_job(self.pid)
        else:
            kill_group(self.pid)

    def finish(self) -> Outcome:
        skipped = self.outcome.output_bytes - len(self.head) - len(self.tail)
        text = self.head.decode("utf-8", "replace")
        if skipped > 0:
            text += f"\n[... {skipped} more bytes of output not shown ...]\n"
        if self.tail:
            text += self.tail.decode("utf-8", "replace")
        self.outcome.output = text
        self.outcome.seconds = time.monotonic() - self.started
        return self.outcome


def not_started(entry: Queued, why: str) -> Outcome:
    """The outcome of a notebook's exercise that never ran: its notebook failed first."""
    return Outcome(replace(entry.job, limits=entry.limits), exit=why, started=False)


JobSpec = tuple  # (job, limits) or, for a notebook, (job, limits, [(job, limits), ...])
