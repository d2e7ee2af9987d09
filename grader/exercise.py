"""How an exercise is declared: names, points, probes, judges, misconceptions, hints.

A *probe* runs in the untrusted worker: it calls the student's code on inputs
the grader chose and returns raw outputs (plain data, arrays, tensors).
A *judge* runs in the grader: it compares those outputs with the reference's
outputs for the same probe and returns a `Verdict`.
A *misconception* names a typical wrong idea. It is recognised on outputs,
never on source text: either a `mutant` (a small buggy version of the
reference; the student matches it when the check's own judge would pass
with the mutant's output taken as the reference) or a `detect` predicate.

Every message is a key into the exercise's catalogue (`messages`), with an
English and a Korean text; `Text` carries the key and its parameters until
the report is rendered in the student's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

Catalog = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Text:
    """A message key and its parameters, rendered later in the report's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:  # in an f-string: English
        from grader.messages import render

        return render(self, "en", [])


def t(key: str, /, **params: Any) -> Text:
    return Text(key, params)


@dataclass(frozen=True)
class Verdict:
    """What a judge decides: the fraction of the check's points earned and why."""

    fraction: float
    lines: tuple[Text | str, ...] = ()
    misconception: str | None = None

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0


def passed(*lines: Text | str) -> Verdict:
    return Verdict(1.0, tuple(lines))


def failed(*lines: Text | str, fraction: float = 0.0, misconception: str | None = None) -> Verdict:
    return Verdict(min(max(fraction, 0.0), 0.999), tuple(lines), misconception)


class Skip(Exception):
    """Raised by a probe when the check cannot run here (no CUDA device, say)."""


@dataclass
class JudgeContext:
    """What a judge sees: the student's probe output, the reference's, and the inputs."""

    out: Any
    ref: Any
    inputs: Mapping[str, np.ndarray]
    seed: int


Judge = Callable[[JudgeContext], Verdict]
ProbeFn = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Check:
    name: str
    points: float
    probe: str
    judge: Judge
    needs_cuda: bool = False


@dataclass(frozen=True)
class Misconception:
    key: str
    checks: tuple[str, ...]
    mutant: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    detect: Callable[[JudgeContext], bool] | None = None


@dataclass
class Exercise:
    """Everything about one exercise; registered with the grader through a plugin."""

    name: str
    title: Mapping[str, str]
    names: tuple[str, ...]
    make_inputs: Callable[[int], dict[str, np.ndarray]]
    messages: Catalog = field(default_factory=dict)
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    timeout: float | None = None
    probes: dict[str, ProbeFn] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    misconceptions: list[Misconception] = field(default_factory=list)
    #: The reference for an exercise that is not in the kit's `solutions/` (an exercise
    #: pack): a .py file named after the exercise, or a directory holding one.
    solution: str | None = None

    # -- declaring -------------------------------------------------------
    def probe(self, fn: ProbeFn) -> ProbeFn:
        self.probes[fn.__name__] = fn
        return fn

    def check(self, *, points: float, probe: str, name: str | None = None,
              needs_cuda: bool = False) -> Callable[[Judge], Judge]:
        def register(judge: Judge) -> Judge:
            if probe not in self.probes:
                raise ValueError(f"{self.name}: check uses unknown probe {probe!r}")
            self.checks.append(Check(name or judge.__name__, float(points), probe, judge,
                                     needs_cuda))
            return judge
        return register

    def misconception(self, key: str, *, checks: Iterable[str],
                      detect: Callable[[JudgeContext], bool] | None = None
                      ) -> Callable[[Callable], Callable]:
        """Declare a misconception; decorate either its mutant or (with detect=) nothing."""
        def register(mutant: Callable | None) -> Callable | None:
            self.misconceptions.append(Misconception(key, tuple(checks), mutant, detect))
            return mutant
        if detect is not None:
            register(None)
            return lambda fn: fn
        return register

    # -- reading ---------------------------------------------------------
    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.name

    def hint_levels(self, lang: str) -> tuple[str, ...]:
        return tuple(self.hints.get(lang) or self.hints.get("en") or ())

    def probes_for(self, check_names: Iterable[str]) -> list[str]:
        wanted = set(check_names)
        return sorted({c.probe for c in self.checks if c.name in wanted})


def probe_seed(seed: int, probe_name: str) -> int:
    """A seed per probe, so that probes do not depend on each other's order."""
    return (seed * 1_000_003 + sum(map(ord, probe_name)) * 7919) % (2**31 - 1)
