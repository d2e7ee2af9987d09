"""A batch's progress on stderr: a bar on a terminal, plain lines elsewhere.

On a terminal (tqdm draws it): `[37/400] 9.30/s, ETA 00:45, last: alice, bob, 김민준`,
the last few ids graded at the end. Into a file or a pipe (CI logs): one line per
submission as it finishes, `[37/400] graded alice: 62/65`, which stays readable.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import TextIO

from tqdm import tqdm

from grader.model import Report
from grader.reporters._text import clean

#: How many of the last graded ids the bar shows.
RECENT = 3
BAR_FORMAT = "[{n_fmt}/{total_fmt}] {rate_noinv_fmt}, ETA {remaining}{postfix}"
#: The size used when the terminal does not say its own (a pseudo-terminal of size 0).
FALLBACK_COLUMNS, FALLBACK_ROWS = 100, 24


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def _score(value: float) -> str:
    return f"{value:g}"


class Progress:
    """Say each graded submission; `close()` when the batch is done."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = 0
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.bar = None
        if self.stream.isatty():
            # a terminal that says its size is followed as it resizes; for one that does
            # not (size 0), tqdm would draw nothing at all
            sized = _columns(self.stream) > 0
            self.bar = tqdm(total=total, file=self.stream, bar_format=BAR_FORMAT, unit="",
                            dynamic_ncols=sized, ncols=None if sized else FALLBACK_COLUMNS,
                            nrows=None if sized else FALLBACK_ROWS,
                            mininterval=0.2, leave=True)

    def graded(self, report: Report) -> None:
        self.done += 1
        name = " ".join(clean(report.id or "").split())  # one line: a name may hold "\n"
        if self.bar is None:
            print(f"[{self.done}/{self.total}] graded {name}: "
                  f"{_score(report.score)}/{_score(report.max_score)}",
                  file=self.stream, flush=True)
            return
        self.recent.append(name[:24])
        self.bar.set_postfix_str("last: " + ", ".join(self.recent), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
