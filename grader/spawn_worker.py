"""`python -m grader.spawn_worker GRADER_PID`: one job of the spawn backend, then exit.

Started ahead of need by `grader.sandbox.pool` (with subprocess: no fork, no pickle):
it imports torch and the worker code, says READY on its result channel, and waits for
its job on stdin: the protocol's Job JSON, with the specs of the exercise code it needs
(`grader.sandbox.exercise_spec`), the grader's sys.path, and for a notebook's exercise
the notebook's own job. Then it runs the job with the fork backend's worker code
(`grader.worker`) and exits.

Its stdout (kept on a private descriptor) is the result channel; fds 1 and 2 both go to
its stderr pipe, the job's output. On Linux it confines itself before any submission
code runs, as a forked worker does (`grader.confine`: Landlock, namespaces, seccomp),
becomes the subreaper of what it starts, and kills all of it before it exits.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import replace

LINUX = sys.platform.startswith("linux")


def main() -> None:
    grader = int(sys.argv[1])
    result_fd = os.dup(1)   # the result channel: the grader reads our stdout pipe
    os.dup2(2, 1)           # prints go where the output is read
    if LINUX:
        from grader.sandbox.processes import die_with_parent
        die_with_parent(grader)
    else:
        _die_with(grader)
    from grader.worker_warmup import warm_up
    warm_up()
    import grader.worker  # noqa: F401 - the worker code, warm too
    from grader.sandbox.pool import READY
    os.write(result_fd, READY)
    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)   # the grader closed: no job for us
    try:
        run(json.loads(raw), result_fd)
    except BaseException:  # noqa: BLE001 - report whatever escaped, then die quietly
        try:
            from grader.protocol import FatalFrame
            from grader.sandbox.nursery import send_frame
            send_frame(result_fd, FatalFrame(traceback.format_exc(limit=5)))
        except Exception:  # noqa: BLE001
            pass
        os._exit(70)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the submission replaced
            pass
    if LINUX:
        from grader.sandbox.processes import kill_strays
        kill_strays(set())   # whatever it started, daemons adopted here included
    os._exit(0)


def run(envelope: dict, result_fd: int) -> None:
    from grader.protocol import Job
    from grader.sandbox.exercise_spec import load_exercise
    from grader.strip import strip_for_student
    from grader.worker import load_notebook, make_worker_main

    job = Job.from_json(envelope["job"])
    sys.path[:] = envelope["sys_path"]
    exercises = {spec["name"]: load_exercise(spec, job.role) for spec in envelope["exercises"]}
    notebook = None if envelope.get("notebook") is None else \
        Job.from_json(envelope["notebook"])
    worker_main = make_worker_main(exercises)   # what is check code: seen before any strip
    gc.freeze()   # as in the fork backend's nursery: torch's objects out of the collections
    _confine(job)
    _own_streams(result_fd)
    if envelope.get("faulthandler"):   # as the grader has it (the fork backend inherits it)
        faulthandler.enable(file=sys.stderr)
    _limits(job.limits.memory_mb, job.limits.file_mb)
    if job.mode == "notebook":     # its top-level code once: its exercises run elsewhere
        load_notebook(job, result_fd)
        return
    if job.mode == "exercise":     # the notebook's code again, quietly, then the probes
        if job.role == "student":
            strip_for_student(exercises, job.exercise)
        if not _rerun(replace(notebook, workdir=job.workdir), result_fd):
            return
    worker_main(job, result_fd)


def _rerun(notebook, result_fd: int) -> bool:
    """Run a notebook's top-level code again for one of its exercises: what it prints and
    sends goes nowhere (the notebook's own worker reported it). Whether it ran."""
    from grader.protocol import DoneFrame, ErrorInfo, LoadedFrame
    from grader.worker import load_notebook, send

    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        ran = load_notebook(notebook, devnull)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
    if not ran:
        from grader.worker import _Channel
        _Channel.fd = result_fd
        send(LoadedFrame(ErrorInfo("RuntimeError", "the notebook did not run again the "
                                   "way it ran the first time")))
        send(DoneFrame())
    return ran


def _confine(job) -> None:
    """Linux: the fork backend's confinement (a fresh process, single-threaded, as
    `unshare` needs). Everywhere: temporary files go in the job's own folder."""
    if LINUX:
        from grader.sandbox.nursery import _confine as confine_linux
        from grader.sandbox.processes import become_subreaper
        confine_linux(job)
        become_subreaper()   # what it starts and orphans comes here: killed before exit
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = job.workdir
    tempfile.tempdir = None


def _own_streams(result_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if os.name == "posix":
        from grader.sandbox.nursery import _only_own_streams
        _only_own_streams(result_fd)
        return
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False,
                      buffering=1 if fd == 2 else -1)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _limits(memory_mb: int, file_mb: int) -> None:
    """Linux: the fork backend's (RLIMIT_DATA, file size, no core). macOS: file size and
    no core (it does not enforce RLIMIT_DATA: the grader watches the memory). Windows:
    the grader's Job Object caps the memory."""
    if LINUX:
        from grader.sandbox.nursery import _apply_rlimits
        _apply_rlimits(memory_mb, file_mb)
        return
    try:
        import resource
        import signal
    except ImportError:
        return
    for which, value in ((resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
                         (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _die_with(grader: int) -> None:
    """Where no PR_SET_PDEATHSIG exists: a thread that ends this worker once the grader
    is gone (an idle one also ends when its stdin closes)."""
    import psutil

    try:
        parent = psutil.Process(grader)
    except psutil.Error:
        os._exit(0)

    def watch() -> None:
        while parent.is_running():
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="grader-parent", daemon=True).start()


if __name__ == "__main__":
    main()
