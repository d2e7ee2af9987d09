"""Results as frozen dataclasses: plain data that crosses process boundaries as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

STATUSES = ("passed", "failed", "error", "timeout", "skipped")


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: status, points earned and feedback for the student."""

    name: str
    status: str
    score: float
    max_score: float
    feedback: str = ""
    misconception: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if data["misconception"] is None:
            del data["misconception"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{k: data[k] for k in ("name", "status", "score", "max_score")},
                   feedback=data.get("feedback", ""), misconception=data.get("misconception"))


@dataclass(frozen=True)
class ExerciseResult:
    """All checks of one exercise, with exercise-level notes (missing file, load errors, output)."""

    name: str
    title: str
    checks: tuple[CheckResult, ...]
    summary: str = ""
    hint: str = ""
    output: str = ""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks if c.status != "skipped"), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks if c.status != "skipped"), 6)

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "title": self.title,
                                "score": self.score, "max_score": self.max_score,
                                "checks": [c.to_json() for c in self.checks]}
        for key in ("summary", "hint", "output"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExerciseResult:
        return cls(name=data["name"], title=data.get("title", data["name"]),
                   checks=tuple(CheckResult.from_json(c) for c in data["checks"]),
                   summary=data.get("summary", ""), hint=data.get("hint", ""),
                   output=data.get("output", ""))


@dataclass(frozen=True)
class Report:
    """One submission's report; `id` names the student in a batch."""

    exercises: tuple[ExerciseResult, ...]
    id: str | None = None
    seed: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: What confinement held for the workers ({"filesystem": "landlock", ...}).
    sandbox: Mapping[str, str] | None = None
    #: When the report shows part of the course (--only, one file): the whole course's
    #: standing, {"score", "max_score", "next"} ("next" is None when all is complete).
    course: Mapping[str, Any] | None = None

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)

    @property
    def full_marks(self) -> bool:
        return all(e.full_marks for e in self.exercises)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        data.update(score=self.score, max_score=self.max_score)
        if self.seed is not None:
            data["seed"] = self.seed
        if self.notes:
            data["notes"] = list(self.notes)
        data["exercises"] = [e.to_json() for e in self.exercises]
        if self.course:
            data["course"] = dict(self.course)
        if self.sandbox:
            data["sandbox"] = dict(self.sandbox)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        return cls(exercises=tuple(ExerciseResult.from_json(e) for e in data["exercises"]),
                   id=data.get("id"), seed=data.get("seed"), notes=tuple(data.get("notes", ())),
                   sandbox=data.get("sandbox"), course=data.get("course"))
