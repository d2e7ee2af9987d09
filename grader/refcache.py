"""The reference's outputs, kept on disk between runs of the grader.

A student runs the grader dozens of times on the same seed: the reference's outputs
(the kit's solutions and the misconception mutants, run through every probe) are the
same each time, and making them is half of a run's work. They are kept under the
user's cache folder, keyed by everything they depend on: the grader's code (checks and
packs included), the reference sources, the versions of Python, NumPy and torch, the
machine's architecture, the exercise and the seed. Anything else (a file that does not
parse, a key that differs) is simply made again.

`GRADER_CACHE_DIR` moves the folder, `GRADER_NO_CACHE=1` turns the cache off. Workers
cannot write there (the sandbox lets them write only in their own scratch folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Iterable

from grader.protocol import Job, decode_frame
from grader.sandbox import Outcome

CACHE_ENV, OFF_ENV = "GRADER_CACHE_DIR", "GRADER_NO_CACHE"


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "torchkit"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


class ReferenceCache:
    """Reference outcomes by (seed, exercise), for one grader's code and references."""

    def __init__(self, code_files: Iterable[Path], reference_codes: Iterable[str]):
        self.enabled = not os.environ.get(OFF_ENV)
        digest = hashlib.sha256()
        for part in (sys.version, platform.machine(), _version("torch"), _version("numpy")):
            digest.update(part.encode() + b"\0")
        for path in sorted({Path(p).resolve() for p in code_files}):
            try:
                digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                self.enabled = False   # code we cannot read: no key we can trust
        for code in reference_codes:
            digest.update(code.encode("utf-8", "surrogatepass") + b"\0")
        self.key = digest.hexdigest()[:32]

    def _path(self, seed: int, exercise: str) -> Path:
        return cache_dir() / f"{exercise}-{seed}-{self.key}.json"

    def load(self, seed: int, exercise: str, job: Job) -> Outcome | None:
        if not self.enabled:
            return None
        path = self._path(seed, exercise)
        try:
            if not (_private(path.parent) and _private(path)):
                return None
            data = json.loads(path.read_text())
            if not isinstance(data["frames"], list):
                return None
            frames = [decode_frame(frame) for frame in data["frames"]]
        except (OSError, ValueError, KeyError, TypeError):  # MalformedFrame is a ValueError
            return None
        outcome = Outcome(job, frames=frames)
        return outcome if outcome.finished else None

    def store(self, seed: int, exercise: str, outcome: Outcome) -> None:
        """Keep a reference outcome that finished cleanly (never a timeout or a crash)."""
        if not self.enabled or not outcome.finished or outcome.timed_out or outcome.exit \
                or outcome.bad_channel:
            return
        frames = [frame.to_json() for frame in outcome.frames]
        path = self._path(seed, exercise)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not _private(path.parent):
                return
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w") as file:
                json.dump({"frames": frames}, file, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only home: no cache, no harm


def _private(path: Path) -> bool:
    """Whether only this user can have written `path`: its owner, and writable by no one
    else. A reference file is trusted as the answer key, and its name can be worked out
    from the kit: a cache folder others may write in (GRADER_CACHE_DIR=/tmp/..., a course
    folder shared with students) let a student plant their own outputs as the reference
    (their wrong answers passed, a classmate's right ones failed). Such a folder is not
    used. Raises OSError where `path` cannot be looked at."""
    if not hasattr(os, "getuid"):   # Windows: the folder's ACL is the user's concern
        return True
    status = path.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
