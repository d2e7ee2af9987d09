"""Run untrusted code in worker processes, and bring back only plain data.

Shape (Linux, fork-based):

    grader process ── socketpair ──> zygote (imports torch once, never sees a reference result)
         ▲  ▲                             │ fork per job
         │  └─ output pipe (stdout/stderr, truncated) ─┐
         └──── result pipe (length-prefixed JSON) ─────┴── worker: limits, load, probes

* The zygote is forked before any reference result exists, so a worker cannot
  find the expected answers in its own memory.
* A worker writes results on a private pipe, not on stdout: what the
  submission prints cannot forge a verdict. Frames are JSON decoded by
  `codec.loads` (no pickle), and judged in the grader with its own numpy.
* Each worker is a session leader (`setsid`): on timeout or when it ends,
  its whole process group is killed, children included; `PR_SET_PDEATHSIG`
  ends workers and zygote if the grader dies.
* Limits: wall clock (grader side), address space and file size (rlimits).
"""

from __future__ import annotations

import ctypes
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

from grader import codec

_write = os.write  # bound before any submission can monkeypatch os
_HEADER = struct.Struct("!I")
MAX_RESULT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-exercise limits for a worker; every one can be set from the command line."""

    timeout: float = 10.0        # seconds of wall clock for loading and all probes of one exercise
    memory_mb: int = 2048        # address space a worker may add on top of the zygote's
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


def _die_with_parent() -> None:
    libc = _libc()
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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


# ---------------------------------------------------------------- zygote

class Zygote:
    """A warm process (torch imported) that forks one worker per job."""

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[dict, int], None]):
        self._sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.exits: dict[int, str] = {}
        pid = os.fork()
        if pid == 0:  # the zygote
            self._sock.close()
            try:
                _zygote_loop(child_sock, warm_up, worker_main)
            finally:
                os._exit(0)
        child_sock.close()
        self.pid = pid

    def fileno(self) -> int:
        return self._sock.fileno()

    def spawn(self, job: dict[str, Any], result_w: int, output_w: int) -> int:
        job_fd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        try:
            os.write(job_fd, json.dumps(job).encode())
            os.lseek(job_fd, 0, os.SEEK_SET)
            socket.send_fds(self._sock, [b"spawn"], [job_fd, result_w, output_w])
        finally:
            os.close(job_fd)
        while True:
            message = self._recv()
            if message is None:
                raise RuntimeError("the zygote process ended unexpectedly")
            if "spawned" in message:
                return int(message["spawned"])

    def _recv(self) -> dict[str, Any] | None:
        raw = self._sock.recv(65536)
        if not raw:
            return None
        message = json.loads(raw)
        if "exited" in message:
            self.exits[int(message["exited"])] = message["status"]
        return message

    def poll_exits(self) -> None:
        """Read exit notices that are waiting (called when the socket is readable)."""
        if self._recv() is None:
            raise RuntimeError("the zygote process ended unexpectedly")

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def _zygote_loop(sock: socket.socket, warm_up: Callable[[], None],
                 worker_main: Callable[[dict, int], None]) -> None:
    _die_with_parent()
    os.setpgid(0, 0)  # the grader's Ctrl-C is for the grader; it cleans up the zygote
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    warm_up()
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
                    _worker_entry(job_fd, result_w, output_w, worker_main)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                sock.send(json.dumps({"spawned": pid}).encode())
            else:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                while children:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    children.discard(pid)
                    _kill_group(pid)  # whatever the worker started dies with it
                    sock.send(json.dumps({"exited": pid,
                                          "status": _describe_status(status)}).encode())


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _worker_entry(job_fd: int, result_w: int, output_w: int,
                  worker_main: Callable[[dict, int], None]) -> None:
    """First steps of a forked worker; never returns."""
    try:
        os.setsid()
        _die_with_parent()
        with os.fdopen(job_fd, "rb") as handle:
            job = json.loads(handle.read())
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.close(devnull)
        os.close(output_w)
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


def _apply_rlimits(memory_mb: int, file_mb: int) -> None:
    with open("/proc/self/status") as status:
        vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    address_space = (vm_kb * 1024) + memory_mb * 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, address_space),
                         (resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
                         (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass
    # A write past RLIMIT_FSIZE then fails with an OSError instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# ---------------------------------------------------------------- the grader's side

class _Running:
    def __init__(self, job: dict[str, Any], pid: int, result_r: int, output_r: int,
                 limits: Limits):
        self.outcome = Outcome(job)
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
                if not isinstance(frame, dict):
                    raise ValueError("not an object")
            except ValueError:
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
                 jobs: int = 1):
        self.jobs = max(1, jobs)
        self.zygote = Zygote(warm_up, worker_main)

    def close(self) -> None:
        self.zygote.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[tuple[dict[str, Any], Limits]]) -> Iterator[Outcome]:
        """Run every job; yield each outcome as soon as its worker is done."""
        pending = deque(jobs)
        running: dict[int, _Running] = {}
        by_fd: dict[int, _Running] = {}
        selector = selectors.DefaultSelector()
        selector.register(self.zygote.fileno(), selectors.EVENT_READ)
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    job, limits = pending.popleft()
                    job = {**job, "limits": limits.to_json()}
                    result_r, result_w = os.pipe2(os.O_CLOEXEC)
                    output_r, output_w = os.pipe2(os.O_CLOEXEC)
                    try:
                        pid = self.zygote.spawn(job, result_w, output_w)
                    finally:
                        os.close(result_w)
                        os.close(output_w)
                    state = _Running(job, pid, result_r, output_r, limits)
                    running[pid] = state
                    for fd in (result_r, output_r):
                        os.set_blocking(fd, False)
                        by_fd[fd] = state
                        selector.register(fd, selectors.EVENT_READ)
                now = time.monotonic()
                wait = min(s.deadline for s in running.values()) - now if running else 0.1
                for key, _ in selector.select(timeout=max(0.0, min(wait, 0.5))):
                    fd = key.fd
                    if fd == self.zygote.fileno():
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
                        for fd in list(state.open_fds):
                            selector.unregister(fd)
                            os.close(fd)
                            del by_fd[fd]
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


def scratch_dir(root: str) -> str:
    """A private working directory for one worker."""
    return tempfile.mkdtemp(prefix="job-", dir=root)
