"""The worker's guard against copying: reading or importing a reference, holding check code.

An audit hook reports (and lets through) every import of `solutions` and every read of a
reference file, by Python or by a child process; a submission's public names that are,
or hold, the grader's own check code are named too. Runs in the worker only; the
grader's side is `grader.integrity`.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from typing import Any, Callable, Iterator, Mapping, Sequence

from grader.exercise import Exercise
from grader.protocol import Frame, ViolationFrame


def _listdir(path: str) -> list[str]:
    """The names in a folder; none where it is not one, or is hidden from this worker
    (Landlock: then the kernel refuses any read of it anyway)."""
    try:
        return os.listdir(path)
    except OSError:
        return []


def install_guard(forbidden: Sequence[str], send: Callable[[Frame], None]) -> None:
    """Refuse (and report) any import of `solutions` or read of a reference file.

    `forbidden` holds the kit's solutions folder and each exercise pack's solution
    file. Imports read files through `io.open_code`, which is audited as "open" too.
    """
    roots = [os.path.realpath(path) for path in forbidden]
    # A file's compiled form is read instead of it once it has been imported before.
    cached = tuple(os.path.join(os.path.dirname(root), "__pycache__",
                                os.path.splitext(os.path.basename(root))[0] + ".")
                   for root in roots if root.endswith(".py"))
    # Reference files by their last two path parts ("solutions/e06_dynamic_net.py"), for
    # paths that are relative to a directory other than ours (os.open(..., dir_fd=...)).
    tails = {os.path.join(os.path.basename(root), name) for root in roots
             for name in _listdir(root) if name.endswith(".py")}
    reported: list[str] = []

    def reference_file(text: str) -> bool:
        full = os.path.realpath(text)
        if os.path.basename(full).startswith("__init__."):
            return False
        return (any(full == root or full.startswith(root + os.sep) for root in roots)
                or full.startswith(cached)
                or os.path.join(*os.path.normpath(text).split(os.sep)[-2:]) in tails)

    def audit(event: str, args: tuple) -> None:
        what = None
        # The package itself (its empty __init__) holds nothing: what counts is the
        # module or file of an exercise, and it says which exercise loses its credit.
        if event == "import" and args and isinstance(args[0], str):
            if args[0].startswith("solutions."):
                what = f"import {args[0]}"
        elif event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if reference_file(path):   # "write": opened for writing only (nothing read)
                mode, flags = (list(args[1:3]) + [None, None])[:2]
                writes = (isinstance(mode, str) and not set("r+") & set(mode)) or (
                    mode is None and isinstance(flags, int)
                    and flags & os.O_ACCMODE == os.O_WRONLY)
                what = f"{'write' if writes else 'open'} {path}"
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            # a child process (cat, cp) reading a reference file: its arguments name it
            words = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            for arg in args:
                if isinstance(arg, (list, tuple)):
                    words += [a for a in arg if isinstance(a, (str, bytes, os.PathLike))]
            for word in words:
                for token in os.fsdecode(word).split():
                    if "solutions" in token and reference_file(token.strip("'\"")):
                        what = f"child {token}"   # read or written: it cannot tell
        if what is None or what in reported:
            return
        # Told at once, before any of it is read; not refused, so that a course notebook
        # that copies one exercise loses that exercise only (the grader decides which).
        reported.append(what)
        send(ViolationFrame(what))

    sys.addaudithook(audit)


def check_code_of(exercises: Mapping[str, Exercise]) -> tuple[frozenset[str], frozenset[str]]:
    """The grader's check modules (names) and their folders, as the zygote has them."""
    modules = {name for name in sys.modules if name.split(".")[:2] == ["grader", "checks"]}
    for exercise in exercises.values():
        modules.update(getattr(probe, "__module__", "") or "" for probe in
                       exercise.probes.values())
    modules.discard("")
    folders = {os.path.dirname(os.path.realpath(sys.modules[name].__file__))
               for name in modules if getattr(sys.modules.get(name), "__file__", None)}
    return frozenset(modules), frozenset(folders)


def taken_from_check_code(roots: list[Any], modules: frozenset[str],
                          folders: frozenset[str], budget: int = 5000) -> str:
    """What of the grader's check code the submission's public names hold, if any.

    A worker keeps the probes of its exercise (a notebook's, of all its exercises), and
    some of them (e07's, e08's) use the grader's reference models: a submission could
    take one (the reference TwoLayerNet, train) as its own. Followed: classes and
    their bases and methods, functions and what their code names (globals), closures
    and defaults, bound methods, partials and small containers; `budget` objects at most.
    """
    def own(name: Any) -> bool:
        return isinstance(name, str) and any(name == m or name.startswith(m + ".")
                                             for m in modules)

    def from_folder(code: types.CodeType) -> bool:
        return os.path.dirname(os.path.realpath(code.co_filename)) in folders

    def code_names(code: types.CodeType) -> Iterator[str]:
        yield from code.co_names
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from code_names(const)

    seen: set[int] = set()
    stack = list(roots)
    while stack and budget > 0:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        budget -= 1
        try:
            if isinstance(obj, types.ModuleType):
                if own(obj.__name__):
                    return obj.__name__
                continue   # a module is not followed: torch's would never end
            if isinstance(obj, type):
                for cls in obj.__mro__:
                    if own(cls.__dict__.get("__module__")) or own(cls.__module__):
                        return f"{cls.__module__}.{cls.__qualname__}"
                if not str(obj.__module__).startswith(("torch", "numpy", "builtins")):
                    stack.extend(obj.__dict__.values())
                continue
            if isinstance(obj, (types.FunctionType, types.LambdaType)):
                code = obj.__code__
                if own(obj.__module__) or from_folder(code):
                    return f"{obj.__module__}.{obj.__qualname__}"
                stack.extend(c.cell_contents for c in obj.__closure__ or ()
                             if c.cell_contents is not None)
                stack.extend(obj.__defaults__ or ())
                stack.extend((obj.__kwdefaults__ or {}).values())
                namespace = obj.__globals__
                stack.extend(namespace[n] for n in set(code_names(code)) if n in namespace)
                continue
            if isinstance(obj, (types.MethodType, types.BuiltinMethodType)):
                stack.extend(x for x in (getattr(obj, "__func__", None),
                                         getattr(obj, "__self__", None)) if x is not None)
                continue
            if isinstance(obj, (staticmethod, classmethod, property)):
                stack.extend(x for x in (getattr(obj, "__func__", None),
                                         getattr(obj, "fget", None)) if x is not None)
                continue
            if isinstance(obj, functools.partial):
                stack.extend((obj.func, *obj.args, *obj.keywords.values()))
                continue
            if isinstance(obj, (list, tuple, set, frozenset)) and len(obj) <= 100:
                stack.extend(obj)
                continue
            if isinstance(obj, dict) and len(obj) <= 100:
                stack.extend(obj.values())
                continue
            if not isinstance(obj, (str, bytes, int, float, complex, bool, type(None))):
                stack.append(type(obj))   # an instance: its class
        except Exception:  # noqa: BLE001 - an object that resists inspection is passed over
            continue
    return ""
