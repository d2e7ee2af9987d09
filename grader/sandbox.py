"""Run untrusted code in worker processes, and bring back only plain data.

Shape (Linux, fork-based):

    grader process ── socketpair ──> nursery (imports torch once, never sees a reference result)
         ▲  ▲  ▲                          │ fork (again whenever a zygote dies)
         │  │  └──── socketpair ───────> zygote
         │  │                             │ fork per job
         │  └─ output pipe (stdout/stderr, truncated) ─┐
         └──── result pipe (length-prefixed JSON) ─────┴── worker: limits, load, probes

* The nursery is forked before the grader has read any reference solution or
  result, so a worker cannot find the expected answers in its own memory. A
  worker that kills its zygote (its parent) costs only its own exercise: the
  grader gets a fresh zygote from the nursery and reruns, one at a time, the
  other jobs that died with it.
* A worker writes results on a private pipe, not on stdout: what the
  submission prints cannot forge a verdict. Frames are JSON decoded by
  `codec.loads` (no pickle), and judged in the grader with its own numpy.
* Each worker is a session leader (`setsid`): on timeout or when it ends,
  its whole process group is killed, children included; `PR_SET_PDEATHSIG`
  ends workers and zygote if the grader dies. Zygote and nursery are child
  subreapers: whatever a worker started that left its group (a new session,
  a daemon) is adopted by the zygote once orphaned, and killed.
* Only well-formed frames are accepted (`protocol.decode_frame`); anything else on
  the result pipe is tampering (`bad_channel`), never a crash of the grader.
* Limits: wall clock (grader side), writable memory (RLIMIT_DATA) and file size.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import json
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

from grader import confine
from grader.protocol import (FRAME_KEYS, HEADER, MAX_NOTE_FRAME_BYTES, MAX_NOTE_FRAMES,
                             MAX_RESULT_BYTES, PROBE_PREFIX, Confinement, DoneFrame,
                             FatalFrame, Frame, Job, Limits, LoadedFrame, ProbeFrame,
                             decode_frame, encode_frame)


_write = os.write  # bound before any submission can monkeypatch os
#: The exit of a job whose worker killed its zygote (it ran alone when the zygote died).
KILLED_ZYGOTE = "it killed the grader's sandbox process"
#: The exit of the jobs left when no new zygote can be had (the nursery is gone too).
SANDBOX_GONE = "the grader's sandbox process is gone"
#: The exit of a notebook's exercise whose notebook's process ended before it was done.
NOTEBOOK_GONE = "the process that ran your notebook ended"


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


# ---------------------------------------------------------------- helpers

def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _die_with_parent(parent: int) -> None:
    libc = _libc()
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def _become_subreaper() -> None:
    libc = _libc()
    if libc is not None:
        libc.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphaned descendants come to us


def _children() -> list[int]:
    """This process's children, the orphans it adopted as a subreaper included."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            if int(stat.rsplit(b")", 1)[1].split()[1]) == me:
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _kill_strays(keep: set[int], patience: float = 2.0) -> None:
    """Kill and reap every child but `keep`; what they started is adopted next, and killed too."""
    deadline = time.monotonic() + patience
    while True:
        strays = [pid for pid in _children() if pid not in keep]
        if not strays or time.monotonic() > deadline:
            return
        for pid in strays:  # a child's pid is not reused before we reap it
            _kill_group(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in strays:
            while time.monotonic() <= deadline:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.001)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return name
    code = os.WEXITSTATUS(status)
    return "" if code == 0 else f"exit code {code}"


def _send_frame(fd: int, frame: Frame) -> None:
    data = encode_frame(frame)
    while data:
        written = _write(fd, data)
        data = data[written:]


# ---------------------------------------------------------------- nursery and zygote

class ZygoteGone(RuntimeError):
    """The zygote (or the nursery that makes zygotes) ended unexpectedly."""


class NotebookGone(RuntimeError):
    """A notebook's process (the zygote of that submission's exercises) ended, stopped
    answering, or said something malformed."""


class Zygote:
    """A warm process (torch imported) that forks one worker per job.

    It is made by a nursery, forked from the grader at start: when a worker kills its
    zygote, `restart` asks the nursery for a new one, as clean as the first.
    """

    Gone: type[Exception] = ZygoteGone
    #: Seconds any answer of the zygote may take (it answers in milliseconds; a stopped
    #: or wedged zygote is then replaced, never waited for).
    patience: float | None = 30.0
    #: Seconds the nursery may take to import torch and make a zygote (a busy machine).
    nursery_patience: float = 180.0

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[Job, int], None]):
        self.exits: dict[int, str] = {}
        self.pid = 0
        self._sock: socket.socket | None = None
        self._ctl, nursery_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        grader = os.getpid()
        pid = os.fork()
        if pid == 0:  # the nursery
            self._ctl.close()
            try:
                _nursery_loop(nursery_sock, grader, warm_up, worker_main)
            finally:
                os._exit(0)
        nursery_sock.close()
        self.nursery_pid = pid
        self._ctl.settimeout(self.nursery_patience)
        self._ask()

    def _ask(self) -> None:
        try:
            self._ctl.send(b"zygote")
        except OSError as exc:
            raise ZygoteGone("the nursery process ended unexpectedly") from exc

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                message, fds, _flags, _addr = socket.recv_fds(self._ctl, 1024, 1)
            except OSError as exc:
                raise ZygoteGone("the nursery process ended unexpectedly") from exc
            if not message or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                raise ZygoteGone("the nursery process ended unexpectedly")
            self.pid = int(json.loads(message)["zygote"])
            self._sock = socket.socket(fileno=fds[0])
            self._sock.settimeout(self.patience)
        return self._sock

    def restart(self) -> None:
        """Drop the current zygote (dead, or abandoned) and get a new one from the nursery."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.exits.clear()
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._ask()
        self._connect()

    def fileno(self) -> int:
        return self._connect().fileno()

    def spawn(self, job: Job, result_w: int, output_w: int) -> int:
        sock = self._connect()
        job_fd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        try:
            os.write(job_fd, json.dumps(job.to_json()).encode())
            os.lseek(job_fd, 0, os.SEEK_SET)
            try:
                socket.send_fds(sock, [b"spawn"], [job_fd, result_w, output_w])
            except OSError as exc:
                raise self.Gone("the zygote process ended unexpectedly") from exc
        finally:
            os.close(job_fd)
        give_up = None if self.patience is None else time.monotonic() + self.patience
        while True:
            message = self._recv()
            if "spawned" in message:
                return message["spawned"]
            if give_up is not None and time.monotonic() > give_up:
                raise self.Gone("the zygote process did not start the job")

    def _recv(self) -> dict[str, Any]:
        try:
            raw = self._connect().recv(65536)
        except OSError as exc:  # socket.timeout too
            raise self.Gone("the zygote process ended unexpectedly") from exc
        if not raw:
            raise self.Gone("the zygote process ended unexpectedly")
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            message = None
        pid_of = message.get("exited", message.get("spawned")) if isinstance(message, dict) \
            else None
        if type(pid_of) is not int or ("exited" in message
                                       and not isinstance(message.get("status"), str)):
            raise self.Gone("the zygote process sent a malformed message")
        if "exited" in message:
            self.exits[message["exited"]] = message["status"]
        return message

    def poll_exits(self) -> None:
        """Read exit notices that are waiting (called when the socket is readable)."""
        self._recv()

    def close(self) -> None:
        """End the zygote and the nursery; the nursery kills what is left (strays included)."""
        for sock in (self._sock, self._ctl):
            if sock is not None:
                sock.close()
        deadline = time.monotonic() + 2.0
        while True:
            try:
                pid, _status = os.waitpid(self.nursery_pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if not pid:
            try:
                os.kill(self.nursery_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.nursery_pid, 0)
            except ChildProcessError:
                pass


class SubZygote(Zygote):
    """A submission's own zygote: the worker that ran a notebook's top-level code once,
    now forking one worker per exercise from the state it built (`_zygote_loop` there).

    It runs the submission's code, so nothing it says is trusted: its answers have a
    deadline, malformed ones end it, and a pid it names is checked in /proc before its
    group is killed (`kill_job`). Whatever goes wrong raises NotebookGone: the grader
    then ends this submission's notebook, and nothing else.
    """

    Gone = NotebookGone
    patience = 5.0

    def __init__(self, sock: socket.socket, pid: int):
        self.exits = {}
        self.pid = pid          # the notebook's worker, as the grader's own zygote named it
        self._ctl = None
        self._sock = sock
        sock.settimeout(self.patience)

    def _connect(self) -> socket.socket:
        if self._sock is None:
            raise NotebookGone("the notebook's process is closed")
        return self._sock

    def restart(self) -> None:
        raise NotebookGone("a notebook's process is not restarted")

    def kill_job(self, pid: int) -> None:
        """Kill the group of worker `pid` if it is one: a child of this notebook's process
        leading its own group. Else end the notebook's process (it lied about its pids)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parent, group = int(fields[1]), int(fields[2])
        except (OSError, ValueError, IndexError):
            return  # gone already (and its group killed by the notebook's process)
        if parent == self.pid and group == pid:
            _kill_group(pid)
        else:
            _kill_group(self.pid)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        _kill_group(self.pid)  # its workers die with it (PR_SET_PDEATHSIG)


def _nursery_loop(ctl: socket.socket, grader: int, warm_up: Callable[[], None],
                  worker_main: Callable[[Job, int], None]) -> None:
    _die_with_parent(grader)
    confine.not_dumpable()  # no worker may read its memory (where the zygote came from)
    os.setpgid(0, 0)  # the grader's Ctrl-C is for the grader; it cleans up nursery and zygote
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _become_subreaper()
    warm_up()
    gc.freeze()  # torch's objects stay out of the workers' collections (and shared, unwritten)
    me = os.getpid()
    while True:
        try:
            request = ctl.recv(64)
        except OSError:
            request = b""
        _kill_strays(set())  # the zygote before this one, and whatever it left behind
        if not request:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # a zygote
            ctl.close()
            ours.close()
            try:
                _zygote_loop(theirs, me, worker_main)
            finally:
                os._exit(0)
        theirs.close()
        try:
            socket.send_fds(ctl, [json.dumps({"zygote": pid}).encode()], [ours.fileno()])
        except OSError:
            return
        finally:
            ours.close()


def _zygote_loop(sock: socket.socket, nursery: int,
                 worker_main: Callable[[Job, int], None]) -> None:
    _die_with_parent(nursery)
    _become_subreaper()
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
                        _kill_group(pid)
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
                    _kill_group(pid)  # whatever the worker started dies with it
                    exited.append({"exited": pid, "status": _describe_status(status)})
                # ...and so does what left the worker's group (setsid, a daemon's double
                # fork): orphaned, it was adopted here. All gone before the exit is told.
                _kill_strays(children)
                for notice in exited:
                    sock.send(json.dumps(notice).encode())


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _worker_entry(job_fd: int, result_w: int, output_w: int, zygote: int,
                  worker_main: Callable[[Job, int], None]) -> None:
    """First steps of a forked worker; never returns."""
    try:
        os.setsid()
        _die_with_parent(zygote)
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
            _send_frame(result_w, FatalFrame(traceback.format_exc(limit=5)))
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


# ---------------------------------------------------------------- the grader's side

@dataclass(eq=False)  # found in the queue by identity
class _Queued:
    """A job waiting for a worker."""

    job: Job
    limits: Limits
    tries: int = 0                      # how many zygotes died while it was running before
    #: A notebook's exercises: started, once the notebook has run, from the state it built.
    children: list[_Queued] = field(default_factory=list)
    family: _Running | None = None      # the notebook's worker that starts this job


class _Running:
    def __init__(self, entry: _Queued, job: Job, pid: int, result_r: int,
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
        self.open_fds = {result_r, output_r}
        self.exit_seen_at: float | None = None

    @property
    def root(self) -> _Running:
        """The worker this one stands or falls with: its notebook's, or itself."""
        return self.family or self

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
            _kill_group(self.pid)

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


def _not_started(entry: _Queued, why: str) -> Outcome:
    """The outcome of a notebook's exercise that never ran: its notebook failed first."""
    return Outcome(replace(entry.job, limits=entry.limits), exit=why, started=False)


JobSpec = tuple  # (job, limits) or, for a notebook, (job, limits, [(job, limits), ...])


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
        pending: deque[_Queued] = deque()
        for spec in jobs:
            job, limits, *children = spec
            pending.append(_Queued(job, limits, children=[
                _Queued(child, child_limits) for child, child_limits in
                (children[0] if children else ())]))
        running: list[_Running] = []
        by_fd: dict[int, _Running] = {}
        subs: dict[int, _Running] = {}     # a notebook's zygote socket -> its worker
        selector = selectors.DefaultSelector()
        zygote_fd = -1

        def forget(state: _Running) -> None:
            for fd in list(state.open_fds):
                selector.unregister(fd)
                os.close(fd)
                del by_fd[fd]
            state.open_fds.clear()

        def close_sub(notebook: _Running) -> None:
            if notebook.sub is not None:
                fd = notebook.sub.fileno()
                selector.unregister(fd)
                del subs[fd]
                notebook.sub.close()   # and its worker is killed: its exercises die with it
                notebook.sub = None

        def drop_family(notebook: _Running) -> Iterator[Outcome]:
            """End a notebook's worker and settle every exercise of it not yet done."""
            close_sub(notebook)
            left = [e for e in pending if e.family is notebook]
            for entry in left:
                pending.remove(entry)
            for entry in notebook.children + left:
                yield _not_started(entry, NOTEBOOK_GONE)
            notebook.children = []
            for state in [s for s in running if s.family is notebook]:
                running.remove(state)
                forget(state)
                if state.exit_seen_at is None:
                    state.outcome.exit = NOTEBOOK_GONE
                yield state.finish()

        def done(state: _Running) -> Iterator[Outcome]:
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
                starting: _Queued | None = None
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
                                yield _not_started(entry, NOTEBOOK_GONE)
                                continue
                            state = self._start(entry, notebook.sub, self._confine_exercise)
                            if state is None:   # the notebook's worker failed to start it
                                yield _not_started(entry, NOTEBOOK_GONE)
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
                    if state.exit_seen_at is None and now >= state.deadline and not (
                            state.outcome.timed_out and state.family is None):
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
                    _kill_group(state.pid)
                for fd in state.open_fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            for notebook in list(subs.values()):
                if notebook.sub is not None:
                    notebook.sub.close()
            selector.close()

    def _start(self, entry: _Queued, spawner: Zygote,
               confinement: Confinement) -> _Running | None:
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
        state = _Running(entry, job, pid, result_r, output_r, spawner)
        if sub_ours is not None:
            state.sub = SubZygote(sub_ours, pid)
        return state

    def _after_zygote_died(self, running: list[_Running], pending: deque[_Queued],
                           starting: _Queued | None,
                           forget: Callable[[_Running], None],
                           close_sub: Callable[[_Running], None],
                           drop_family: Callable[[_Running], Iterator[Outcome]]
                           ) -> Iterator[Outcome]:
        """Settle the jobs of a dead zygote, then get a new one (or end every job).

        Every worker died with it, a notebook's exercises with their notebook: a notebook
        runs again, with the exercises it had not finished.
        """
        for state in [s for s in running if s.family is None]:
            unfinished: list[_Queued] = []
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
            _kill_group(state.pid)  # its worker died with the zygote; what it started dies now
            if state.exit_seen_at is not None:
                yield state.finish()  # it had finished before
            elif state.tries:
                state.outcome.exit = KILLED_ZYGOTE
                state.outcome.killed_sandbox = True
                yield state.finish()
            else:
                entry = state.entry
                pending.appendleft(_Queued(entry.job, entry.limits, 1, [
                    _Queued(child.job, child.limits) for child in unfinished]))
        if starting is not None:
            if starting.tries:
                for child in starting.children:
                    yield _not_started(child, KILLED_ZYGOTE)
                yield Outcome(replace(starting.job, limits=starting.limits),
                              exit=KILLED_ZYGOTE, killed_sandbox=True)
            else:
                pending.appendleft(_Queued(starting.job, starting.limits, 1, starting.children))
        try:
            self.zygote.restart()
        except ZygoteGone:
            while pending:
                entry = pending.popleft()
                for child in entry.children:
                    yield _not_started(child, SANDBOX_GONE)
                yield Outcome(replace(entry.job, limits=entry.limits), exit=SANDBOX_GONE)


def scratch_dir(root: str) -> str:
    """A private working directory for one worker."""
    return tempfile.mkdtemp(prefix="job-", dir=root)


__all__ = ["FRAME_KEYS", "MAX_NOTE_FRAME_BYTES", "Limits", "Outcome", "Sandbox", "scratch_dir"]
