"""A stand-in for SIGALRM where the system has none (Windows), for a worker's own use.

`grader.worker` tells, shortly before a deadline, where the student's code is: with a
SIGALRM timer where there is one, else with this thread, which calls the same handler
with the main thread's current frame, first after `first` seconds, then every
`interval`. The worker's frames are written under a lock, so the thread's never cut
into the main thread's.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

_running: list[threading.Event] = []


def start(first: float, interval: float, handler: Callable[[int, Any], None]) -> None:
    stop()
    stopped = threading.Event()
    main = threading.main_thread().ident

    def tick() -> None:
        if stopped.wait(first):
            return
        while True:
            handler(0, sys._current_frames().get(main))
            if stopped.wait(interval):
                return

    _running.append(stopped)
    threading.Thread(target=tick, name="grader-where", daemon=True).start()


def stop() -> None:
    while _running:
        _running.pop().set()
