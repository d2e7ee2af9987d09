"""The worker protocol (grader/protocol.py): every frame a worker sends reads back as the
same frame; anything else a submission could write is refused with a reason, and never
raises anything but MalformedFrame."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from grader import codec
from grader.protocol import (FRAME_KEYS, HEADER, CellFrame, Confinement, DoneFrame, ErrorInfo,
                             FatalFrame, Job, JobModule, JobSource, Limits, LoadedFrame,
                             MalformedFrame, ProbeFrame, ViolationFrame, WhereFrame,
                             decode_frame, encode_frame)

ERROR = ErrorInfo("ValueError", "bad value", file="/s/e01.py", line=3, text="x = f()",
                  function="f", traceback="Traceback ...")
FRAMES = [
    LoadedFrame(None, (ErrorInfo("NameError", "y", cell=2),), ("numpy_train",)),
    LoadedFrame(ErrorInfo("SyntaxError", "invalid syntax", file="/s/e01.py", line=1,
                          text="def f(:\n    ^")),
    ProbeFrame("forward", None, result=codec.to_plain({"y": np.arange(6.0).reshape(2, 3)})),
    ProbeFrame("forward", "wrong_sign", result=None),
    ProbeFrame("forward", error=ERROR),
    ProbeFrame("forward", missing="'MyReLU'"),
    ProbeFrame("cuda", skip="no CUDA device"),
    CellFrame(4),
    WhereFrame(),
    WhereFrame("/s/e01.py", 12, "numpy_train", "while True:"),
    ViolationFrame("import solutions.e01_numpy_grads"),
    DoneFrame(),
    FatalFrame("Traceback (most recent call last): ..."),
]


def _wire(frame) -> object:
    raw = encode_frame(frame)
    (size,) = HEADER.unpack_from(raw)
    assert size == len(raw) - HEADER.size
    return json.loads(raw[HEADER.size:])


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f.kind}")
def test_every_frame_reads_back_as_itself(frame):
    data = _wire(frame)
    assert list(data)[0] == "kind" and set(data) <= FRAME_KEYS
    assert decode_frame(data) == frame


def test_a_probe_result_is_decoded_once_and_read_only():
    frame = decode_frame(_wire(FRAMES[2]))
    assert frame.returned and frame.value is frame.value
    assert not frame.value["y"].flags.writeable
    assert not ProbeFrame("p", skip="").returned


@pytest.mark.parametrize("data, reason", [
    (None, "not an object"),
    ([{"kind": "done"}], "not an object"),
    ({"kind": "verdict", "passed": True}, "no frame is of kind"),
    ({"kind": ["probe"]}, "no frame is of kind"),
    ({"kind": "done", "probe": "forward"}, "unknown keys"),
    ({"kind": "where", "file": "", "line": 0, "function": "", "text": "", "pad": "x"},
     "unknown keys"),
    ({"kind": "probe", "probe": "forward", "variant": None}, "one of result"),
    ({"kind": "probe", "probe": "forward", "result": 1, "error": {"type": "E"}}, "one of"),
    ({"kind": "probe", "probe": 3, "result": 1}, "names no probe"),
    ({"kind": "probe", "probe": "forward", "variant": 1, "result": 1}, "variant"),
    ({"kind": "probe", "probe": "forward", "missing": 5}, "missing is not text"),
    ({"kind": "probe", "probe": "forward", "error": {"message": "no type"}}, "no type"),
    ({"kind": "probe", "probe": "forward", "error": {"type": "E", "line": "3"}}, "line"),
    ({"kind": "probe", "probe": "forward", "error": {"type": "E", "secret": 1}}, "unknown"),
    ({"kind": "loaded", "load_error": None, "cell_errors": {}, "missing": []}, "cell_errors"),
    ({"kind": "loaded", "load_error": None, "cell_errors": [], "missing": [1]}, "missing"),
    ({"kind": "loaded", "load_error": "boom", "cell_errors": [], "missing": []}, "object"),
    ({"kind": "cell", "cell": True}, "not a number"),
    ({"kind": "where", "file": "", "line": 0, "function": ""}, "text is not text"),
    ({"kind": "violation"}, "what is not text"),
    ({"kind": "fatal", "error": {"type": "E"}}, "error is not text"),
])
def test_a_malformed_frame_is_refused_with_a_reason(data, reason):
    with pytest.raises(MalformedFrame, match=reason):
        decode_frame(data)


def _mutations(value, rng: random.Random):
    """Small random changes of a frame's JSON: keys dropped or added, values swapped."""
    odd = [None, True, 0, -1, 2.5, "", "x", [], [1, "a"], {}, {"type": 1}, {"kind": "done"}]
    if isinstance(value, dict):
        value = dict(value)
        key = rng.choice([*value, "pad", "kind", "result", "error", "cell"])
        action = rng.random()
        if action < 0.3 and key in value:
            del value[key]
        elif action < 0.6 and key in value:
            value[key] = _mutations(value[key], rng)
        else:
            value[key] = rng.choice(odd)
        return value
    if isinstance(value, list) and value and rng.random() < 0.5:
        index = rng.randrange(len(value))
        return [*value[:index], _mutations(value[index], rng), *value[index + 1:]]
    return rng.choice(odd)


def test_nothing_a_worker_writes_crashes_the_decoder():
    rng = random.Random(11)
    for _ in range(3000):
        data = _wire(rng.choice(FRAMES))
        for _ in range(rng.randint(1, 3)):
            data = _mutations(data, rng)
        try:
            frame = decode_frame(data)
        except MalformedFrame:
            continue
        assert decode_frame(_wire(frame)) == frame   # what is accepted is a real frame


def test_a_job_travels_whole():
    job = Job(role="student", seed=7, exercise="e04_my_relu",
              sources=(JobSource("/s/e04_my_relu.py", "module", "e04_my_relu", "x = 1\n"),
                       JobSource("/s/nb.ipynb", "notebook", "nb", cells=((1, "y = 2"),))),
              modules={"helpers": JobModule("/s/helpers.py", "z = 3\n")},
              search_path=("/s",), forbidden=("/kit/solutions",), workdir="/tmp/job-1",
              index=3, inputs=codec.to_plain({"x": np.ones(2)}), violation="open /x",
              exercises=("e04_my_relu",), notebook="/s/nb.ipynb", limits=Limits(5.0),
              confinement=Confinement({"network": "isolated"}, ("/kit/solutions",)))
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job
