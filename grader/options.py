"""How a grader is asked to grade: the command line's choices, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.protocol import Limits

DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Options:
    seed: int = DEFAULT_SEED
    lang: str = "en"
    hints: bool | str = False     # --hints: False (level 1), "next" or "all"
    only: tuple[str, ...] = ()
    jobs: int = 2
    limits: Limits = field(default_factory=Limits)
    timeout_given: bool = False   # --timeout overrides each exercise's own timeout
    #: Seconds for a notebook's top-level code, run once per submission (--notebook-timeout)
    notebook_timeout: float = 120.0
