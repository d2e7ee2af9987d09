"""Interpreters started ahead of need: each imports torch, serves one job, and exits.

The spawn backend (`grader.sandbox.spawn`) runs each job in a fresh `python -m
grader.spawn_worker`, started with subprocess (no fork, no pickle). Importing torch takes
seconds, so a few interpreters are started before they are needed and wait, warm, for
their job: when one is taken, another is started in the background.

An interpreter's stdout is its result channel (it writes one byte, READY, once warm;
then frames), its stderr its output. Both are read by threads (the only portable way to
wait on pipes: Windows' select takes sockets only), which put what they read on one
queue, `Pool.events`, as (interpreter, channel, bytes); b"" is the end of a channel.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from grader.confine import ENVIRONMENT_KEPT
from grader.sandbox.tree import Tree

#: The byte a warm interpreter writes on its result channel before it reads its job.
READY = b"R"
#: Where the `grader` package lives: the interpreters import it from there.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
#: What Windows itself needs in an environment, besides what a worker keeps everywhere.
WINDOWS_KEPT = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP",
                "USERPROFILE", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "NUMBER_OF_PROCESSORS",
                "PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER")


def worker_environment() -> dict[str, str]:
    """The grader's environment as a worker may see it: what `grader.confine` keeps (on
    Linux the worker also confines itself, which trims it again), and the package path."""
    kept = ENVIRONMENT_KEPT + (("TMPDIR",) if sys.platform == "darwin" else ()) + (
        WINDOWS_KEPT if sys.platform == "win32" else ())
    env = {name: value for name, value in os.environ.items()
           if name.upper().startswith(kept)}
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])
    env["PYTHONIOENCODING"] = "utf-8:backslashreplace"
    return env


class Interpreter:
    """One `python -m grader.spawn_worker`: starting, ready, then serving one job."""

    def __init__(self, events: queue.Queue):
        options: dict[str, Any] = {}
        if os.name == "posix":
            options["start_new_session"] = True   # its own group: killed as one, no Ctrl-C
        else:
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.spawn_worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=PACKAGE_ROOT, env=worker_environment(), **options)
        self.pid = self.proc.pid
        self.tree = Tree(self.pid)
        self.started = time.monotonic()
        self.ready = False
        self.gone = False                # it ended, or was given up, before its job
        self.serving: Any = None         # the job it runs (the spawn backend's Running)
        self.early_output = bytearray()  # before its job: why it could not start, if it fails
        self.output_ended = False
        for channel, stream in (("result", self.proc.stdout), ("output", self.proc.stderr)):
            threading.Thread(target=_pump, args=(self, channel, stream, events),
                             name=f"grader-{channel}-{self.pid}", daemon=True).start()

    def hand(self, payload: bytes) -> bool:
        """Give it its job; False if it is gone."""
        try:
            self.proc.stdin.write(payload)
            self.proc.stdin.close()
            return True
        except (OSError, ValueError):
            return False

    def end(self) -> None:
        """Kill it and whatever it started; reap it."""
        self.tree.kill()
        for stream in (self.proc.stdin,):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.tree.close()


def _pump(interpreter: Interpreter, channel: str, stream, events: queue.Queue) -> None:
    while True:
        try:
            data = stream.read1(1 << 16)
        except (OSError, ValueError):
            data = b""
        if channel == "output" and interpreter.serving is None:
            interpreter.early_output = (interpreter.early_output + data)[-4000:]
            interpreter.output_ended = not data
        events.put((interpreter, channel, data))
        if not data:
            return


class Pool:
    """`size` interpreters warming up or waiting, started again as they are taken."""

    #: Seconds an interpreter may take to import torch (a busy machine).
    patience = 180.0
    #: Interpreters in a row that die before they are ready: then none can be had.
    give_up_after = 3

    def __init__(self, size: int):
        self.size = max(1, size)
        #: Bounded: a worker that prints faster than the grader reads waits for it.
        self.events: queue.Queue = queue.Queue(maxsize=1024)
        self.waiting: deque[Interpreter] = deque()   # starting or ready, oldest first
        self.failures = 0
        self.last_failed: Interpreter | None = None
        self.fill(1)      # the first job's, at once; the others' when the jobs are known

    @property
    def broken(self) -> bool:
        """No interpreter can be had: the last few all died before they were ready."""
        return self.failures >= self.give_up_after

    def fill(self, wanted: int | None = None) -> None:
        """Start interpreters until `size` wait (or `wanted`, the jobs left to start: on a
        machine with few cores, one started for nothing slows the others down)."""
        target = self.size if wanted is None else min(self.size, wanted)
        while not self.broken and len(self.waiting) < target:
            self.waiting.append(Interpreter(self.events))

    def take(self, wanted: int | None = None) -> Interpreter | None:
        """A ready interpreter (it leaves the pool, and another starts if `wanted`, the
        jobs left after this one, asks for it), or None."""
        self._give_up_on_slow_ones(wanted)
        for interpreter in list(self.waiting):
            if interpreter.ready and interpreter.proc.poll() is None:
                self.waiting.remove(interpreter)
                self.fill(None if wanted is None else wanted - 1)
                return interpreter
        return None

    def note(self, interpreter: Interpreter, channel: str, data: bytes) -> None:
        """What an interpreter without a job says: READY, or why it failed to start."""
        if channel == "output":
            return   # kept by its reader (`_pump`), for `why`
        if data.startswith(READY) and not interpreter.ready and not interpreter.gone:
            interpreter.ready = True
            self.failures = 0
            return
        if not data or data != READY:   # ended, or said something it should not have
            self._drop(interpreter, failed=not interpreter.ready)

    def _give_up_on_slow_ones(self, wanted: int | None) -> None:
        now = time.monotonic()
        for interpreter in list(self.waiting):
            if not interpreter.ready and now - interpreter.started > self.patience:
                self._drop(interpreter, failed=True)
        self.fill(wanted)

    def _drop(self, interpreter: Interpreter, failed: bool) -> None:
        if interpreter.gone:
            return
        interpreter.gone = True
        if interpreter in self.waiting:
            self.waiting.remove(interpreter)
        interpreter.end()
        if failed:
            self.failures += 1
            self.last_failed = interpreter

    def why(self) -> str:
        """What the last interpreter that failed to start printed (waiting a moment for the
        end of it)."""
        failed = self.last_failed
        if failed is None:
            return ""
        give_up = time.monotonic() + 2.0
        while not failed.output_ended and time.monotonic() < give_up:
            time.sleep(0.01)
        return failed.early_output.decode("utf-8", "replace").strip()[-2000:]

    def close(self) -> None:
        for interpreter in list(self.waiting):
            interpreter.gone = True
            interpreter.end()
        self.waiting.clear()
