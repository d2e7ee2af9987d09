"""Windows Job Objects (grader side): a spawned worker's whole tree, killed and capped.

Every process a worker starts joins its Job Object, so terminating the job ends the
tree (Windows has no process groups to kill), and the job's memory limit is a hard cap
on the tree's committed memory. Closing the job's handle kills what is left
(KILL_ON_JOB_CLOSE), so a grader that dies leaves no worker behind.

Only ctypes, and only ever called on Windows; if any call fails, the worker still runs,
watched by the grader (its tree's memory through psutil, killed past the cap).
"""

from __future__ import annotations

import ctypes
from ctypes import wintypes

_JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9
_LIMIT_JOB_MEMORY = 0x0200
_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
_PROCESS_SET_QUOTA, _PROCESS_TERMINATE = 0x0100, 0x0001


class _IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class _BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD)]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", _BasicLimits),
                ("IoInfo", _IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t)]


def _kernel32():
    """kernel32 with the signatures used here (a HANDLE is 64 bits: never the default int)."""
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle, dword, bool_ = wintypes.HANDLE, wintypes.DWORD, wintypes.BOOL
    for name, restype, argtypes in (
            ("CreateJobObjectW", handle, [ctypes.c_void_p, wintypes.LPCWSTR]),
            ("OpenProcess", handle, [dword, bool_, dword]),
            ("AssignProcessToJobObject", bool_, [handle, handle]),
            ("SetInformationJobObject", bool_, [handle, ctypes.c_int, ctypes.c_void_p, dword]),
            ("TerminateJobObject", bool_, [handle, ctypes.c_uint]),
            ("CloseHandle", bool_, [handle])):
        function = getattr(kernel32, name)
        function.restype, function.argtypes = restype, argtypes
    return kernel32


class JobObject:
    """A Job Object holding one worker (and so everything it starts)."""

    def __init__(self, handle: int):
        self._handle = handle
        self._flags = _LIMIT_KILL_ON_JOB_CLOSE

    @classmethod
    def for_process(cls, pid: int) -> JobObject | None:
        """A new job with process `pid` in it (the worker, before it runs any submission);
        None where Windows refuses."""
        try:
            kernel32 = _kernel32()
            handle = kernel32.CreateJobObjectW(None, None)
            if not handle:
                return None
            job = cls(handle)
            if not job._set(0):
                job.close()
                return None
            process = kernel32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
            if not process:
                job.close()
                return None
            try:
                if not kernel32.AssignProcessToJobObject(handle, process):
                    job.close()
                    return None
            finally:
                kernel32.CloseHandle(process)
            return job
        except (AttributeError, OSError):
            return None

    def _set(self, memory_bytes: int) -> bool:
        limits = _ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = self._flags
        limits.JobMemoryLimit = memory_bytes
        return bool(_kernel32().SetInformationJobObject(
            self._handle, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(limits),
            ctypes.sizeof(limits)))

    def limit_memory(self, megabytes: int) -> bool:
        """Cap the committed memory of every process in the job together."""
        if self._handle is None:
            return False
        self._flags = _LIMIT_KILL_ON_JOB_CLOSE | _LIMIT_JOB_MEMORY
        try:
            return self._set(megabytes * 1024 * 1024)
        except OSError:
            return False

    def terminate(self) -> None:
        if self._handle is not None:
            try:
                _kernel32().TerminateJobObject(self._handle, 137)
            except OSError:
                pass

    def close(self) -> None:
        if self._handle is not None:
            try:
                _kernel32().CloseHandle(self._handle)
            except OSError:
                pass
            self._handle = None
