"""Read a file written by torch.save, in the grader's own process, without torch (the
e08 probes take only MAX_FILE_BYTES from it: how much of the file they send back).

The e08 probe sends back the checkpoint file's raw bytes; this module decides, from those
bytes alone, what `torch.load(path, weights_only=True)` decides (the worker ran student
code, so nothing it says about the file is trusted), and decodes the tensors into NumPy
so that the judge can compare the saved values exactly.

The pickle is read by `weights_only`, a mirror of torch's weights-only unpickler. Both of
torch.save's formats are read: the zip archive (data.pkl plus one data/<key> record per
storage) and the legacy stream (`_use_new_zipfile_serialization=False`). Anything this
module cannot decode raises `Unreadable` with a sentence that says why (`Refused` when
torch would refuse it too): a verdict, never a crash.
"""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import numpy as np

from grader.checks.training.weights_only import (MAX_DEPTH, MAX_ELEMENTS, NotAllowed, Refused,
                                                 Storage, StoredTensor, Unreadable, resolve,
                                                 unpickle)

__all__ = ["MAX_DEPTH", "MAX_ELEMENTS", "MAX_FILE_BYTES", "NotAllowed", "Refused",
           "StoredTensor", "Unreadable", "read_checkpoint"]

#: The largest file the probe sends back (and this module reads).
MAX_FILE_BYTES = 8 * 1024 * 1024

#: What the legacy format starts with (torch/serialization.py).
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


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
    storages: dict[str, Storage] = {}
    loaded = unpickle(io.BytesIO(record("data.pkl") or b""), storages)
    for key, storage in storages.items():
        storage.data = record(f"data/{key}")
    return resolve(loaded, byteorder == "big", {}, [MAX_ELEMENTS])


def _read_legacy(raw: bytes) -> Any:
    stream = io.BytesIO(raw)
    header = [unpickle(stream, {}) for _ in range(3)]
    if header[0] != LEGACY_MAGIC or header[1] != LEGACY_PROTOCOL:
        raise Unreadable("neither a zip archive nor torch.save's legacy format")
    sys_info = header[2] if isinstance(header[2], dict) else {}
    storages: dict[str, Storage] = {}
    loaded = unpickle(stream, storages)
    keys = unpickle(stream, {})
    if not isinstance(keys, list) or any(key not in storages for key in keys):
        raise Unreadable("a legacy file whose storage list does not match its data")
    for key in keys:
        storage = storages[key]
        head = stream.read(8)
        if len(head) != 8 or struct.unpack("<q", head)[0] != storage.numel:
            raise Unreadable("a legacy file whose storage sizes do not match")
        storage.data = stream.read(storage.numel * np.dtype(storage.raw_dtype).itemsize)
    return resolve(loaded, not sys_info.get("little_endian", True), {}, [MAX_ELEMENTS])
