"""Read a file written by torch.save, in the grader's own process, without torch.

The e08 probe sends back the checkpoint file's raw bytes; this module decides, from those
bytes alone, what `torch.load(path, weights_only=True)` decides (the worker ran student
code, so nothing it says about the file is trusted), and decodes the tensors into NumPy
so that the judge can compare the saved values exactly.

It mirrors torch's weights-only unpickler (torch/_weights_only_unpickler.py) for what
plain state dicts need: the same pickle instructions (protocol 2, as torch.save writes
them), the same allowed globals (containers, tensor rebuild functions, storage types,
dtypes), nothing else. Every other global, a custom class above all, is refused without
being looked up, so nothing in the file can run. Both of torch.save's formats are read:
the zip archive (data.pkl plus one data/<key> record per storage) and the legacy stream
(`_use_new_zipfile_serialization=False`). Anything this module cannot decode raises
`Unreadable` with a sentence that says why (`Refused` when torch would refuse it too): a
verdict, never a crash.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import struct
import zipfile
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The largest file the probe sends back (and this module reads).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: The most elements the decoded tensors may have in all (views may repeat their storage:
#: a stride of 0 makes a tensor of any size from one element).
MAX_ELEMENTS = 4 * 1024 * 1024
MAX_DEPTH = 64

#: What the legacy format starts with (torch/serialization.py).
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


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


class _Storage:
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
        if not isinstance(storage, _Storage):
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
    def __init__(self, stream: io.BytesIO, storages: dict[str, _Storage]):
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
            storage = self.storages[key] = _Storage(kind, numel)
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


def _unpickle(stream: io.BytesIO, storages: dict[str, _Storage]) -> Any:
    _check_opcodes(stream)
    try:
        return _Unpickler(stream, storages).load()
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("data nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - whatever a hostile file makes pickle raise
        raise Unreadable(f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}") from None


def _resolve(value: Any, big_endian: bool, done: dict[int, Any], budget: list[int],
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
            _resolve(item, big_endian, done, budget, depth + 1) for key, item in value.items()}
    elif isinstance(value, (list, tuple)):
        items = [_resolve(item, big_endian, done, budget, depth + 1) for item in value]
        result = items if isinstance(value, list) else tuple(items)
    else:
        result = None
    if result is not None:
        done[id(value)] = result
        return result
    if isinstance(value, set):
        return {item for item in value if not isinstance(item, _PendingTensor)}
    if isinstance(value, (_Storage, _StorageType, _Marker)):
        raise Unreadable("a bare storage or type, which the grader does not decode")
    return value


def read_checkpoint(raw: bytes) -> Any:
    """What torch.load(weights_only=True) would return for a file holding `raw`, with
    every tensor as a `StoredTensor`; raises `Unreadable` when it would fail (or when the
    grader cannot decode it)."""
    if len(raw) > MAX_FILE_BYTES:
        raise Unreadable(f"the file has {len(raw)} bytes, more than the grader reads")
    if raw[:4] == b"PK\x03\x04":
        return _read_zip(raw)
    return _read_legacy(raw)


def _read_zip(raw: bytes) -> Any:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = {info.filename: info for info in archive.infolist()}
    except Exception as exc:  # noqa: BLE001
        raise Unreadable(f"a damaged zip archive ({type(exc).__name__})") from None
    pickles = [name for name in entries if name.endswith("/data.pkl") and name.count("/") == 1]
    if len(pickles) != 1:
        raise Unreadable("a zip archive without torch.save's data.pkl record")
    prefix = pickles[0][: -len("data.pkl")]
    if sum(info.file_size for info in entries.values()) > 4 * MAX_FILE_BYTES:
        raise Unreadable("a zip archive that unpacks to more than the grader reads")

    def record(name: str) -> bytes | None:
        info = entries.get(prefix + name)
        if info is None:
            return None
        try:
            return archive.read(info)
        except Exception as exc:  # noqa: BLE001
            raise Unreadable(f"a damaged record {name} ({type(exc).__name__})") from None

    byteorder = (record("byteorder") or b"little").decode("ascii", "replace").strip()
    if byteorder not in ("little", "big"):
        raise Unreadable(f"an unknown byte order {byteorder!r}")
    storages: dict[str, _Storage] = {}
    loaded = _unpickle(io.BytesIO(record("data.pkl") or b""), storages)
    for key, storage in storages.items():
        storage.data = record(f"data/{key}")
    return _resolve(loaded, byteorder == "big", {}, [MAX_ELEMENTS])


def _read_legacy(raw: bytes) -> Any:
    stream = io.BytesIO(raw)
    header = [_unpickle(stream, {}) for _ in range(3)]
    if header[0] != LEGACY_MAGIC or header[1] != LEGACY_PROTOCOL:
        raise Unreadable("neither a zip archive nor torch.save's legacy format")
    sys_info = header[2] if isinstance(header[2], dict) else {}
    storages: dict[str, _Storage] = {}
    loaded = _unpickle(stream, storages)
    keys = _unpickle(stream, {})
    if not isinstance(keys, list) or any(key not in storages for key in keys):
        raise Unreadable("a legacy file whose storage list does not match its data")
    for key in keys:
        storage = storages[key]
        head = stream.read(8)
        if len(head) != 8 or struct.unpack("<q", head)[0] != storage.numel:
            raise Unreadable("a legacy file whose storage sizes do not match")
        storage.data = stream.read(storage.numel * np.dtype(storage.raw_dtype).itemsize)
    return _resolve(loaded, not sys_info.get("little_endian", True), {}, [MAX_ELEMENTS])
