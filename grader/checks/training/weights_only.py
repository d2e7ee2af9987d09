"""torch's weights-only unpickler, mirrored without torch (grader process; the reader of
e08's checkpoint files, `checkpoint_file`, uses it).

It reads what plain state dicts need: the same pickle instructions as
torch/_weights_only_unpickler.py (protocol 2, as torch.save writes them), the same allowed
globals (containers, tensor rebuild functions, storage types, dtypes), nothing else. Every
other global, a custom class above all, is refused without being looked up, so nothing in
the file can run. Anything it cannot decode raises `Unreadable` with a sentence that says
why (`Refused` when torch would refuse it too): a verdict, never a crash.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The most elements the decoded tensors may have in all (views may repeat their storage:
#: a stride of 0 makes a tensor of any size from one element).
MAX_ELEMENTS = 4 * 1024 * 1024
MAX_DEPTH = 64


class Unreadable(Exception):
    """The file cannot be read with weights_only=True (or not decoded here); says why."""


class Refused(Unreadable):
    """torch.load(weights_only=True) itself would refuse the file (not only this module)."""


class NotAllowed(Refused):
    """The file names a global that torch's weights-only unpickler refuses."""

    def __init__(self, name: str):
        super().__init__(f"Unsupported global: GLOBAL {name}")
        self.name = name


@dataclass(frozen=True)
class StoredTensor:
    """A tensor as the file holds it: its values, and torch's name for its dtype.
    bfloat16 values come widened to float32 (exactly)."""

    array: np.ndarray
    dtype: str


# ------------------------------------------------------------------ what the pickle may name

#: torch's storage classes: dtype name, NumPy dtype of the raw bytes.
_STORAGES = {
    "FloatStorage": ("float32", "<f4"), "DoubleStorage": ("float64", "<f8"),
    "HalfStorage": ("float16", "<f2"), "BFloat16Storage": ("bfloat16", "<u2"),
    "LongStorage": ("int64", "<i8"), "IntStorage": ("int32", "<i4"),
    "ShortStorage": ("int16", "<i2"), "CharStorage": ("int8", "i1"),
    "ByteStorage": ("uint8", "u1"), "BoolStorage": ("bool", "?"),
    "ComplexFloatStorage": ("complex64", "<c8"), "ComplexDoubleStorage": ("complex128", "<c16"),
    "UntypedStorage": ("uint8", "u1"),
}
_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
           "uint8", "bool", "complex64", "complex128", "float", "double", "half", "long",
           "int", "short", "cfloat", "cdouble")

#: The pickle instructions torch's weights-only unpickler reads; any other one fails there.
_OPCODES = frozenset(
    "GLOBAL NEWOBJ REDUCE BUILD APPEND APPENDS SETITEM SETITEMS MARK TUPLE TUPLE1 TUPLE2 "
    "TUPLE3 NONE NEWFALSE NEWTRUE EMPTY_TUPLE EMPTY_LIST EMPTY_DICT EMPTY_SET BININT "
    "BININT1 BININT2 BINFLOAT BINUNICODE SHORT_BINSTRING BINPERSID BINGET LONG_BINGET BINPUT "
    "LONG_BINPUT LONG1 PROTO STOP".split())


@dataclass(frozen=True)
class _StorageType:
    name: str


class Storage:
    """One storage of the file: its dtype and (once read) its raw bytes."""

    def __init__(self, kind: _StorageType, numel: Any):
        if kind.name not in _STORAGES:
            raise Unreadable(f"a storage of type {kind.name}, which the grader cannot decode")
        if not isinstance(numel, int) or numel < 0:
            raise Unreadable("a storage with an invalid size")
        self.dtype, self.raw_dtype = _STORAGES[kind.name]
        self.numel = numel
        self.data: bytes | None = None
        self.decoded: np.ndarray | None = None

    def values(self, big_endian: bool) -> np.ndarray:
        if self.decoded is None:      # once per storage, however many tensors view it
            self.decoded = self._values(big_endian)
        return self.decoded

    def _values(self, big_endian: bool) -> np.ndarray:
        if self.data is None:
            raise Unreadable("a storage whose data is missing from the file")
        raw = np.dtype(self.raw_dtype)
        if len(self.data) != self.numel * raw.itemsize:
            raise Unreadable("a storage whose data does not have its declared size")
        if big_endian:
            raw = raw.newbyteorder(">")
        array = np.frombuffer(self.data, dtype=raw)
        if self.dtype == "bfloat16":   # the upper half of a float32: widen exactly
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array.astype(array.dtype.newbyteorder("="))


class _PendingTensor:
    """A tensor named in the pickle: decoded once every storage has its bytes."""

    def __init__(self, storage: Any, offset: Any, size: Any, stride: Any):
        if not isinstance(storage, Storage):
            raise Unreadable("a tensor without a storage")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.decoded: StoredTensor | None = None

    def decode(self, big_endian: bool, budget: list[int]) -> StoredTensor:
        if self.decoded is None:     # a tensor named many times (memo) is decoded once
            self.decoded = self._decode(big_endian, budget)
        return self.decoded

    def _decode(self, big_endian: bool, budget: list[int]) -> StoredTensor:
        size, stride, offset = self.size, self.stride, self.offset
        if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
                and all(isinstance(n, int) and n >= 0 for n in size + stride + (offset,))):
            raise Unreadable("a tensor with an invalid shape or stride")
        numel = 1
        for n in size:
            numel *= n
        budget[0] -= numel
        if numel > MAX_ELEMENTS or budget[0] < 0:
            raise Unreadable(f"tensors of more elements than the grader reads ({MAX_ELEMENTS})")
        flat = self.storage.values(big_endian)
        if numel == 0:
            return StoredTensor(np.zeros(size, dtype=flat.dtype), self.storage.dtype)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise Unreadable("a tensor that reaches beyond its storage")
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride],
            writeable=False)
        return StoredTensor(np.array(view), self.storage.dtype)


class _Marker:
    """torch.Tensor / torch.nn.Parameter named as a type (in _rebuild_from_type_v2)."""

    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _PendingTensor(storage, offset, size, stride)


def _rebuild_tensor(storage, offset, size, stride):
    return _PendingTensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    if not (isinstance(new_type, _Marker) or new_type is _Parameter):
        raise Unreadable("a tensor of a subclass the grader cannot decode")
    return func(*args)


def _encode(text, encoding="latin1"):     # how protocol 2 pickles bytes
    if not isinstance(text, str) or encoding != "latin1":
        raise Unreadable("bytes in an encoding the grader cannot decode")
    return text.encode("latin1")


def _size(dims=()):
    if not isinstance(dims, (tuple, list)):
        raise Unreadable("a torch.Size the grader cannot decode")
    return tuple(dims)


def _bytearray(data=b""):
    if not isinstance(data, (bytes, bytearray)):   # bytearray(10**10) would allocate
        raise Unreadable("a bytearray the grader cannot decode")
    return bytearray(data)


def _device(*args):
    return "device(" + ", ".join(map(str, args)) + ")"


class _Parameter(_Marker):
    """torch.nn.Parameter: as a type marker, and (NEWOBJ) as Parameter(data)."""

    def __new__(cls, data=None, requires_grad=True):
        return data


_ALLOWED: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict,
    "collections.Counter": Counter,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Tensor": _Marker("Tensor"),
    "torch.nn.parameter.Parameter": _Parameter,
    "torch.Size": _size,
    "torch.device": _device,
    "_codecs.encode": _encode,
    "builtins.bytearray": _bytearray,
    "builtins.set": set,
    "builtins.complex": complex,
    **{f"torch.{name}": _StorageType(name) for name in _STORAGES},
    "torch.storage.UntypedStorage": _StorageType("UntypedStorage"),
    **{f"torch.{name}": f"torch.{name}" for name in _DTYPES},
}

#: What torch also allows but plain state dicts never hold (quantized, sparse, nested,
#: meta tensors...): weights_only would read them, this module cannot decode them.
_ALLOWED_NOT_DECODED = ("torch._utils._rebuild_", "torch.per_", "torch.serialization.",
                        "torch.q", "torch.uint", "torch.int", "torch.float8", "torch.cuda.")


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO, storages: dict[str, Storage]):
        super().__init__(stream, encoding="utf-8")
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in NAME_MAPPING:       # as torch does for protocol 2
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full in _ALLOWED:
            return _ALLOWED[full]
        if full.startswith(_ALLOWED_NOT_DECODED):
            raise Unreadable(f"{full}, which the grader cannot decode")
        raise NotAllowed(full)

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise Unreadable("a persistent id that is not a storage")
        kind, key, _location, numel = pid[1:5]
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise Unreadable("a storage the grader cannot decode")
        if len(pid) == 6 and pid[5] is not None:
            raise Unreadable("a storage view (an old format the grader cannot decode)")
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = Storage(kind, numel)
        elif storage.numel != numel:
            raise Unreadable("a storage named twice with two sizes")
        return storage


def _check_opcodes(stream: io.BytesIO) -> None:
    """Every instruction of the next pickle in `stream` is one weights_only reads."""
    start = stream.tell()
    try:
        for opcode, _arg, _pos in pickletools.genops(stream):
            if opcode.name not in _OPCODES:
                raise Refused(f"the pickle instruction {opcode.name}, which weights_only "
                              "does not read (torch.save's default pickle_protocol is 2)")
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed pickle
        raise Unreadable(f"a malformed pickle ({type(exc).__name__})") from None
    stream.seek(start)


def unpickle(stream: io.BytesIO, storages: dict[str, Storage]) -> Any:
    """The next pickle of `stream`, as weights_only reads it; the storages it names are
    collected in `storages` (by key), their bytes still to be filled in."""
    _check_opcodes(stream)
    try:
        return _Unpickler(stream, storages).load()
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("data nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - whatever a hostile file makes pickle raise
        raise Unreadable(f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}") from None


def resolve(value: Any, big_endian: bool, done: dict[int, Any], budget: list[int],
            depth: int = 0) -> Any:
    """The loaded structure with every tensor decoded (plain dicts, lists and tuples).
    `done` maps containers already resolved (by id) to their result: a structure that
    shares its parts (memo) is resolved once per part, not once per path."""
    if depth > MAX_DEPTH:
        raise Unreadable("data nested too deeply")
    if isinstance(value, _PendingTensor):
        return value.decode(big_endian, budget)
    if id(value) in done:
        return done[id(value)]
    if isinstance(value, dict):
        result: Any = {
            key if isinstance(key, (str, int, float, bool, type(None))) else repr(key):
            resolve(item, big_endian, done, budget, depth + 1) for key, item in value.items()}
    elif isinstance(value, (list, tuple)):
        items = [resolve(item, big_endian, done, budget, depth + 1) for item in value]
        result = items if isinstance(value, list) else tuple(items)
    else:
        result = None
    if result is not None:
        done[id(value)] = result
        return result
    if isinstance(value, set):
        return {item for item in value if not isinstance(item, _PendingTensor)}
    if isinstance(value, (Storage, _StorageType, _Marker)):
        raise Unreadable("a bare storage or type, which the grader does not decode")
    return value

