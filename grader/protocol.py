"""What the grader and its workers say to each other: the job, and the frames sent back.

The grader makes a `Job` (trusted) and the sandbox hands it to a worker as JSON. The
worker runs a submission, so everything it sends is untrusted: frames travel on a
private channel as length-prefixed JSON (`encode_frame`; no pickle) and are read back
by `decode_frame`, the one place that decides what a well-formed frame is. Anything
else is rejected with a `MalformedFrame` that says why, never a crash of the grader.

Frames, in the order a worker sends them:

    violation  the guard saw the submission reach for a reference (import, read)
    cell       a notebook cell starts (so that a timeout can name it)
    where      where the student's code was, shortly before the deadline
    loaded     the submission has run: its load error, cell errors, missing names
    probe      one probe's raw outputs (or its error, a missing name, a skip)
    done       every probe has run
    fatal      the worker itself failed (a traceback of the grader's code)
"""

from __future__ import annotations

import functools
import json
import struct
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping, Union

import numpy as np

from grader import codec

#: Each frame on the result channel: its length (4 bytes, network order), then its JSON.
HEADER = struct.Struct("!I")
MAX_RESULT_BYTES = 64 * 1024 * 1024      # all of a job's frames (its outputs are arrays)
#: A frame that is not a probe's result (loaded, cell, where, violation...) is small: a
#: bigger one is tampering (it could only cost the grader memory).
MAX_NOTE_FRAME_BYTES = 1024 * 1024
MAX_NOTE_FRAMES = 10_000
#: How a probe frame's JSON starts (`encode_frame` puts the kind first): the only frame
#: that may be bigger than MAX_NOTE_FRAME_BYTES.
PROBE_PREFIX = b'{"kind":"probe"'
#: What a notebook's worker writes on its output as each cell starts, once the cells before
#: it have flushed what they printed: the grader tells by it which cell printed what. (A
#: notebook that prints one itself only moves its own output elsewhere in its report.)
CELL_MARK = "\x00torchkit cell {cell}\x00\n"


class MalformedFrame(ValueError):
    """A frame that no worker of this grader sends; the message says what is wrong."""


@dataclass(frozen=True)
class Limits:
    """Per-exercise limits for a worker; every one can be set from the command line."""

    timeout: float = 10.0        # seconds of wall clock for loading and all probes of one exercise
    memory_mb: int = 2048        # memory (MB) a worker may allocate on top of the zygote's
    output_kb: int = 32          # captured stdout/stderr kept (head and tail); the rest is counted
    file_mb: int = 256           # largest file a worker may write

    def to_json(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "memory_mb": self.memory_mb,
                "output_kb": self.output_kb, "file_mb": self.file_mb}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Limits:
        return cls(data["timeout"], data["memory_mb"], data["output_kb"], data["file_mb"])


@dataclass(frozen=True)
class JobSource:
    """The file a job grades, as the grader read it: a module's code, or a notebook's cells."""

    path: str
    kind: str                    # "module" or "notebook"
    module_name: str
    code: str = ""
    cells: tuple[tuple[int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind,
                                "module_name": self.module_name}
        if self.kind == "module":
            data["code"] = self.code
        else:
            data["cells"] = [list(cell) for cell in self.cells]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobSource:
        return cls(data["path"], data["kind"], data["module_name"], data.get("code", ""),
                   tuple((number, code) for number, code in data.get("cells", ())))


@dataclass(frozen=True)
class JobModule:
    """Another module of the submission, imported by the one graded."""

    path: str
    code: str


@dataclass(frozen=True)
class Confinement:
    """What the worker applies before the submission runs (`grader.confine`): the layers
    this machine has (`expected`), and the paths a student's worker may not read."""

    expected: Mapping[str, str] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """One worker's job. `mode` is "" (load the source, run one exercise's probes),
    "notebook" (run a notebook's top-level code once, then be the zygote of its
    exercises) or "exercise" (one exercise of that notebook: probes only)."""

    role: str                               # "student" or "reference"
    seed: int
    exercise: str = ""                      # "" for a notebook's own run
    mode: str = ""
    sources: tuple[JobSource, ...] = ()
    modules: Mapping[str, JobModule] = field(default_factory=dict)
    search_path: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()         # reference paths a student may not import or read
    workdir: str = ""
    index: int = -1                         # the submission's place in the batch
    inputs: Any = None                      # the exercise's inputs, as `codec.to_plain` made them
    violation: str = ""                     # copying the grader saw before the job ran
    exercises: tuple[str, ...] = ()         # a notebook's exercises
    notebook: str = ""                      # a notebook's path
    limits: Limits | None = None            # set by the sandbox as it starts the job
    confinement: Confinement | None = None  # likewise

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role, "seed": self.seed, "exercise": self.exercise, "mode": self.mode,
            "sources": [source.to_json() for source in self.sources],
            "modules": {name: {"path": m.path, "code": m.code}
                        for name, m in self.modules.items()},
            "search_path": list(self.search_path), "forbidden": list(self.forbidden),
            "workdir": self.workdir, "index": self.index, "inputs": self.inputs,
            "violation": self.violation, "exercises": list(self.exercises),
            "notebook": self.notebook,
            "limits": None if self.limits is None else self.limits.to_json(),
            "confinement": None if self.confinement is None else {
                "expected": dict(self.confinement.expected),
                "hidden": list(self.confinement.hidden)}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        confinement = data.get("confinement")
        return cls(
            role=data["role"], seed=data["seed"], exercise=data.get("exercise", ""),
            mode=data.get("mode", ""),
            sources=tuple(JobSource.from_json(s) for s in data.get("sources", ())),
            modules={name: JobModule(m["path"], m["code"])
                     for name, m in (data.get("modules") or {}).items()},
            search_path=tuple(data.get("search_path", ())),
            forbidden=tuple(data.get("forbidden", ())), workdir=data.get("workdir", ""),
            index=data.get("index", -1), inputs=data.get("inputs"),
            violation=data.get("violation", ""), exercises=tuple(data.get("exercises", ())),
            notebook=data.get("notebook", ""),
            limits=None if data.get("limits") is None else Limits.from_json(data["limits"]),
            confinement=None if confinement is None else Confinement(
                dict(confinement.get("expected") or {}), tuple(confinement.get("hidden", ()))))


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise MalformedFrame(reason)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_str(value: Any) -> bool:
    return type(value) is str


def _keys(data: Any, what: str, allowed: frozenset[str]) -> None:
    _check(isinstance(data, dict), f"{what} is not an object")
    unknown = sorted(str(key) for key in data.keys() - allowed)
    _check(not unknown, f"{what} has unknown keys: {', '.join(unknown)[:200]}")


# ---------------------------------------------------------------- frames


@dataclass(frozen=True)
class ErrorInfo:
    """An exception as data: type, message, and the student's line where it happened
    (a notebook's cell errors also name the cell)."""

    type: str
    message: str = ""
    file: str | None = None
    line: int | None = None
    text: str | None = None
    function: str | None = None
    traceback: str | None = None
    cell: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, data: Any) -> ErrorInfo:
        _keys(data, "an error", frozenset(f.name for f in fields(cls)))
        _check(_is_str(data.get("type")), "an error has no type")
        _check(_is_str(data.get("message", "")), "an error's message is not text")
        _check(all(data.get(key) is None or _is_str(data[key])
                   for key in ("file", "text", "function", "traceback")),
               "an error's file, text, function or traceback is not text")
        _check(all(data.get(key) is None or _is_int(data[key]) for key in ("line", "cell")),
               "an error's line or cell is not a number")
        return cls(**data)


@dataclass(frozen=True)
class LoadedFrame:
    """The submission has run: what failed (nothing runs after a load error)."""

    load_error: ErrorInfo | None = None
    cell_errors: tuple[ErrorInfo, ...] = ()
    missing: tuple[str, ...] = ()               # public names the exercise needs, not defined

    kind: ClassVar[str] = "loaded"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "load_error": None if self.load_error is None else self.load_error.to_json(),
                "cell_errors": [error.to_json() for error in self.cell_errors],
                "missing": list(self.missing)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoadedFrame:
        cell_errors, missing = data.get("cell_errors"), data.get("missing")
        _check(isinstance(cell_errors, list), "a loaded frame's cell_errors is not a list")
        _check(isinstance(missing, list) and all(_is_str(name) for name in missing),
               "a loaded frame's missing is not a list of names")
        load_error = data.get("load_error")
        return cls(None if load_error is None else ErrorInfo.from_json(load_error),
                   tuple(ErrorInfo.from_json(error) for error in cell_errors), tuple(missing))


@dataclass(frozen=True)
class ProbeFrame:
    """One probe's outputs (`variant`: the misconception whose mutant ran, in a reference
    worker). It holds exactly one of: a result, an error, a missing name, a skip."""

    probe: str
    variant: str | None = None
    result: Any = None                  # plain data, as `codec.to_plain` made it
    error: ErrorInfo | None = None
    missing: str | None = None          # the name the submission does not define
    skip: str | None = None             # why the check cannot run here (no CUDA)

    kind: ClassVar[str] = "probe"
    OUTCOMES: ClassVar[tuple[str, ...]] = ("result", "error", "missing", "skip")

    @property
    def returned(self) -> bool:
        """Whether the probe returned (its result is the outputs to judge)."""
        return self.error is None and self.missing is None and self.skip is None

    @functools.cached_property
    def value(self) -> Any:
        """The result decoded, read-only, once: a reference's frame serves a whole batch.
        Raises ValueError where the data is not what `codec.to_plain` makes."""
        return read_only(codec.from_plain(self.result))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "probe": self.probe, "variant": self.variant}
        if self.error is not None:
            data["error"] = self.error.to_json()
        elif self.missing is not None:
            data["missing"] = self.missing
        elif self.skip is not None:
            data["skip"] = self.skip
        else:
            data["result"] = self.result
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeFrame:
        _check(_is_str(data.get("probe")), "a probe frame names no probe")
        _check(data.get("variant") is None or _is_str(data["variant"]),
               "a probe frame's variant is not text")
        held = [key for key in cls.OUTCOMES if key in data]
        _check(len(held) == 1, "a probe frame holds one of result, error, missing, skip")
        outcome = held[0]
        if outcome == "error":
            return cls(data["probe"], data.get("variant"), error=ErrorInfo.from_json(data["error"]))
        if outcome != "result":
            _check(_is_str(data[outcome]), f"a probe frame's {outcome} is not text")
        return cls(data["probe"], data.get("variant"), **{outcome: data[outcome]})


class _PlainFrame:
    """A frame whose fields are all required numbers or text: checked by their types."""

    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in fields(self)}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        for f in fields(cls):
            test, what = (_is_int, "a number") if f.type == "int" else (_is_str, "text")
            _check(test(data.get(f.name)), f"a {cls.kind} frame's {f.name} is not {what}")
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class CellFrame(_PlainFrame):
    """A notebook cell starts running."""

    cell: int
    kind: ClassVar[str] = "cell"


@dataclass(frozen=True)
class WhereFrame(_PlainFrame):
    """Where the student's code was shortly before its deadline (empty: not in its files)."""

    file: str = ""
    line: int = 0
    function: str = ""
    text: str = ""
    kind: ClassVar[str] = "where"


@dataclass(frozen=True)
class ViolationFrame(_PlainFrame):
    """The submission reached for a reference: "import solutions.x", "open PATH", "use X"."""

    what: str
    kind: ClassVar[str] = "violation"


@dataclass(frozen=True)
class DoneFrame(_PlainFrame):
    """Every probe has run."""

    kind: ClassVar[str] = "done"


@dataclass(frozen=True)
class FatalFrame(_PlainFrame):
    """The worker's own code failed (its traceback, for the staff)."""

    error: str
    kind: ClassVar[str] = "fatal"


Frame = Union[LoadedFrame, ProbeFrame, CellFrame, WhereFrame, ViolationFrame, DoneFrame,
              FatalFrame]
FRAME_TYPES: dict[str, type] = {kind.kind: kind for kind in (
    LoadedFrame, ProbeFrame, CellFrame, WhereFrame, ViolationFrame, DoneFrame, FatalFrame)}
#: The keys each kind of frame may hold: a frame with any other is tampering.
KEYS_OF = {kind: frozenset({"kind", *(f.name for f in fields(frame_type))})
           for kind, frame_type in FRAME_TYPES.items()}
FRAME_KEYS = frozenset().union(*KEYS_OF.values())


def decode_frame(data: Any) -> Frame:
    """The frame that JSON `data` (from an untrusted worker) is; MalformedFrame if none."""
    _check(isinstance(data, dict), "a frame is not an object")
    kind = data.get("kind")
    frame_type = FRAME_TYPES.get(kind) if isinstance(kind, str) else None
    _check(frame_type is not None, f"no frame is of kind {str(kind)[:50]!r}")
    _keys(data, f"a {kind} frame", KEYS_OF[kind])
    return frame_type.from_json(data)


def encode_frame(frame: Frame) -> bytes:
    """A frame as it goes on the result channel: its length, then its JSON (kind first)."""
    payload = json.dumps(frame.to_json(), separators=(",", ":")).encode()
    return HEADER.pack(len(payload)) + payload


def read_only(value: Any) -> Any:
    """Arrays made read-only: decoded results and inputs are shared by many judges."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, codec.TensorData):
        value.array.flags.writeable = False
    elif isinstance(value, dict):
        for item in value.values():
            read_only(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            read_only(item)
    return value
