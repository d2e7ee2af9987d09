"""How an exercise is declared: names, points, probes, judges, misconceptions, hints.

A *probe* runs in the untrusted worker: it calls the student's code on inputs
the grader chose and returns raw outputs (plain data, arrays, tensors).
A *judge* runs in the grader: it compares those outputs with the reference's
outputs for the same probe and returns a `Verdict`.
A *misconception* names a typical wrong idea. It is recognised on outputs,
never on source text: either a `mutant` (a small buggy version of the
reference; the student matches it when the check's own judge would pass
with the mutant's output taken as the reference) or a `detect` predicate.

Every message is a key into the exercise's catalogue (the `texts/` folder of its
package, one JSON file per language, see `grader.i18n`); `Text` carries the key
and its parameters until the report is rendered in the student's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from grader import i18n
from grader.i18n import Catalog, Text, t

__all__ = ["Check", "Exercise", "JudgeContext", "Misconception", "Skip", "Text", "Verdict",
           "failed", "passed", "probe_seed", "t"]


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
    #: A function, or the name of one in the exercise's `mutants` module (reference worker).
    mutant: Callable[[Mapping[str, Any]], Mapping[str, Any]] | str | None = None
    detect: Callable[[JudgeContext], bool] | None = None


@dataclass
class Exercise:
    """Everything about one exercise; registered with the grader through a plugin."""

    name: str
    names: tuple[str, ...]
    make_inputs: Callable[[int], dict[str, np.ndarray]]
    #: The folder of the exercise's catalogues (`<lang>.json`: messages, `title`, `hint.N`).
    texts: str | Path | None = None
    #: Texts given inline instead ({key: {lang: template}}), for small plugins.
    messages: Catalog = field(default_factory=dict)
    title: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    timeout: float | None = None
    probes: dict[str, ProbeFn] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    misconceptions: list[Misconception] = field(default_factory=list)
    #: Worker-side code, imported only in the sandbox's processes (never in the grader's):
    #: the module of the probes (by the names the checks give) and of the mutants.
    probe_module: str | None = None
    mutant_module: str | None = None
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
            if probe not in self.probes and self.probe_module is None:
                raise ValueError(f"{self.name}: check uses unknown probe {probe!r}")
            self.checks.append(Check(name or judge.__name__, float(points), probe, judge,
                                     needs_cuda))
            return judge
        return register

    def misconception(self, key: str, *, checks: Iterable[str],
                      detect: Callable[[JudgeContext], bool] | None = None,
                      mutant: str | None = None) -> Callable[[Callable], Callable]:
        """Declare a misconception: decorate its mutant, or name it in the exercise's
        `mutants` module (mutant="name"), or give detect= and decorate nothing."""
        def register(function: Callable | str | None) -> Callable | str | None:
            self.misconceptions.append(Misconception(key, tuple(checks), function, detect))
            return function
        if detect is not None or mutant is not None:
            register(mutant)
            return lambda fn: fn
        return register

    # -- in a worker -------------------------------------------------------
    def load_worker_code(self) -> None:
        """Import the probes and mutants named by module (in the sandbox, never in the
        grader: they may import torch, and the mutants hold near-answers)."""
        if self.probe_module is not None:
            module = import_module(self.probe_module)
            # in the module's order, as decorated probes were: a slow probe is put last on
            # purpose (the others give their results before it can run out of time)
            order = {name: index for index, name in enumerate(vars(module))}
            wanted = {c.probe for c in self.checks} - set(self.probes)
            for name in sorted(wanted, key=lambda n: (order.get(n, len(order)), n)):
                self.probes[name] = getattr(module, name)
        if self.mutant_module is not None:
            module = import_module(self.mutant_module)
            self.misconceptions[:] = [
                replace(m, mutant=getattr(module, m.mutant)) if isinstance(m.mutant, str) else m
                for m in self.misconceptions]

    def worker_modules(self) -> tuple[str, ...]:
        return tuple(m for m in (self.probe_module, self.mutant_module) if m)

    # -- reading ---------------------------------------------------------
    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def catalogue(self) -> i18n.Catalogue:
        inline = dict(self.messages)
        if self.title:
            inline["title"] = self.title
        for lang, levels in self.hints.items():
            for number, level in enumerate(levels, 1):
                inline.setdefault(f"hint.{number}", {})[lang] = level
        return i18n.catalogue(self.name, self.texts, inline)

    def texts_by_key(self) -> dict[str, dict[str, str]]:
        """Every text this exercise's feedback can use: its own, then shared, then core."""
        merged: dict[str, dict[str, str]] = {}
        for catalogue in (i18n.core(), i18n.shared(), self.catalogue):
            merged.update(catalogue.by_key())
        return merged

    def title_in(self, lang: str) -> str:
        catalogue = self.catalogue
        return catalogue.lookup("title", lang) or catalogue.lookup("title", "en") or self.name

    def hint_levels(self, lang: str) -> tuple[str, ...]:
        catalogue = self.catalogue
        use = lang if catalogue.lookup("hint.1", lang) else "en"
        levels = []
        while (level := catalogue.lookup(f"hint.{len(levels) + 1}", use)) is not None:
            levels.append(level)
        return tuple(levels)

    def probes_for(self, check_names: Iterable[str]) -> list[str]:
        wanted = set(check_names)
        return sorted({c.probe for c in self.checks if c.name in wanted})


def probe_seed(seed: int, probe_name: str) -> int:
    """A seed per probe, so that probes do not depend on each other's order."""
    return (seed * 1_000_003 + sum(map(ord, probe_name)) * 7919) % (2**31 - 1)
