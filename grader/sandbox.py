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
* Only well-formed frames are accepted; anything else on the result pipe is
  tampering (`bad_channel`), never a crash of the grader.
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
import struct
import sys
import tempfile
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from grader import confine


_write = os.write  # bound before any submission can monkeypatch os
_HEADER = struct.Struct("!I")
MAX_RESULT_BYTES = 256 * 1024 * 1024
#: The exit of a job whose worker killed its zygote (it ran alone when the zygote died).
KILLED_ZYGOTE = "it killed the grader's sandbox process"
#: The exit of the jobs left when no new zygote can be had (the nursery is gone too).
SANDBOX_GONE = "the grader's sandbox process is gone"


@dataclass(frozen=True)
class Limits:
    """Per-exercise limits for a worker; every one can be set from the command line."""

    timeout: float = 10.0        # seconds of wall clock for loading and all probes of one exercise
    memory_mb: int = 2048        # memory (MB) a worker may allocate on top of the zygote's
    output_kb: int = 32          # captured stdout/stderr kept (head and tail); the rest is counted
    file_mb: int = 256           # largest file a worker may write

    def to_json(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "memory_mb": self.memory_mb,
                "output_kb": self.output_kb, "file_mb": self.file_mb}


@dataclass
class Outcome:
    """What came back from one worker: decoded frames, captured output, how it ended."""

    job: dict[str, Any]
    frames: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    output_bytes: int = 0
    exit: str = ""               # "" for a clean exit, else a description (signal, exit code)
    timed_out: bool = False
    bad_channel: str = ""        # set when the result channel carried something malformed
    killed_sandbox: bool = False  # its worker killed the zygote (whatever it sent before)
    seconds: float = 0.0

    @property
    def finished(self) -> bool:
        return any(f.get("kind") == "done" for f in self.frames)


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


def _send_frame(fd: int, frame: dict[str, Any]) -> None:
    payload = json.dumps(frame, separators=(",", ":")).encode()
    data = _HEADER.pack(len(payload)) + payload
    while data:
        written = _write(fd, data)
        data = data[written:]


# ---------------------------------------------------------------- nursery and zygote

class ZygoteGone(RuntimeError):
    """The zygote (or the nursery that makes zygotes) ended unexpectedly."""


class Zygote:
    """A warm process (torch imported) that forks one worker per job.

    It is made by a nursery, forked from the grader at start: when a worker kills its
    zygote, `restart` asks the nursery for a new one, as clean as the first.
    """

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[dict, int], None]):
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

    def spawn(self, job: dict[str, Any], result_w: int, output_w: int) -> int:
        sock = self._connect()
        job_fd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        try:
            os.write(job_fd, json.dumps(job).encode())
            os.lseek(job_fd, 0, os.SEEK_SET)
            try:
                socket.send_fds(sock, [b"spawn"], [job_fd, result_w, output_w])
            except OSError as exc:
                raise ZygoteGone("the zygote process ended unexpectedly") from exc
        finally:
            os.close(job_fd)
        while True:
            message = self._recv()
            if "spawned" in message:
                return int(message["spawned"])

    def _recv(self) -> dict[str, Any]:
        try:
            raw = self._connect().recv(65536)
        except OSError as exc:
            raise ZygoteGone("the zygote process ended unexpectedly") from exc
        if not raw:
            raise ZygoteGone("the zygote process ended unexpectedly")
        message = json.loads(raw)
        if "exited" in message:
            self.exits[int(message["exited"])] = message["status"]
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


def _nursery_loop(ctl: socket.socket, grader: int, warm_up: Callable[[], None],
                  worker_main: Callable[[dict, int], None]) -> None:
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
                 worker_main: Callable[[dict, int], None]) -> None:
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
                  worker_main: Callable[[dict, int], None]) -> None:
    """First steps of a forked worker; never returns."""
    try:
        os.setsid()
        _die_with_parent(zygote)
        with os.fdopen(job_fd, "rb") as handle:
            job = json.loads(handle.read())
        _confine(job)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.close(devnull)
        os.close(output_w)
        _only_own_streams(result_w)
        limits = job["limits"]
        _apply_rlimits(limits["memory_mb"], limits["file_mb"])
        worker_main(job, result_w)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(0)
    except BaseException:  # noqa: BLE001 - report whatever escaped, then die quietly
        try:
            _send_frame(result_w, {"kind": "fatal", "error": traceback.format_exc(limit=5)})
        except Exception:
            pass
        os._exit(70)


def _confine(job: dict[str, Any]) -> None:
    """Apply the machine's confinement before any submission code runs (`grader.confine`):
    writes only in the job's scratch directory, no network, no signal to anything above.
    A student worker may not read the kit's references or check code either."""
    settings = job.get("confinement") or {}
    hidden = settings.get("hidden", []) if job.get("role") == "student" else []
    plan = confine.Plan(tuple(confine.readable_roots(job.get("search_path", []), hidden)))
    confine.confine(plan, job["workdir"], settings.get("expected") or {})


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

def _well_formed(frame: Any) -> bool:
    """Whether a frame has the shape worker.py gives it; the grader reads no other."""
    if not isinstance(frame, dict):
        return False
    kind = frame.get("kind")
    if kind == "loaded":
        cell_errors, missing = frame.get("cell_errors"), frame.get("missing")
        return (isinstance(frame.get("load_error"), (dict, type(None)))
                and isinstance(cell_errors, list) and all(isinstance(e, dict) for e in cell_errors)
                and isinstance(missing, list) and all(isinstance(n, str) for n in missing))
    if kind == "probe":
        if not isinstance(frame.get("probe"), str) or \
                not isinstance(frame.get("variant"), (str, type(None))):
            return False
        for key, kinds in (("error", dict), ("missing", str), ("skip", str)):
            if key in frame:
                return isinstance(frame[key], kinds)
        return "result" in frame
    if kind == "cell":
        return isinstance(frame.get("cell"), int)
    return kind in ("done", "fatal", "violation")


class _Running:
    def __init__(self, job: dict[str, Any], pid: int, result_r: int, output_r: int,
                 limits: Limits, tries: int = 0):
        self.outcome = Outcome(job)
        self.tries = tries        # how many zygotes died while this job was running before
        self.pid = pid
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
        self.entry: tuple[dict[str, Any], Limits, int] | None = None  # as it was queued

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
        while len(self.result_buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.result_buf)
            if len(self.result_buf) < _HEADER.size + size:
                break
            payload = bytes(self.result_buf[_HEADER.size:_HEADER.size + size])
            del self.result_buf[:_HEADER.size + size]
            try:
                frame = json.loads(payload)
            except (ValueError, RecursionError):
                frame = None
            if not _well_formed(frame):
                self.outcome.bad_channel = "the result channel carried a malformed frame"
                continue
            self.outcome.frames.append(frame)

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


class Sandbox:
    """Runs jobs in workers forked from one zygote, `jobs` at a time."""

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[dict, int], None],
                 jobs: int = 1, hidden: tuple[str, ...] = ()):
        self.jobs = max(1, jobs)
        #: What confinement holds on this machine (the report says it); every worker
        #: applies all of it or runs nothing. `hidden`: paths no student worker may read.
        self.confinement = confine.available()
        self._confine_job = {"expected": self.confinement, "hidden": list(hidden)}
        self.zygote = Zygote(warm_up, worker_main)

    def close(self) -> None:
        self.zygote.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[tuple[dict[str, Any], Limits]]) -> Iterator[Outcome]:
        """Run every job; yield each outcome as soon as its worker is done.

        When the zygote dies (a worker killed it), the jobs that were running are run
        again, one at a time, by a new zygote: a job that was running alone when a
        zygote died is the one that killed it, and ends with that as its exit.
        """
        pending: deque[tuple[dict[str, Any], Limits, int]] = deque(
            (job, limits, 0) for job, limits in jobs)
        running: dict[int, _Running] = {}
        by_fd: dict[int, _Running] = {}
        selector = selectors.DefaultSelector()
        zygote_fd = -1

        def forget(state: _Running) -> None:
            for fd in list(state.open_fds):
                selector.unregister(fd)
                os.close(fd)
                del by_fd[fd]
            state.open_fds.clear()

        try:
            while pending or running:
                starting: tuple[dict[str, Any], Limits, int] | None = None
                try:
                    if zygote_fd < 0:
                        zygote_fd = self.zygote.fileno()
                        selector.register(zygote_fd, selectors.EVENT_READ)
                    while pending and len(running) < self.jobs:
                        if running and (pending[0][2] or any(s.tries for s in running.values())):
                            break  # a job that was running when a zygote died runs alone
                        starting = pending.popleft()
                        job, limits, tries = starting
                        job = {**job, "limits": limits.to_json(),
                               "confinement": self._confine_job}
                        result_r, result_w = os.pipe2(os.O_CLOEXEC)
                        output_r, output_w = os.pipe2(os.O_CLOEXEC)
                        try:
                            pid = self.zygote.spawn(job, result_w, output_w)
                        except BaseException:
                            os.close(result_r)
                            os.close(output_r)
                            raise
                        finally:
                            os.close(result_w)
                            os.close(output_w)
                        state = _Running(job, pid, result_r, output_r, limits, tries)
                        state.entry = starting
                        starting = None
                        running[pid] = state
                        for fd in (result_r, output_r):
                            os.set_blocking(fd, False)
                            by_fd[fd] = state
                            selector.register(fd, selectors.EVENT_READ)
                    now = time.monotonic()
                    wait = min(s.deadline for s in running.values()) - now if running else 0.1
                    for key, _ in selector.select(timeout=max(0.0, min(wait, 0.5))):
                        fd = key.fd
                        if fd == zygote_fd:
                            self.zygote.poll_exits()
                            continue
                        state = by_fd[fd]
                        try:
                            data = os.read(fd, 1 << 20)
                        except BlockingIOError:
                            continue
                        if data:
                            if fd == state.result_r:
                                state.take_result(data)
                                if state.outcome.bad_channel:
                                    _kill_group(state.pid)
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
                    yield from self._after_zygote_died(running, pending, starting, forget)
                    continue
                now = time.monotonic()
                for pid, state in list(running.items()):
                    if pid in self.zygote.exits and state.exit_seen_at is None:
                        state.exit_seen_at = now
                        state.outcome.exit = self.zygote.exits.pop(pid)
                    if state.exit_seen_at is None and now >= state.deadline:
                        state.outcome.timed_out = True
                        _kill_group(pid)
                        state.deadline = now + 5.0  # the zygote reports the exit soon
                    # Done when the worker has exited and its pipes are drained (or a
                    # grandchild still holds them open a second after it exited).
                    if state.exit_seen_at is not None and (
                            not state.open_fds or now - state.exit_seen_at > 1.0):
                        forget(state)
                        del running[pid]
                        yield state.finish()
        finally:
            for pid, state in running.items():
                _kill_group(pid)
                for fd in state.open_fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            selector.close()

    def _after_zygote_died(self, running: dict[int, _Running],
                           pending: deque[tuple[dict[str, Any], Limits, int]],
                           starting: tuple[dict[str, Any], Limits, int] | None,
                           forget: Callable[[_Running], None]) -> Iterator[Outcome]:
        """Settle the jobs of a dead zygote, then get a new one (or end every job)."""
        for pid, state in list(running.items()):
            del running[pid]
            forget(state)
            _kill_group(pid)  # its worker died with the zygote; what it started dies now
            if state.exit_seen_at is not None:
                yield state.finish()  # it had finished before
            elif state.tries:
                state.outcome.exit = KILLED_ZYGOTE
                state.outcome.killed_sandbox = True
                yield state.finish()
            else:
                job, limits, _tries = state.entry
                pending.appendleft((job, limits, 1))
        if starting is not None:
            job, limits, tries = starting
            if tries:
                yield Outcome({**job, "limits": limits.to_json()}, exit=KILLED_ZYGOTE,
                              killed_sandbox=True)
            else:
                pending.appendleft((job, limits, 1))
        try:
            self.zygote.restart()
        except ZygoteGone:
            while pending:
                job, limits, _tries = pending.popleft()
                yield Outcome({**job, "limits": limits.to_json()}, exit=SANDBOX_GONE)


def scratch_dir(root: str) -> str:
    """A private working directory for one worker."""
    return tempfile.mkdtemp(prefix="job-", dir=root)
