"""A spawned worker's process tree, seen from the grader, on any system (psutil).

The spawn backend has no zygote to adopt what a worker leaves behind, so the grader
keeps the tree in view itself: every descendant it has seen (`note_descendants`, a few
times a second), killed with the worker when it ends or runs out of time (`kill`), and
the tree's memory, where the system puts no hard cap on it (`memory_mb`). On POSIX each
worker leads its own process group, and the group is killed too; on Windows the worker
sits in a Job Object (`grader.sandbox.winjob`), and closing it ends every process in it.
"""

from __future__ import annotations

import os
import signal
import sys

import psutil

from grader.sandbox import winjob


class Tree:
    """One spawned worker and whatever it started."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            self.root: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self.root = None
        #: Every descendant seen so far: psutil checks a process's start time before it
        #: signals it, so a pid the system has given to someone else is never killed.
        self.seen: dict[int, psutil.Process] = {}
        self.job = winjob.JobObject.for_process(pid) if sys.platform == "win32" else None

    def note_descendants(self) -> list[psutil.Process]:
        """The worker's live descendants, remembered (a daemon that leaves later is still
        known by then, and killed with the rest)."""
        if self.root is None:
            return []
        try:
            found = self.root.children(recursive=True)
        except psutil.Error:
            return []
        for process in found:
            self.seen.setdefault(process.pid, process)
        return found

    def memory_mb(self) -> float:
        """Resident memory of the worker and its descendants, in MB."""
        total = 0
        for process in [self.root, *self.note_descendants()]:
            if process is None:
                continue
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total / (1024 * 1024)

    def limit_memory(self, extra_mb: int) -> bool:
        """A hard cap on the whole tree, `extra_mb` above what it commits now, where the
        system has one (Windows' Job Object: committed memory); False where it is only
        watched."""
        if self.job is None or self.root is None:
            return False
        try:
            committed = getattr(self.root.memory_info(), "private", 0)
        except psutil.Error:
            return False
        return self.job.limit_memory(int(committed / (1024 * 1024)) + extra_mb)

    def kill(self) -> None:
        """Kill the worker, its process group and every descendant ever seen."""
        self.note_descendants()
        if self.job is not None:
            self.job.terminate()
        if hasattr(os, "killpg"):
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for process in [self.root, *self.seen.values()]:
            if process is None:
                continue
            try:
                process.kill()
            except psutil.Error:
                pass

    def close(self) -> None:
        if self.job is not None:
            self.job.close()
