"""What runs inside a worker: load the submission's source, run the exercise's probes.

Everything here executes in the forked, untrusted process. It only ever
*sends* data (frames on the result pipe); verdicts are made in the grader.
Frames and the job are the dataclasses of `grader.protocol`; the grader accepts only
what `protocol.decode_frame` reads (anything else is tampering).

Loading the submission is `grader.worker_loading`'s, the guard against copying
`grader.worker_guard`'s; the warm start they fork from, `grader.worker_warmup`'s.
"""

from __future__ import annotations

import copy
import linecache
import os
import signal
import socket
import sys
import threading
import types
from typing import Any, Callable, Mapping

from grader import codec
from grader.exercise import Exercise, Skip, probe_seed
from grader.protocol import (CELL_MARK, CellFrame, DoneFrame, Frame, Job, LoadedFrame,
                             ProbeFrame, ViolationFrame, WhereFrame)
from grader.sandbox import alarm
from grader.sandbox.nursery import send_frame, zygote_loop
from grader.strip import strip_for_student
from grader.worker_guard import check_code_of, install_guard, taken_from_check_code
from grader.worker_loading import SubmittedModules, WithheldReferences, error_info, load_sources
from grader.worker_warmup import reseed

#: Set in every worker: the grader refuses to start inside a graded submission (a notebook
#: cell that grades the notebook would otherwise grade itself again, and again).
IN_WORKER_ENV = "GRADER_IN_WORKER"


class MissingName(AttributeError):
    """The submission does not define a public name the exercise needs."""


class Submitted:
    """The student's namespace as probes see it: `sub.numpy_train`, ..."""

    def __init__(self, names: Mapping[str, Any]):
        self._names = dict(names)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._names[name]
        except KeyError:
            raise MissingName(name) from None

    def has(self, name: str) -> bool:
        return name in self._names


def make_worker_main(exercises: Mapping[str, Exercise]) -> Callable[[Job, int], None]:
    """The worker's job, by its "mode": "" (load the source, run one exercise's probes),
    "notebook" (run a notebook's top-level code once, then fork a worker per exercise
    from that state) or "exercise" (one such worker: probes only)."""
    check_code = check_code_of(exercises)

    def worker_main(job: Job, result_fd: int) -> None:
        if job.mode == "notebook":
            names = list(job.exercises)
            if job.role == "student":  # the probes of the notebook's exercises, no answers
                strip_for_student(exercises, names[0], also=names[1:])
            run_notebook(job, result_fd, worker_main)
            return
        exercise = exercises[job.exercise]
        if job.role == "student":  # nothing of the grader's answers in reach of the student
            exercise = strip_for_student(exercises, exercise.name)
        if job.mode == "exercise":
            run_notebook_exercise(exercise, job, result_fd, check_code)
        else:
            run_job(exercise, job, result_fd, check_code)
    return worker_main


class _Channel:
    """Where this worker's frames go. A notebook's exercise worker, forked from the
    notebook's worker, sends on its own result pipe (the guard installed in the notebook's
    worker, inherited, follows)."""

    fd = -1
    sending = False    # a frame is half written: the timer's report waits for the next tick
    lock = threading.Lock()


def send(frame: Frame) -> None:
    _Channel.sending = True   # before the lock: the SIGALRM handler then skips its turn
    try:
        with _Channel.lock:   # (where a thread stands in for SIGALRM, it waits for it)
            send_frame(_Channel.fd, frame)
    finally:
        _Channel.sending = False


def _arm_where_timer(seconds: float, filenames: set[str]) -> None:
    """So that a timeout can say where the code was: shortly before the grader's deadline,
    and then every tenth of a second, send the student's innermost frame (the grader keeps
    the last one). Code that takes SIGALRM for itself only loses this report."""
    last: list[WhereFrame] = []

    def tell(signum: int, frame: types.FrameType | None) -> None:
        if _Channel.sending:
            return
        while frame is not None and frame.f_code.co_filename not in filenames:
            frame = frame.f_back
        where = WhereFrame()
        if frame is not None:
            name = frame.f_code.co_filename
            where = WhereFrame(name, frame.f_lineno or 0, frame.f_code.co_name,
                               linecache.getline(name, frame.f_lineno or 0).strip()[:200])
        if where not in last:
            last[:] = [where]
            send(where)

    margin = min(1.0, seconds / 3)
    if not hasattr(signal, "setitimer"):  # Windows: a thread stands in for SIGALRM
        alarm.start(max(0.01, seconds - margin), 0.1, tell)
        return
    signal.signal(signal.SIGALRM, tell)
    signal.siginterrupt(signal.SIGALRM, False)  # a system call it interrupts goes on
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds - margin), 0.1)


def _disarm_where_timer() -> None:
    if not hasattr(signal, "setitimer"):
        alarm.stop()
        return
    signal.setitimer(signal.ITIMER_REAL, 0)


def _prepare(job: Job) -> set[str]:
    """Before any of the submission runs: working folder, imports, guard. Returns the
    submission's file names (its frames in a traceback)."""
    os.environ[IN_WORKER_ENV] = "1"  # a submission that runs the grader gets a refusal
    os.chdir(job.workdir)
    for path in reversed(job.search_path):
        sys.path.insert(0, path)
    if job.role == "student" and job.forbidden:
        install_guard(job.forbidden, send)
        sys.meta_path.insert(0, WithheldReferences())
        if job.violation:  # the grader found the file to be a reference file
            send(ViolationFrame(job.violation))
    filenames = {s.path for s in job.sources}
    if job.modules:
        sys.meta_path.insert(0, SubmittedModules(job.modules, filenames))
    reseed(int(job.seed))
    return filenames


def run_job(exercise: Exercise, job: Job, result_fd: int,
            check_code: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
            ) -> None:
    _Channel.fd = result_fd
    filenames = _prepare(job)
    _arm_where_timer(float(job.limits.timeout), filenames)
    names, cell_errors, load_error = load_sources(
        job.sources, filenames, lambda number: send(CellFrame(number)))
    missing = [n for n in exercise.names if n not in names]
    send(LoadedFrame(load_error, tuple(cell_errors), tuple(missing)))
    if load_error is not None:
        send(DoneFrame())
        return
    _refuse_check_code(exercise, job, names, check_code)
    _run_probes(exercise, job, names, filenames)


def _refuse_check_code(exercise: Exercise, job: Job, names: Mapping[str, Any],
                       check_code: tuple[frozenset[str], frozenset[str]]) -> None:
    """A student's public names that are (or hold) the grader's check code: a violation."""
    if job.role != "student":
        return
    taken = taken_from_check_code([names[n] for n in exercise.names if n in names],
                                  *check_code)
    if taken:
        send(ViolationFrame(f"use {taken}"))


#: A notebook's state, as its top-level code left it; its exercise workers fork from it.
_NOTEBOOK: dict[str, Any] = {}


def run_notebook(job: Job, result_fd: int, worker_main: Callable[[Job, int], None]) -> None:
    """Run a notebook's top-level code once (its own time limit), then be the zygote of
    its exercises: the grader sends, on the result channel, the socket to serve on."""
    if not load_notebook(job, result_fd):
        return
    with socket.socket(fileno=os.dup(result_fd)) as channel:
        _message, fds, _flags, _address = socket.recv_fds(channel, 1, 1)
    if len(fds) != 1:
        return
    zygote_loop(socket.socket(fileno=fds[0]), os.getppid(), worker_main)


def load_notebook(job: Job, result_fd: int) -> bool:
    """Run a notebook's top-level code (its own time limit) and keep the state it built
    for its exercises; whether it ran (the spawn backend's workers stop here)."""
    _Channel.fd = result_fd
    filenames = _prepare(job)
    _arm_where_timer(float(job.limits.timeout), filenames)
    names, cell_errors, load_error = load_sources(job.sources, filenames, _cell_starts)
    _disarm_where_timer()
    # What it printed goes out now, once: not again from each exercise's copy of the buffer.
    _flush_streams()
    send(LoadedFrame(load_error, tuple(cell_errors)))
    if load_error is not None:
        send(DoneFrame())
        return False
    _NOTEBOOK.update(names=names, cell_errors=cell_errors, filenames=filenames)
    return True


def _cell_starts(number: int) -> None:
    """A notebook cell starts: what the cells before it printed goes out, then the mark
    that says the output after it is this cell's (the grader shows each cell's output
    with its exercise), then the frame that names the cell, should a timeout stop it."""
    _flush_streams()
    try:
        os.write(1, CELL_MARK.format(cell=number).encode())
    except OSError:  # the notebook closed its output: there is nothing to tell apart
        pass
    send(CellFrame(number))


def _flush_streams() -> None:
    for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__,
                                      sys.__stderr__)}.values():
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the notebook replaced may not flush
            pass


def run_notebook_exercise(exercise: Exercise, job: Job, result_fd: int,
                          check_code: tuple[frozenset[str], frozenset[str]] = (
                              frozenset(), frozenset())) -> None:
    """One exercise of a notebook, in a worker forked from the notebook's state."""
    _Channel.fd = result_fd
    os.chdir(job.workdir)
    if job.violation:
        send(ViolationFrame(job.violation))
    names, filenames = _NOTEBOOK["names"], _NOTEBOOK["filenames"]
    _refuse_check_code(exercise, job, names, check_code)
    _without_cuda_if_lost()
    _arm_where_timer(float(job.limits.timeout), filenames)
    missing = [n for n in exercise.names if n not in names]
    send(LoadedFrame(None, tuple(_NOTEBOOK["cell_errors"]), tuple(missing)))
    _run_probes(exercise, job, names, filenames)


def _without_cuda_if_lost() -> None:
    """CUDA cannot start again in a process forked from one that used it: when the
    notebook's top-level code used the GPU, its exercise workers run as on a machine
    without one (the GPU checks skipped, as there: they count neither for nor against)."""
    torch = sys.modules.get("torch")
    try:
        lost = bool(torch.cuda._is_in_bad_fork())
    except Exception:  # noqa: BLE001 - no torch, or no such function: nothing was lost
        return
    if lost:  # in place, so that `from torch.cuda import is_available` says so too
        torch.cuda.is_available.__code__ = (lambda: False).__code__


def _run_probes(exercise: Exercise, job: Job, names: Mapping[str, Any],
                filenames: set[str]) -> None:
    seed = int(job.seed)
    submitted = {n: names[n] for n in exercise.names if n in names}
    made = codec.from_plain(job.inputs)   # made by the grader, decoded once

    def run_probe(name: str, namespace: Mapping[str, Any], variant: str | None) -> None:
        inputs = copy.deepcopy(made)  # fresh, writable arrays for each probe
        reseed(probe_seed(seed, name))
        try:
            result = exercise.probes[name](Submitted(namespace), inputs)
            frame = ProbeFrame(name, variant, result=codec.to_plain(result))
        except MissingName as exc:
            frame = ProbeFrame(name, variant, missing=str(exc))
        except Skip as exc:
            frame = ProbeFrame(name, variant, skip=str(exc))
        except BaseException as exc:  # noqa: BLE001 - even SystemExit from a student's function
            frame = ProbeFrame(name, variant, error=error_info(exc, filenames))
        send(frame)

    for name in exercise.probes:
        run_probe(name, submitted, None)
    if job.role == "reference":
        for misconception in exercise.misconceptions:
            if misconception.mutant is None:
                continue
            mutated = {**submitted, **misconception.mutant(submitted)}
            for name in exercise.probes_for(misconception.checks):
                run_probe(name, mutated, misconception.key)
    send(DoneFrame())
