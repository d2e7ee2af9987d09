"""How a grader is asked to grade: the command line's choices, in one frozen value."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from grader.protocol import Limits

DEFAULT_SEED = 1234
#: The sandbox's backends: "fork" (Linux: workers forked from a warm zygote) and "spawn"
#: (any system: each job in a fresh interpreter, started ahead of need).
BACKENDS = ("fork", "spawn")
BACKEND_ENV = "GRADER_BACKEND"


def default_backend() -> str:
    """GRADER_BACKEND where it names one, else fork on Linux and spawn elsewhere."""
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower()
    if chosen in BACKENDS:
        return chosen
    return "fork" if sys.platform.startswith("linux") else "spawn"


def choose_backend(chosen: str | None = None) -> str:
    """--backend, else GRADER_BACKEND, else the system's default. ValueError, saying why,
    for a name that is no backend, or for fork off Linux."""
    if chosen is None:
        named = os.environ.get(BACKEND_ENV, "").strip().lower()
        if named and named not in BACKENDS:
            raise ValueError(f"{BACKEND_ENV}={named}: the backends are {', '.join(BACKENDS)}")
        chosen = default_backend()
    if chosen not in BACKENDS:
        raise ValueError(f"no backend {chosen!r}: the backends are {', '.join(BACKENDS)}")
    if chosen == "fork" and not sys.platform.startswith("linux"):
        raise ValueError("the fork backend needs Linux: use --backend spawn here")
    return chosen


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
    #: The sandbox's backend (--backend, GRADER_BACKEND): "fork" or "spawn"
    backend: str = field(default_factory=default_backend)
