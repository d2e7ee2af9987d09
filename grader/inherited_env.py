"""What a worker keeps of the grader's environment, and what it forgets of its own start.

Runs in a worker (Linux: as part of `grader.confine.confine`), before any submission code.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: What a worker keeps of the grader's environment (the rest may hold a CI's tokens, which
#: a submission could print into its feedback): names, and prefixes ending with "_".
ENVIRONMENT_KEPT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM",
                    "VIRTUAL_ENV", "LD_LIBRARY_PATH", "NO_COLOR", "LC_", "PYTHON", "OMP_",
                    "MKL_", "OPENBLAS_", "KMP_", "CUDA_", "NVIDIA_", "TORCH_", "GRADER_")


#: Kept prefixes' secrets: the course key that seeds each student's data.
ENVIRONMENT_DROPPED = ("GRADER_STUDENT_SEEDS_KEY",)


def minimal_environment() -> None:
    for name in list(os.environ):
        if not name.startswith(ENVIRONMENT_KEPT) or name in ENVIRONMENT_DROPPED:
            del os.environ[name]
    _forget_the_start()


def _forget_the_start() -> None:
    """Blank the environment and arguments the process started with. /proc/self/environ
    and /proc/self/cmdline show those bytes, whatever os.environ holds since: in a forked
    worker, the grader's own, all of it (a CI's tokens, the course key) and its command
    line (`--student-seeds KEY`). The kept variables get copies of their own first
    (setenv copies), so nothing still points into what is blanked."""
    if not sys.platform.startswith("linux"):
        return
    for name, value in os.environ.items():
        os.putenv(name, value)
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        # fields 48-51 of proc(5): arg_start, arg_end, env_start, env_end (this list
        # starts at field 3)
        arg_start, arg_end, env_start, env_end = (int(fields[n - 3]) for n in range(48, 52))
        with open("/proc/self/cmdline", "rb") as cmdline:
            program = len(cmdline.read().split(b"\0", 1)[0]) + 1
    except (OSError, ValueError, IndexError):
        return
    for start, end in ((arg_start + program, arg_end), (env_start, env_end)):
        if 0 < start < end:
            ctypes.memset(start, 0, end - start)
