"""Confine a worker before it runs a submission: what it may write, read, reach and signal.

Three layers, each applied in the forked worker (and so inherited by every process
it starts), each detected at run time and reported as it is:

* filesystem: Landlock (Linux >= 5.13). The worker may write only inside its own
  scratch directory; it may read Python, site-packages, system libraries and the
  submission's own folders, but not the kit's reference solutions nor the grader's
  check code. Without Landlock nothing stops writes: reported as "none".
* network: a new network namespace (`unshare(CLONE_NEWNET)`, inside a new user
  namespace when not root), which has no interface but a loopback that is down;
  Landlock (ABI >= 4) also refuses every TCP bind and connect.
* pids: Landlock's scopes (ABI >= 6) refuse signals to any process outside the
  worker's own domain (the grader, the nursery, the zygote, sibling workers), and
  Landlock always refuses ptrace (and so /proc/PID/mem) of a process outside it.
  The nursery and zygote are also not dumpable.

Everything here is plain syscalls through ctypes: the worker is a forked, single-
threaded process, which is what `unshare` and `landlock_restrict_self` need.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass
from typing import Iterable

# ENVIRONMENT_KEPT: the spawn backend's pool imports it from here
from grader.inherited_env import ENVIRONMENT_KEPT, minimal_environment  # noqa: F401

_SYS_LANDLOCK_CREATE_RULESET = 444   # the same number on every architecture (new syscalls)
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_DUMPABLE = 4
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000

# LANDLOCK_ACCESS_FS_*: (bit, first ABI that knows it)
_FS = {
    "execute": (1 << 0, 1), "write_file": (1 << 1, 1), "read_file": (1 << 2, 1),
    "read_dir": (1 << 3, 1), "remove_dir": (1 << 4, 1), "remove_file": (1 << 5, 1),
    "make_char": (1 << 6, 1), "make_dir": (1 << 7, 1), "make_reg": (1 << 8, 1),
    "make_sock": (1 << 9, 1), "make_fifo": (1 << 10, 1), "make_block": (1 << 11, 1),
    "make_sym": (1 << 12, 1), "refer": (1 << 13, 2), "truncate": (1 << 14, 3),
    "ioctl_dev": (1 << 15, 5),
}
_FILE_ONLY = ("execute", "write_file", "read_file", "truncate", "ioctl_dev")
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2            # ABI >= 4
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2        # ABI >= 6

_READ = ("execute", "read_file", "read_dir")
_DEVICE = ("read_file", "write_file", "truncate", "ioctl_dev", "read_dir")  # /dev/dri: a dir
#: System folders a Python process may read (what exists of them).
SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt",
                   "/proc", "/sys", "/run/nvidia-persistenced")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed))
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc_handle = None


def _libc():
    global _libc_handle
    if _libc_handle is None:
        try:
            _libc_handle = ctypes.CDLL(None, use_errno=True)
        except (OSError, TypeError):  # Windows has no process-wide C library to open
            _libc_handle = False
    return _libc_handle or None


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel; 0 when there is none (or not Linux)."""
    libc = _libc()
    if libc is None or not sys.platform.startswith("linux"):
        return 0
    abi = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(abi))


def _mask(names: Iterable[str], abi: int, is_dir: bool = True) -> int:
    mask = 0
    for name in names:
        bit, since = _FS[name]
        if abi >= since and (is_dir or name in _FILE_ONLY):
            mask |= bit
    return mask


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def readable_roots(extra: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """The paths a worker may read: system folders, Python and its packages, `extra`
    (the submission's folders), less every path in `hidden` (a folder holding a hidden
    path is replaced by its other entries, recursively)."""
    hidden = [os.path.realpath(h) for h in hidden if h]
    wanted: list[str] = []
    # sys.path less the folder the grader was started from ("" or the cwd, put first by
    # `python -m`): that may be a course folder, classmates' submissions included.
    start = os.path.realpath(os.getcwd())
    library = [p for p in sys.path if p and os.path.realpath(p) != start]
    # The grader's own package is a library like any other (its check code is hidden).
    candidates = [*SYSTEM_READABLE, sys.prefix, sys.base_prefix, sys.exec_prefix,
                  sys.base_exec_prefix, *library, os.path.dirname(os.path.abspath(__file__)),
                  *extra]
    for path in candidates:
        if not path:
            continue
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in wanted:
            wanted.append(real)
    allowed: list[str] = []

    def add(path: str) -> None:
        if any(_inside(path, h) for h in hidden):
            return
        if not any(_inside(h, path) for h in hidden):
            allowed.append(path)
            return
        try:
            entries = os.listdir(path)
        except OSError:
            return
        for entry in entries:
            add(os.path.join(path, entry))

    for path in wanted:
        add(path)
    return allowed


@dataclass(frozen=True)
class Plan:
    """What a worker may read and write; made once in the grader, applied in each worker."""

    readable: tuple[str, ...]
    devices: tuple[str, ...] = ()

    @classmethod
    def make(cls, extra: Iterable[str], hidden: Iterable[str]) -> "Plan":
        return cls(tuple(readable_roots(extra, hidden)), tuple(device_nodes()))


#: The device files a worker may read and write: nothing that reaches a terminal, a
#: disk or another process (no /dev/pts, /dev/tty*, /dev/shm); GPUs for CUDA.
DEVICE_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
GPU_DEVICE_PREFIXES = ("nvidia", "dri", "kfd")


def device_nodes() -> list[str]:
    nodes = [path for path in DEVICE_NODES if os.path.exists(path)]
    try:
        entries = os.listdir("/dev")
    except OSError:
        entries = []
    nodes += sorted(os.path.join("/dev", entry) for entry in entries
                    if entry.startswith(GPU_DEVICE_PREFIXES))
    return nodes


def _add_rule(libc, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        import stat

        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        allowed = access if is_dir else access & _FILE_ONLY_MASK
        if not allowed:
            return
        attr = _PathBeneathAttr(allowed, fd)
        libc.syscall(_SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                     ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(attr), ctypes.c_uint32(0))
    finally:
        os.close(fd)


_FILE_ONLY_MASK = sum(_FS[name][0] for name in _FILE_ONLY)


def restrict_filesystem(plan: Plan, writable: str) -> bool:
    """Landlock: from now on this process and its children write only under `writable`,
    read only what `plan` allows, open no TCP connection and signal nothing outside."""
    libc = _libc()
    abi = landlock_abi()
    if libc is None or abi < 1:
        return False
    everything = _mask(_FS, abi)
    attr = _RulesetAttr(everything,
                        (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        read = _mask(_READ, abi)
        for path in plan.readable:
            _add_rule(libc, ruleset, path, read)
        for path in plan.devices:
            _add_rule(libc, ruleset, path, _mask(_DEVICE, abi))
        _add_rule(libc, ruleset, "/dev", _mask(("read_dir",), abi))  # names only
        _add_rule(libc, ruleset, writable, everything)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset),
                            ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def isolate_network() -> bool:
    """Move this process into a network namespace of its own (no usable interface),
    inside a user namespace of its own: even a grader run as root leaves its workers no
    capability on the machine (reboot, modules, the clock, other users' files)."""
    libc = _libc()
    if libc is None or not sys.platform.startswith("linux"):
        return False
    uid, gid = os.geteuid(), os.getegid()
    # A new IPC namespace too: System V shared memory and semaphores a worker makes die
    # with it (they would outlive it, unaccounted, and reach later workers).
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWIPC) != 0:
        return False
    try:  # keep our own ids inside, so that files we make are still ours
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    except OSError:
        pass
    _drop_capabilities(libc)
    return True


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc) -> None:
    """No capability left, not even in the worker's own user namespace (its files are
    its own uid's: none is needed)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    try:
        libc.capset(ctypes.byref(header), data)
    except AttributeError:
        pass


# seccomp: no new way to reach a Unix socket by its path (an ssh agent, a container
# engine), which is beyond Landlock (up to ABI 7) and the network namespace:
# socket(AF_UNIX) is refused, socketpair() only makes connected stream pairs (a datagram
# pair could sendto() a path), io_uring (which makes sockets without these syscalls) is
# refused, and so is every system call through another ABI (int 0x80, x32).
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
#: arch, __NR_socket, __NR_socketpair, __NR_io_uring_setup
_AUDIT_ARCH = {"x86_64": (0xC000003E, 41, 53, 425), "aarch64": (0xC00000B7, 198, 199, 425)}
_X32_SYSCALL_BIT = 0x40000000
_AF_UNIX, _SOCK_STREAM, _SOCK_TYPE_MASK = 1, 1, 0xF


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def refuse_unix_sockets() -> bool:
    """From now on, socket(AF_UNIX, ...) fails with EPERM in this process and its children."""
    libc = _libc()
    machine = os.uname().machine if hasattr(os, "uname") else ""
    if libc is None or machine not in _AUDIT_ARCH:
        return False
    arch, nr_socket, nr_socketpair, nr_io_uring_setup = _AUDIT_ARCH[machine]
    ld, jeq, jset, ret, and_k = 0x20, 0x15, 0x45, 0x06, 0x54  # BPF_LD|W|ABS, JEQ|K, JSET|K,
    deny, allow = _SECCOMP_RET_ERRNO | 1, _SECCOMP_RET_ALLOW  # RET|K, ALU|AND|K; EPERM
    program = [
        (ld, 0, 0, 4),                          # 0 seccomp_data.arch
        (jeq, 1, 0, arch),                      # 1 our ABI: on to 3
        (ret, 0, 0, deny),                      # 2 another ABI (int 0x80): refused
        (ld, 0, 0, 0),                          # 3 seccomp_data.nr
        (jset, 0, 1, _X32_SYSCALL_BIT),         # 4 x32 system calls: refused
        (ret, 0, 0, deny),                      # 5
        (jeq, 0, 1, nr_io_uring_setup),         # 6
        (ret, 0, 0, deny),                      # 7
        (jeq, 0, 3, nr_socket),                 # 8 socket(): on to 9, else 12
        (ld, 0, 0, 16),                         # 9 args[0], the family
        (jeq, 6, 7, _AF_UNIX),                  # 10 AF_UNIX: 17 (deny), else 18 (allow)
        (ret, 0, 0, allow),                     # 11 (not reached)
        (jeq, 0, 5, nr_socketpair),             # 12 socketpair(): on to 13, else 18
        (ld, 0, 0, 24),                         # 13 args[1], the type (with its flags)
        (and_k, 0, 0, _SOCK_TYPE_MASK),         # 14
        (jeq, 2, 0, _SOCK_STREAM),              # 15 a stream pair: 18 (allow)
        (ret, 0, 0, deny),                      # 16 a datagram or packet pair: refused
        (ret, 0, 0, deny),                      # 17
        (ret, 0, 0, allow),                     # 18
    ]
    filters = (_SockFilter * len(program))(*[_SockFilter(*op) for op in program])
    fprog = _SockFprog(len(program), filters)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


def not_dumpable() -> None:
    """Nobody of our user may ptrace this process or read its memory through /proc."""
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


#: Layers an administrator turns off ("filesystem", "network"; comma-separated), where a
#: layer breaks something on their machine; the report then says it is off.
DISABLE_ENV = "GRADER_SANDBOX_OFF"


def available() -> dict[str, str]:
    """What confinement this machine gives workers, as the report says it.

    Network isolation is tried for real, in a throwaway child process.
    """
    off = {layer.strip() for layer in os.environ.get(DISABLE_ENV, "").split(",")}
    abi = 0 if "filesystem" in off else landlock_abi()
    network = "open"
    if "network" not in off and sys.platform.startswith("linux") and hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:
            os._exit(0 if isolate_network() and refuse_unix_sockets() else 1)
        _pid, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            network = "isolated"
    if network == "open" and abi >= 4:
        network = "tcp-blocked"
    return {"filesystem": "landlock" if abi >= 1 else "none",
            "network": network,
            "pids": "isolated" if abi >= 6 else ("no-ptrace" if abi >= 1 else "open"),
            "landlock_abi": str(abi)}


def confine(plan: Plan, scratch: str, expected: dict[str, str]) -> None:
    """Apply every layer `expected` says this machine has; raise if one does not hold,
    so that no submission runs with less confinement than the report claims."""
    minimal_environment()
    os.environ["TMPDIR"] = scratch
    if expected.get("network") == "isolated" and not (isolate_network()
                                                       and refuse_unix_sockets()):
        raise RuntimeError("could not isolate the network")
    if expected.get("filesystem") == "landlock" and not restrict_filesystem(plan, scratch):
        raise RuntimeError("could not apply Landlock")
