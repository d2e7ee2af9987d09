"""Plain-data codec for probe outputs: JSON with arrays as raw bytes.

The worker runs untrusted code, so what it sends must never be able to run
code in the grader: no pickle, only JSON and `numpy.frombuffer` on known dtypes.
Tensors arrive as `TensorData` (their values as a NumPy array plus the facts
a judge needs: dtype, device, requires_grad, whether a graph hangs on them).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
           "complex64", "complex128"}
MAX_ARRAY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TensorData:
    """A torch tensor as data: values and the attributes judges look at."""

    array: np.ndarray
    dtype: str
    device: str
    requires_grad: bool = False
    has_grad_fn: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


@dataclass(frozen=True)
class Opaque:
    """Something that is not plain data (a module, a generator...): its type and repr only."""

    type_name: str
    text: str


def _encode_array(arr: np.ndarray) -> dict[str, Any]:
    arr = np.ascontiguousarray(arr).reshape(arr.shape)  # ascontiguousarray makes 0-d 1-d
    if arr.dtype.name not in _DTYPES:
        arr = arr.astype(np.float64)
    if arr.nbytes > MAX_ARRAY_BYTES:
        raise ValueError(f"array of {arr.nbytes} bytes is too large to send")
    return {"dtype": arr.dtype.name, "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def _decode_array(obj: dict[str, Any]) -> np.ndarray:
    dtype = obj["dtype"]
    if dtype not in _DTYPES:
        raise ValueError(f"unexpected dtype {dtype!r}")
    shape = tuple(int(n) for n in obj["shape"])
    raw = base64.b64decode(obj["data"])
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _float(x: float) -> Any:
    # JSON has no NaN/inf; keep them as tagged strings.
    return x if math.isfinite(x) else {"__float__": repr(float(x))}  # np.float64 too


def to_plain(value: Any, depth: int = 0) -> Any:
    """Encode a probe result into JSON-able data (runs in the worker)."""
    if depth > 20:
        return {"__opaque__": ["nested", "too deeply nested"]}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else float(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, np.ndarray):
        return {"__ndarray__": _encode_array(value)}
    if isinstance(value, np.generic):
        if isinstance(value, (np.floating, np.integer, np.bool_)):
            return {"__npscalar__": [value.dtype.name, _float(float(value))]}
    torch = _torch_if_loaded()
    if torch is not None and isinstance(value, torch.Tensor):
        detached = value.detach()
        if detached.is_complex() or detached.dtype in (torch.bfloat16,):
            detached = detached.to(torch.float64)
        return {"__tensor__": {**_encode_array(detached.cpu().numpy()),
                               "torch_dtype": str(value.dtype).replace("torch.", ""),
                               "device": str(value.device),
                               "requires_grad": bool(value.requires_grad),
                               "has_grad_fn": value.grad_fn is not None}}
    if isinstance(value, dict):
        return {"__dict__": [[str(k), to_plain(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"__seq__": [type(value).__name__ if type(value) in (list, tuple) else "list",
                            [to_plain(v, depth + 1) for v in value]]}
    try:
        text = repr(value)[:200]
    except Exception:  # a hostile __repr__
        text = "<unrepresentable>"
    return {"__opaque__": [type(value).__name__, text]}


def from_plain(data: Any) -> Any:
    """Decode what `to_plain` made (runs in the grader; trusts nothing)."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_plain(v) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("malformed probe data")
    (tag, body), = data.items()
    if tag == "__float__":
        return float(body)
    if tag == "__ndarray__":
        return _decode_array(body)
    if tag == "__npscalar__":
        dtype, number = body
        if dtype not in _DTYPES:
            raise ValueError(f"unexpected dtype {dtype!r}")
        return np.dtype(dtype).type(from_plain(number))
    if tag == "__tensor__":
        return TensorData(array=_decode_array(body), dtype=str(body["torch_dtype"]),
                          device=str(body["device"]), requires_grad=bool(body["requires_grad"]),
                          has_grad_fn=bool(body["has_grad_fn"]))
    if tag == "__dict__":
        return {str(k): from_plain(v) for k, v in body}
    if tag == "__seq__":
        kind, items = body
        values = [from_plain(v) for v in items]
        return tuple(values) if kind == "tuple" else values
    if tag == "__opaque__":
        return Opaque(str(body[0]), str(body[1]))
    raise ValueError(f"unknown tag {tag!r}")


def dumps(value: Any) -> bytes:
    return json.dumps(to_plain(value), separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    return from_plain(json.loads(raw))


#: id(data) -> (data, its JSON): the object is held, so its id is not reused while here;
#: a few seeds' worth of inputs (10 exercises a seed), the oldest dropped first.
_JSON_OF: dict[int, tuple[Any, bytes]] = {}
_JSON_KEPT = 32


def plain_json(data: Any) -> bytes:
    """`json.dumps(data)` of plain data that is not changed after (a job's inputs, shared
    by every student on a seed), made once per object."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return json.dumps(data).encode()
    held = _JSON_OF.get(id(data))
    if held is None or held[0] is not data:
        if len(_JSON_OF) >= _JSON_KEPT:
            del _JSON_OF[next(iter(_JSON_OF))]
        held = _JSON_OF[id(data)] = (data, json.dumps(data).encode())
    return held[1]


def _torch_if_loaded():
    import sys
    return sys.modules.get("torch")
