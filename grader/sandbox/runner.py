"""The sandbox: runs jobs in workers forked from one zygote, a few at a time.

It restarts a zygote a worker killed (and reruns, alone, the jobs that died with it),
serves a notebook's exercises from the notebook's own worker, and kills every worker at
its deadline: whatever a submission does, `Sandbox.run` ends.
"""

from __future__ import annotations

import os
import selectors
import socket
import tempfile
import time
from collections import deque
from dataclasses import replace
from typing import Callable, Iterator

from grader import confine
from grader.protocol import Confinement, Job
from grader.sandbox.processes import kill_group
from grader.sandbox.running import (KILLED_ZYGOTE, NOTEBOOK_GONE, SANDBOX_GONE, JobSpec,
                                    Outcome, Queued, Running, not_started)
from grader.sandbox.zygote import NotebookGone, SubZygote, Zygote, ZygoteGone


class Sandbox:
    """Runs jobs in workers forked from one zygote, `jobs` at a time.

    A notebook is one job with children: its worker runs the notebook's top-level code
    once (under the notebook's own limits), then becomes the zygote of its children
    (`SubZygote`), one worker per exercise forked from the state the notebook built,
    each under its own limits. Its worker is ended when the last of them is done.
    """

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[Job, int], None],
                 jobs: int = 1, hidden: tuple[str, ...] = ()):
        self.jobs = max(1, jobs)
        #: What confinement holds on this machine (the report says it); every worker
        #: applies all of it or runs nothing. `hidden`: paths no student worker may read.
        self.confinement = confine.available()
        self._confine_job = Confinement(self.confinement, tuple(hidden))
        # A notebook's exercise worker inherits its notebook's confinement (network, reads)
        # and adds a Landlock layer of its own: it writes only in its own folder, and it
        # cannot signal the notebook's process (nor its other exercises' workers).
        self._confine_exercise = Confinement({"filesystem": self.confinement["filesystem"]})
        self.zygote = Zygote(warm_up, worker_main)

    def close(self) -> None:
        self.zygote.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[JobSpec]) -> Iterator[Outcome]:
        """Run every job; yield each outcome as soon as its worker is done.

        A job is `(job, limits)`, or `(job, limits, children)` for a notebook: then each
        child's outcome is yielded (with `started=False` if the notebook's worker ended
        before it could start it), and the notebook's own outcome after them.

        When the zygote dies (a worker killed it), the jobs that were running are run
        again, one at a time (a notebook with its exercises), by a new zygote: a job that
        was running alone when a zygote died is the one that killed it, and ends with
        that as its exit.
        """
        pending: deque[Queued] = deque()
        for spec in jobs:
            job, limits, *children = spec
            pending.append(Queued(job, limits, children=[
                Queued(child, child_limits) for child, child_limits in
                (children[0] if children else ())]))
        running: list[Running] = []
        by_fd: dict[int, Running] = {}
        subs: dict[int, Running] = {}     # a notebook's zygote socket -> its worker
        selector = selectors.DefaultSelector()
        zygote_fd = -1

        def forget(state: Running) -> None:
            for fd in list(state.open_fds):
                selector.unregister(fd)
                os.close(fd)
                del by_fd[fd]
            state.open_fds.clear()

        def close_sub(notebook: Running) -> None:
            if notebook.sub is not None:
                fd = notebook.sub.fileno()
                selector.unregister(fd)
                del subs[fd]
                notebook.sub.close()   # and its worker is killed: its exercises die with it
                notebook.sub = None

        def drop_family(notebook: Running) -> Iterator[Outcome]:
            """End a notebook's worker and settle every exercise of it not yet done."""
            close_sub(notebook)
            left = [e for e in pending if e.family is notebook]
            for entry in left:
                pending.remove(entry)
            for entry in notebook.children + left:
                yield not_started(entry, NOTEBOOK_GONE)
            notebook.children = []
            for state in [s for s in running if s.family is notebook]:
                running.remove(state)
                forget(state)
                if state.exit_seen_at is None:
                    state.outcome.exit = NOTEBOOK_GONE
                yield state.finish()

        def done(state: Running) -> Iterator[Outcome]:
            running.remove(state)
            if state.is_notebook:
                yield from drop_family(state)
                if state.ended:    # killed by the grader once its exercises were done
                    state.outcome.exit = ""
            forget(state)
            yield state.finish()
            notebook = state.family
            if notebook is not None and notebook.sub is not None and not any(
                    s.family is notebook for s in running) and not any(
                    e.family is notebook for e in pending):
                notebook.ended = True      # every exercise is done: end the notebook
                close_sub(notebook)

        try:
            while pending or running:
                starting: Queued | None = None
                try:
                    if zygote_fd < 0:
                        zygote_fd = self.zygote.fileno()
                        selector.register(zygote_fd, selectors.EVENT_READ)
                    while pending and sum(not s.serving for s in running) < self.jobs:
                        entry = pending[0]
                        others = [s for s in running
                                  if entry.family is None or s.root is not entry.family]
                        if others and (entry.tries or any(s.tries for s in others)):
                            break  # a job that was running when a zygote died runs alone
                        pending.popleft()
                        notebook = entry.family
                        if notebook is not None:
                            if notebook.sub is None:
                                yield not_started(entry, NOTEBOOK_GONE)
                                continue
                            state = self._start(entry, notebook.sub, self._confine_exercise)
                            if state is None:   # the notebook's worker failed to start it
                                yield not_started(entry, NOTEBOOK_GONE)
                                yield from drop_family(notebook)
                                continue
                        else:
                            starting = entry
                            state = self._start(entry, self.zygote, self._confine_job)
                            starting = None
                            if state.sub is not None:
                                subs[state.sub.fileno()] = state
                                selector.register(state.sub.fileno(), selectors.EVENT_READ)
                        running.append(state)
                        for fd in (state.result_r, state.output_r):
                            os.set_blocking(fd, False)
                            by_fd[fd] = state
                            selector.register(fd, selectors.EVENT_READ)
                    now = time.monotonic()
                    if any(s.family is None and s.outcome.timed_out and s.exit_seen_at is None
                           and now >= s.deadline for s in running):
                        # A worker killed seconds ago and the zygote never said it ended:
                        # the zygote is stopped or wedged. Replace it, as if it had died.
                        raise ZygoteGone("the zygote stopped answering")
                    wait = min((s.deadline for s in running), default=now + 0.1) - now
                    for key, _ in selector.select(timeout=max(0.0, min(wait, 0.5))):
                        fd = key.fd
                        if fd == zygote_fd:
                            self.zygote.poll_exits()
                            continue
                        if fd in subs:
                            notebook = subs[fd]
                            try:
                                notebook.sub.poll_exits()
                            except NotebookGone:
                                yield from drop_family(notebook)
                            continue
                        if fd not in by_fd:
                            continue  # closed by a notebook dropped in this round
                        state = by_fd[fd]
                        try:
                            data = os.read(fd, 1 << 20)
                        except BlockingIOError:
                            continue
                        except OSError:  # a notebook's socket, closed with unread data
                            data = b""
                        if data:
                            if fd == state.result_r:
                                state.take_result(data)
                                if state.outcome.bad_channel:
                                    state.kill()
                                elif state.children and not state.serving and state.has_run():
                                    # Its top-level code has run: its exercises go first
                                    # (they hold no new slot until they start).
                                    state.serving = True
                                    state.deadline = float("inf")
                                    for child in reversed(state.children):
                                        child.family = state
                                        child.tries = state.tries
                                        pending.appendleft(child)
                                    state.children = []
                            else:
                                state.take_output(data)
                            continue
                        selector.unregister(fd)
                        os.close(fd)
                        del by_fd[fd]
                        state.open_fds.discard(fd)
                except ZygoteGone:
                    if zygote_fd >= 0:
                        selector.unregister(zygote_fd)
                        zygote_fd = -1
                    yield from self._after_zygote_died(running, pending, starting, forget,
                                                       close_sub, drop_family)
                    continue
                now = time.monotonic()
                for state in list(running):
                    if state not in running:
                        continue  # settled with its notebook in this round
                    exits = state.spawner.exits
                    if state.pid in exits and state.exit_seen_at is None:
                        state.exit_seen_at = now
                        state.outcome.exit = exits.pop(state.pid)
                    if state.exit_seen_at is None and now >= state.deadline and (
                            not state.outcome.timed_out and state.out_of_time(now)
                            or state.outcome.timed_out and state.family is not None):
                        state.outcome.timed_out = True
                        state.kill()
                        state.deadline = now + 5.0  # the zygote reports the exit soon
                        if state.family is not None:  # ...unless it is the submission's own
                            state.exit_seen_at = now
                            state.outcome.exit = "SIGKILL"
                    if state.family is not None and state.exit_seen_at is None \
                            and not state.open_fds:
                        state.exit_seen_at = now  # its own zygote may never say so
                    # Done when the worker has exited and its pipes are drained (or a
                    # grandchild still holds them open a second after it exited).
                    if state.exit_seen_at is not None and (
                            not state.open_fds or now - state.exit_seen_at > 1.0):
                        yield from done(state)
        finally:
            for state in running:
                if state.family is None:
                    kill_group(state.pid)
                for fd in state.open_fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            for notebook in list(subs.values()):
                if notebook.sub is not None:
                    notebook.sub.close()
            selector.close()

    def _start(self, entry: Queued, spawner: Zygote,
               confinement: Confinement) -> Running | None:
        """Fork a worker for `entry` from `spawner`; None if a notebook's worker failed to.

        A notebook's result channel is a socket rather than a pipe: the grader sends the
        worker, through it, its end of the socket it will be the zygote on.
        """
        job = replace(entry.job, limits=entry.limits, confinement=confinement)
        sub_ours = sub_theirs = None
        if entry.children:
            result_sock, worker_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            sub_ours, sub_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            socket.send_fds(result_sock, [b"z"], [sub_theirs.fileno()])
            sub_theirs.close()
            result_r, result_w = result_sock.detach(), worker_sock.detach()
        else:
            result_r, result_w = os.pipe2(os.O_CLOEXEC)
        output_r, output_w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = spawner.spawn(job, result_w, output_w)
        except NotebookGone:
            os.close(result_r)
            os.close(output_r)
            return None
        except BaseException:
            os.close(result_r)
            os.close(output_r)
            if sub_ours is not None:
                sub_ours.close()
            raise
        finally:
            os.close(result_w)
            os.close(output_w)
        state = Running(entry, job, pid, result_r, output_r, spawner)
        if sub_ours is not None:
            state.sub = SubZygote(sub_ours, pid)
        return state

    def _after_zygote_died(self, running: list[Running], pending: deque[Queued],
                           starting: Queued | None,
                           forget: Callable[[Running], None],
                           close_sub: Callable[[Running], None],
                           drop_family: Callable[[Running], Iterator[Outcome]]
                           ) -> Iterator[Outcome]:
        """Settle the jobs of a dead zygote, then get a new one (or end every job).

        Every worker died with it, a notebook's exercises with their notebook: a notebook
        runs again, with the exercises it had not finished.
        """
        for state in [s for s in running if s.family is None]:
            unfinished: list[Queued] = []
            if state.is_notebook and state.exit_seen_at is None and not state.tries:
                unfinished = state.children + [e for e in pending if e.family is state]
                for entry in unfinished:
                    if entry in pending:
                        pending.remove(entry)
                for child in [s for s in running if s.family is state]:
                    unfinished.append(child.entry)
                    running.remove(child)
                    forget(child)
                state.children = []
                close_sub(state)
            elif state.is_notebook:
                yield from drop_family(state)
            running.remove(state)
            forget(state)
            kill_group(state.pid)  # its worker died with the zygote; what it started dies now
            if state.exit_seen_at is not None:
                yield state.finish()  # it had finished before
            elif state.tries:
                state.outcome.exit = KILLED_ZYGOTE
                state.outcome.killed_sandbox = True
                yield state.finish()
            else:
                entry = state.entry
                pending.appendleft(Queued(entry.job, entry.limits, 1, [
                    Queued(child.job, child.limits) for child in unfinished]))
        if starting is not None:
            if starting.tries:
                for child in starting.children:
                    yield not_started(child, KILLED_ZYGOTE)
                yield Outcome(replace(starting.job, limits=starting.limits),
                              exit=KILLED_ZYGOTE, killed_sandbox=True)
            else:
                pending.appendleft(Queued(starting.job, starting.limits, 1, starting.children))
        try:
            self.zygote.restart()
        except ZygoteGone:
            while pending:
                entry = pending.popleft()
                for child in entry.children:
                    yield not_started(child, SANDBOX_GONE)
                yield Outcome(replace(entry.job, limits=entry.limits), exit=SANDBOX_GONE)


def scratch_dir(root: str) -> str:
    """A private working directory for one worker."""
    return tempfile.mkdtemp(prefix="job-", dir=root)
