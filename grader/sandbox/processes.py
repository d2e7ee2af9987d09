"""Processes of the sandbox: who is whose child, and ending them with everything they started.

Used on both sides: in the grader (killing a worker's group), and in the nursery, the
zygote and the workers (dying with their parent, adopting and killing orphans).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def die_with_parent(parent: int) -> None:
    libc = _libc()
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def become_subreaper() -> None:
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


def kill_strays(keep: set[int], patience: float = 2.0) -> None:
    """Kill and reap every child but `keep`; what they started is adopted next, and killed too."""
    deadline = time.monotonic() + patience
    while True:
        strays = [pid for pid in _children() if pid not in keep]
        if not strays or time.monotonic() > deadline:
            return
        for pid in strays:  # a child's pid is not reused before we reap it
            kill_group(pid)
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


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return name
    code = os.WEXITSTATUS(status)
    return "" if code == 0 else f"exit code {code}"


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cpu_wait(pid: int) -> float | None:
    """Seconds the process's main thread has been ready to run but waiting for a CPU that
    others held (Linux's schedstat `run_delay`); None where the system does not say."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
