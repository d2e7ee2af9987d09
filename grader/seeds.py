"""`--student-seeds`: a grading seed per student, derived from a course key and the id.

Each student of a batch is graded on their own data: the seed is an HMAC-SHA256 of the
student's id under the staff's key, so the same key and id always give the same seed
(a regrade reproduces the grade), while a student who learns their own seed still
cannot work out a classmate's without the key. The key is read from a file
(`--student-seeds @FILE`) or the environment (`GRADER_STUDENT_SEEDS_KEY`, with a bare
`--student-seeds`), so that it stays out of shell history and `ps`; `--student-seeds
KEY` works too. A seed made this way is never shown: the report has no `seed`, and a
text that happens to quote it (a submission that prints `torch.initial_seed()`) has it
replaced by "…". Runs in the grader.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping

from grader.model import Report

KEY_ENV = "GRADER_STUDENT_SEEDS_KEY"
#: The shortest key accepted: a shorter one could be found by trying keys against a
#: seed a student got out of the sandbox (printed, say, in a roundabout way).
MIN_KEY_BYTES = 16
#: Keeps these seeds apart from any other use of the same key.
_DOMAIN = b"torchkit-seed\0"
#: A seed this short is not scrubbed from texts (its digits are common in other numbers).
_SCRUB_DIGITS = 4


class BadKey(ValueError):
    """No usable key: missing, unreadable or too short (a usage error: exit 2)."""


def student_seed(key: bytes, student_id: str) -> int:
    """The grading seed of `student_id` under `key`: 0 <= seed < 2**32.

    The first four bytes of HMAC-SHA256(key, "torchkit-seed\\0" + id), big-endian. The id
    is taken in Unicode NFC, so that a name unpacked from a macOS zip (NFD) gets the same
    seed as the same name typed elsewhere; a folder name that is not UTF-8 counts by its
    bytes (Python's surrogate escapes)."""
    normal = unicodedata.normalize("NFC", student_id)
    message = _DOMAIN + normal.encode("utf-8", "surrogateescape")
    return int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:4], "big")


def student_seeds(key: bytes, ids: Iterable[str]) -> dict[str, int]:
    """Every id's seed under `key`."""
    return {student_id: student_seed(key, student_id) for student_id in ids}


def read_key(given: str | None, environ: Mapping[str, str] = os.environ) -> bytes:
    """The key of `--student-seeds`: `@FILE` (its bytes, less one trailing newline), the
    key itself, or, for a bare `--student-seeds` (`given` None), the environment's."""
    if given is None:
        if not environ.get(KEY_ENV):
            raise BadKey(f"--student-seeds without a KEY reads it from {KEY_ENV}, "
                            "which is not set")
        key = environ[KEY_ENV].encode("utf-8", "surrogateescape")
    elif given.startswith("@"):
        try:
            key = Path(given[1:]).read_bytes()
        except OSError as exc:
            raise BadKey(f"--student-seeds {given}: cannot read the key "
                            f"({exc.strerror or exc})") from None
        key = key[:-2] if key.endswith(b"\r\n") else key[:-1] if key.endswith(b"\n") else key
    else:
        key = given.encode("utf-8", "surrogateescape")
    if len(key) < MIN_KEY_BYTES:
        raise BadKey(f"--student-seeds: the key has {len(key)} bytes; it needs at least "
                        f"{MIN_KEY_BYTES} (make one with: openssl rand -hex 32 > seeds.key)")
    return key


def without_seed(report: Report, seed: int) -> Report:
    """`report` with no seed: none in its `seed` field, none quoted in its texts."""
    if len(str(seed)) < _SCRUB_DIGITS:
        return replace(report, seed=None)
    pattern = re.compile(rf"(?<![\d.]){seed}(?!\d)")

    def scrub(text: str) -> str:
        return pattern.sub("…", text) if text else text

    exercises = tuple(
        replace(e, summary=scrub(e.summary), hint=scrub(e.hint), output=scrub(e.output),
                checks=tuple(replace(c, feedback=scrub(c.feedback)) for c in e.checks))
        for e in report.exercises)
    return replace(report, seed=None, exercises=exercises,
                   notes=tuple(scrub(note) for note in report.notes))
