"""What runs in the sandbox's own processes: the nursery, the zygote, a worker's first steps.

The nursery is forked from the grader before it reads any reference; it imports torch
once and makes zygotes. A zygote forks one worker per job; the worker confines itself,
sets its limits, keeps only its own streams and runs the job (`worker_main`), sending
frames on its result channel (`send_frame`: `grader.protocol`'s encoding).
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
try:
    import resource
except ImportError:  # Windows: no fork backend there, but its workers import send_frame
    resource = None
import selectors
import signal
import socket
import sys
import traceback
from typing import Callable

from grader import confine
from grader.protocol import Confinement, FatalFrame, Frame, Job, encode_frame
from grader.sandbox.processes import (become_subreaper, describe_status, die_with_parent,
                                      kill_group, kill_strays)

_write = os.write  # bound before any submission can monkeypatch os


def send_frame(fd: int, frame: Frame) -> None:
    data = encode_frame(frame)
    while data:
        written = _write(fd, data)
        data = data[written:]


def nursery_loop(ctl: socket.socket, grader: int, warm_up: Callable[[], None],
                 worker_main: Callable[[Job, int], None]) -> None:
    die_with_parent(grader)
    confine.not_dumpable()  # no worker may read its memory (where the zygote came from)
    os.setpgid(0, 0)  # the grader's Ctrl-C is for the grader; it cleans up nursery and zygote
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    become_subreaper()
    warm_up()
    gc.freeze()  # torch's objects stay out of the workers' collections (and shared, unwritten)
    me = os.getpid()
    while True:
        try:
            request = ctl.recv(64)
        except OSError:
            request = b""
        kill_strays(set())  # the zygote before this one, and whatever it left behind
        if not request:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # a zygote
            ctl.close()
            ours.close()
            try:
                zygote_loop(theirs, me, worker_main)
            finally:
                os._exit(0)
        theirs.close()
        try:
            socket.send_fds(ctl, [json.dumps({"zygote": pid}).encode()], [ours.fileno()])
        except OSError:
            return
        finally:
            ours.close()


def zygote_loop(sock: socket.socket, nursery: int,
                worker_main: Callable[[Job, int], None]) -> None:
    die_with_parent(nursery)
    become_subreaper()
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    me = os.getpid()
    children: set[int] = set()
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                try:
                    message, fds, _flags, _addr = socket.recv_fds(sock, 1024, 3)
                except OSError:
                    message = b""
                if not message:
                    for pid in children:
                        kill_group(pid)
                    return
                job_fd, result_w, output_w = fds
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    sock.close()
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    os.close(wake_r)
                    os.close(wake_w)
                    _worker_entry(job_fd, result_w, output_w, me, worker_main)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                sock.send(json.dumps({"spawned": pid}).encode())
            else:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                exited = []
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    if pid not in children:
                        continue  # a stray, reaped
                    children.discard(pid)
                    kill_group(pid)  # whatever the worker started dies with it
                    exited.append({"exited": pid, "status": describe_status(status)})
                # ...and so does what left the worker's group (setsid, a daemon's double
                # fork): orphaned, it was adopted here. All gone before the exit is told.
                kill_strays(children)
                for notice in exited:
                    sock.send(json.dumps(notice).encode())


def _worker_entry(job_fd: int, result_w: int, output_w: int, zygote: int,
                  worker_main: Callable[[Job, int], None]) -> None:
    """First steps of a forked worker; never returns."""
    try:
        os.setsid()
        die_with_parent(zygote)
        with os.fdopen(job_fd, "rb") as handle:
            job = Job.from_json(json.loads(handle.read()))
        _confine(job)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.close(devnull)
        os.close(output_w)
        _only_own_streams(result_w)
        _apply_rlimits(job.limits.memory_mb, job.limits.file_mb)
        worker_main(job, result_w)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(0)
    except BaseException:  # noqa: BLE001 - report whatever escaped, then die quietly
        try:
            send_frame(result_w, FatalFrame(traceback.format_exc(limit=5)))
        except Exception:
            pass
        os._exit(70)


def _confine(job: Job) -> None:
    """Apply the machine's confinement before any submission code runs (`grader.confine`):
    writes only in the job's scratch directory, no network, no signal to anything above.
    A student worker may not read the kit's references or check code either."""
    settings = job.confinement or Confinement()
    hidden = list(settings.hidden) if job.role == "student" else []
    plan = confine.Plan.make(list(job.search_path), hidden)
    confine.confine(plan, job.workdir, dict(settings.expected))


def _only_own_streams(result_w: int) -> None:
    """Leave the worker no way to write where the grader writes.

    Whatever else the grader had open when the nursery was forked (a test runner's
    capture files, a terminal, a pipe to its caller) is closed; `sys.stdout` and
    `sys.stderr` are new streams on fds 1 and 2 (the grader's may be any object:
    pytest's capture, a notebook's stream), and faulthandler, if it is on, reports
    there too.
    """
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit == resource.RLIM_INFINITY or limit > 1 << 20:
        limit = 1 << 20
    os.closerange(3, result_w)
    os.closerange(result_w + 1, limit)
    sys.stdin = sys.__stdin__ = open(0, closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", errors="backslashreplace",
                                       closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                       closefd=False, buffering=1)
    if faulthandler.is_enabled():
        faulthandler.enable(file=sys.stderr)


def _apply_rlimits(memory_mb: int, file_mb: int) -> None:
    # RLIMIT_DATA counts writable private memory (heap, tensors), not address space that
    # is only reserved (as CUDA does at start-up), so a GPU worker still starts.
    with open("/proc/self/status") as status:
        data_kb = next(int(line.split()[1]) for line in status if line.startswith("VmData:"))
    data = (data_kb * 1024) + memory_mb * 1024 * 1024
    for which, value in ((resource.RLIMIT_DATA, data),
                         (resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
                         (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass
    # A write past RLIMIT_FSIZE then fails with an OSError instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
