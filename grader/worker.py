"""What runs inside a worker: load the submission's source, run the exercise's probes.

Everything here executes in the forked, untrusted process. It only ever
*sends* data (frames on the result pipe); verdicts are made in the grader.
Frames and the job are the dataclasses of `grader.protocol`; the grader accepts only
what `protocol.decode_frame` reads (anything else is tampering).
"""

from __future__ import annotations

import functools
import copy
import linecache
import os
import random
import signal
import socket
import sys
import traceback
import types
from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from grader import codec
from grader.exercise import Exercise, Skip, probe_seed
from grader.protocol import (CellFrame, DoneFrame, ErrorInfo, Frame, Job, JobModule, JobSource,
                             LoadedFrame, ProbeFrame, ViolationFrame, WhereFrame)
from grader.sandbox.nursery import send_frame, zygote_loop
from grader.strip import strip_for_student


#: Set in every worker: the grader refuses to start inside a graded submission (a notebook
#: cell that grades the notebook would otherwise grade itself again, and again).
IN_WORKER_ENV = "GRADER_IN_WORKER"


class MissingName(AttributeError):
    """The submission does not define a public name the exercise needs."""


class Submitted:
    """The student's namespace as probes see it: `sub.numpy_train`, ..."""

    def __init__(self, names: Mapping[str, Any]):
        self._names = dict(names)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._names[name]
        except KeyError:
            raise MissingName(name) from None

    def has(self, name: str) -> bool:
        return name in self._names


def warm_up() -> None:
    """Import and exercise torch once in the zygote, so each worker starts warm."""
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    _defer_imports()
    # What nearly every worker needs, once; rarer imports (gradcheck's sympy) stay lazy
    # so that they run in parallel workers rather than before the first fork.
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = torch.nn.functional.mse_loss(model(torch.randn(5, 4)), torch.randn(5, 2),
                                        reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    _reseed(0)  # numpy.random is imported lazily (8 ms in every worker otherwise)


# Two lazy imports of torch cost as much as importing torch itself, and eager code
# only ever calls trivial functions of them: every optimizer step runs
# `import torch._dynamo; torch._dynamo.graph_break()`, and every backward with an
# explicit gradient imports sympy through `symbolic_shapes` for `sym_eq`. In the
# workers these modules are stood in for by fast eager versions of those few
# functions; any other use (torch.compile, a submodule, a symbolic value) loads
# the real module first, so behaviour is unchanged.

def _real(name: str) -> types.ModuleType:
    import importlib

    module = sys.modules.get(name)
    if isinstance(module, _Deferred):
        del sys.modules[name]
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
    return module if module is not None else importlib.import_module(name)


class _Deferred(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


class _LoadRealParent:
    """Meta path hook: importing a submodule of a stand-in loads the real package first."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> None:
        parent = fullname.rpartition(".")[0]
        if isinstance(sys.modules.get(parent), _Deferred):
            _real(parent)
        return None


def _sym_eq(x: Any, y: Any) -> Any:
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return len(x) == len(y) and all(_sym_eq(a, b) for a, b in zip(x, y))
    if type(x) is int and type(y) is int:
        return x == y
    return _real("torch.fx.experimental.symbolic_shapes").sym_eq(x, y)


def _expect_true(a: Any, skip: int = 0) -> Any:
    if type(a) is bool:
        return a
    return _real("torch.fx.experimental.symbolic_shapes").expect_true(a, skip + 1)


def _disable(fn: Any = None, recursive: bool = True, **kwargs: Any) -> Any:
    return (lambda f: f) if fn is None else fn


STAND_INS = {
    "torch._dynamo": {"graph_break": lambda *a, **k: None, "disable": _disable},
    "torch.fx.experimental.symbolic_shapes": {"sym_eq": _sym_eq, "expect_true": _expect_true},
}


def _defer_imports() -> None:
    import importlib.util

    if os.environ.get("GRADER_NO_STAND_INS"):
        return
    for name, functions in STAND_INS.items():
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__dict__.update(functions)
        if spec.submodule_search_locations is not None:
            stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, stand_in)
    sys.meta_path.insert(0, _LoadRealParent)


def make_worker_main(exercises: Mapping[str, Exercise]) -> Callable[[Job, int], None]:
    """The worker's job, by its "mode": "" (load the source, run one exercise's probes),
    "notebook" (run a notebook's top-level code once, then fork a worker per exercise
    from that state) or "exercise" (one such worker: probes only)."""
    check_code = _check_code(exercises)

    def worker_main(job: Job, result_fd: int) -> None:
        if job.mode == "notebook":
            names = list(job.exercises)
            if job.role == "student":  # the probes of the notebook's exercises, no answers
                strip_for_student(exercises, names[0], also=names[1:])
            run_notebook(job, result_fd, worker_main)
            return
        exercise = exercises[job.exercise]
        if job.role == "student":  # nothing of the grader's answers in reach of the student
            exercise = strip_for_student(exercises, exercise.name)
        if job.mode == "exercise":
            run_notebook_exercise(exercise, job, result_fd, check_code)
        else:
            run_job(exercise, job, result_fd, check_code)
    return worker_main


class _Channel:
    """Where this worker's frames go. A notebook's exercise worker, forked from the
    notebook's worker, sends on its own result pipe (the guard installed in the notebook's
    worker, inherited, follows)."""

    fd = -1
    sending = False    # a frame is half written: the timer's report waits for the next tick


def send(frame: Frame) -> None:
    _Channel.sending = True
    try:
        send_frame(_Channel.fd, frame)
    finally:
        _Channel.sending = False


def _arm_where_timer(seconds: float, filenames: set[str]) -> None:
    """So that a timeout can say where the code was: shortly before the grader's deadline,
    and then every tenth of a second, send the student's innermost frame (the grader keeps
    the last one). Code that takes SIGALRM for itself only loses this report."""
    last: list[WhereFrame] = []

    def tell(signum: int, frame: types.FrameType | None) -> None:
        if _Channel.sending:
            return
        while frame is not None and frame.f_code.co_filename not in filenames:
            frame = frame.f_back
        where = WhereFrame()
        if frame is not None:
            name = frame.f_code.co_filename
            where = WhereFrame(name, frame.f_lineno or 0, frame.f_code.co_name,
                               linecache.getline(name, frame.f_lineno or 0).strip()[:200])
        if where not in last:
            last[:] = [where]
            send(where)

    signal.signal(signal.SIGALRM, tell)
    signal.siginterrupt(signal.SIGALRM, False)  # a system call it interrupts goes on
    margin = min(1.0, seconds / 3)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds - margin), 0.1)


def _disarm_where_timer() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _reseed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _listdir(path: str) -> list[str]:
    """The names in a folder; none where it is not one, or is hidden from this worker
    (Landlock: then the kernel refuses any read of it anyway)."""
    try:
        return os.listdir(path)
    except OSError:
        return []


def _install_guard(forbidden: Sequence[str], send: Callable[[Frame], None]) -> None:
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
            if reference_file(path):
                what = f"open {path}"
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            # a child process (cat, cp) reading a reference file: its arguments name it
            words = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            for arg in args:
                if isinstance(arg, (list, tuple)):
                    words += [a for a in arg if isinstance(a, (str, bytes, os.PathLike))]
            for word in words:
                for token in os.fsdecode(word).split():
                    if "solutions" in token and reference_file(token.strip("'\"")):
                        what = f"open {token}"
        if what is None or what in reported:
            return
        # Told at once, before any of it is read; not refused, so that a course notebook
        # that copies one exercise loses that exercise only (the grader decides which).
        reported.append(what)
        send(ViolationFrame(what))

    sys.addaudithook(audit)


def _error_info(exc: BaseException, filenames: set[str]) -> ErrorInfo:
    """An exception as data: type, message, and the student's line where it happened."""
    info: dict[str, Any] = {"type": type(exc).__name__}
    try:
        info["message"] = str(exc)[:2000]
    except Exception:
        info["message"] = "<unprintable message>"
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        text = (exc.text or "").rstrip("\n")
        stripped = text.lstrip()
        caret = ""
        if exc.offset and stripped:
            column = max(0, exc.offset - 1 - (len(text) - len(stripped)))
            caret = "\n    " + " " * min(column, len(stripped)) + "^"
        # a SyntaxError the submission made itself may hold anything: frames hold text
        info.update(message=exc.msg if isinstance(exc.msg, str) and exc.msg else info["message"],
                    file=exc.filename, line=exc.lineno if type(exc.lineno) is int else None,
                    text=stripped[:200] + caret)
        return ErrorInfo(**info)
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename in filenames]
    if own:
        last = own[-1]
        info.update(file=last.filename, line=last.lineno, text=(last.line or "")[:200],
                    function=last.name)
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    kept = [line for line in lines if any(name in line for name in filenames)]
    info["traceback"] = "".join(kept[-6:])[-3000:]
    return ErrorInfo(**info)


class _SubmittedModules:
    """Import hook: the submission's own modules come from the source the grader read
    before any worker ran (not from disk, where another submission may have written)."""

    def __init__(self, modules: Mapping[str, JobModule], filenames: set[str]):
        self.modules = dict(modules)
        self.filenames = filenames

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        import importlib.util

        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_loader(fullname, self,
                                               origin=self.modules[fullname].path)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        source = self.modules[module.__name__]
        module.__file__ = source.path
        self.filenames.add(source.path)
        linecache.cache[source.path] = (len(source.code), None,
                                        source.code.splitlines(True), source.path)
        exec(compile(source.code, source.path, "exec"), module.__dict__)


class _Withheld:
    """What an import of the kit's references gives a student: a name that cannot be used.

    The import itself is reported (the exercise it names earns nothing) and must not fail:
    a course file that copies one exercise still has the others graded. The file is never
    read (the sandbox hides it anyway)."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{object.__getattribute__(self, '_name')} is the kit's reference "
                           "solution, which a submission cannot use")

    __call__ = __getattr__ = __setattr__ = __getitem__ = __iter__ = _refuse


class _WithheldReferences:
    """Import hook: `solutions` and `solutions.*` are empty modules whose every name is
    `_Withheld` (the audit hook has already reported the import)."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        import importlib.machinery

        if fullname != "solutions" and not fullname.startswith("solutions."):
            return None
        return importlib.machinery.ModuleSpec(fullname, _WithheldReferences,
                                              is_package=fullname == "solutions")

    @staticmethod
    def create_module(spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        def withheld(name: str) -> _Withheld:
            if name.startswith("__"):  # __all__, __path__...: as for an empty module
                raise AttributeError(name)
            return _Withheld(f"{spec.name}.{name}")
        module.__getattr__ = withheld  # type: ignore[attr-defined]
        if spec.name == "solutions":
            module.__path__ = []
        return module

    @staticmethod
    def exec_module(module: types.ModuleType) -> None:
        return None


class _NotebookShell:
    """`get_ipython()` in a graded notebook: every method is a harmless no-op."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _display(*objects: Any, **kwargs: Any) -> None:
    """`display()` in a graded notebook prints what it is given."""
    for obj in objects:
        print(repr(obj))


NOTEBOOK_BUILTINS = {"display": _display, "get_ipython": _NotebookShell}


def load_sources(sources: Sequence[JobSource], filenames: set[str],
                 on_cell: Callable[[int], None] = lambda number: None
                 ) -> tuple[dict, list[ErrorInfo], ErrorInfo | None]:
    """Execute the submission's sources; return (names, cell errors, load error)."""
    names: dict[str, Any] = {}
    cell_errors: list[ErrorInfo] = []
    for source in sources:
        filename = source.path
        if source.kind == "module":
            module = types.ModuleType(source.module_name)
            module.__file__ = filename
            sys.modules[source.module_name] = module
            linecache.cache[filename] = (len(source.code), None,
                                         source.code.splitlines(True), filename)
            try:
                exec(compile(source.code, filename, "exec"), module.__dict__)
            except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a verdict too
                return names, cell_errors, _error_info(exc, filenames)
            names.update(vars(module))
        else:
            namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__,
                                         **NOTEBOOK_BUILTINS}
            main = types.ModuleType("__main__")
            main.__dict__.update(namespace)
            sys.modules["__main__"] = main
            namespace = main.__dict__
            for number, code in source.cells:
                cell_name = f"{filename} [cell {number}]"
                filenames.add(cell_name)
                text = code
                linecache.cache[cell_name] = (len(text), None, text.splitlines(True), cell_name)
                on_cell(number)  # so that a timeout can name the cell that was running
                try:
                    exec(compile(text, cell_name, "exec"), namespace)
                except BaseException as exc:  # noqa: BLE001 - a failing cell is reported, the rest runs
                    cell_errors.append(replace(_error_info(exc, filenames), cell=number))
            names.update(namespace)
    return names, cell_errors, None


def _prepare(job: Job) -> set[str]:
    """Before any of the submission runs: working folder, imports, guard. Returns the
    submission's file names (its frames in a traceback)."""
    os.environ[IN_WORKER_ENV] = "1"  # a submission that runs the grader gets a refusal
    os.chdir(job.workdir)
    for path in reversed(job.search_path):
        sys.path.insert(0, path)
    if job.role == "student" and job.forbidden:
        _install_guard(job.forbidden, send)
        sys.meta_path.insert(0, _WithheldReferences())
        if job.violation:  # the grader found the file to be a reference file
            send(ViolationFrame(job.violation))
    filenames = {s.path for s in job.sources}
    if job.modules:
        sys.meta_path.insert(0, _SubmittedModules(job.modules, filenames))
    _reseed(int(job.seed))
    return filenames


def run_job(exercise: Exercise, job: Job, result_fd: int,
            check_code: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
            ) -> None:
    _Channel.fd = result_fd
    filenames = _prepare(job)
    _arm_where_timer(float(job.limits.timeout), filenames)
    names, cell_errors, load_error = load_sources(
        job.sources, filenames, lambda number: send(CellFrame(number)))
    missing = [n for n in exercise.names if n not in names]
    send(LoadedFrame(load_error, tuple(cell_errors), tuple(missing)))
    if load_error is not None:
        send(DoneFrame())
        return
    _refuse_check_code(exercise, job, names, check_code)
    _run_probes(exercise, job, names, filenames)


def _refuse_check_code(exercise: Exercise, job: Job, names: Mapping[str, Any],
                       check_code: tuple[frozenset[str], frozenset[str]]) -> None:
    """A student's public names that are (or hold) the grader's check code: a violation."""
    if job.role != "student":
        return
    taken = _taken_from_check_code([names[n] for n in exercise.names if n in names],
                                   *check_code)
    if taken:
        send(ViolationFrame(f"use {taken}"))


#: A notebook's state, as its top-level code left it; its exercise workers fork from it.
_NOTEBOOK: dict[str, Any] = {}


def run_notebook(job: Job, result_fd: int, worker_main: Callable[[Job, int], None]) -> None:
    """Run a notebook's top-level code once (its own time limit), then be the zygote of
    its exercises: the grader sends, on the result channel, the socket to serve on."""
    _Channel.fd = result_fd
    filenames = _prepare(job)
    _arm_where_timer(float(job.limits.timeout), filenames)
    names, cell_errors, load_error = load_sources(
        job.sources, filenames, lambda number: send(CellFrame(number)))
    _disarm_where_timer()
    # What it printed goes out now, once: not again from each exercise's copy of the buffer.
    for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__,
                                      sys.__stderr__)}.values():
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the notebook replaced may not flush
            pass
    send(LoadedFrame(load_error, tuple(cell_errors)))
    if load_error is not None:
        send(DoneFrame())
        return
    _NOTEBOOK.update(names=names, cell_errors=cell_errors, filenames=filenames)
    with socket.socket(fileno=os.dup(result_fd)) as channel:
        _message, fds, _flags, _address = socket.recv_fds(channel, 1, 1)
    if len(fds) != 1:
        return
    zygote_loop(socket.socket(fileno=fds[0]), os.getppid(), worker_main)


def run_notebook_exercise(exercise: Exercise, job: Job, result_fd: int,
                          check_code: tuple[frozenset[str], frozenset[str]] = (
                              frozenset(), frozenset())) -> None:
    """One exercise of a notebook, in a worker forked from the notebook's state."""
    _Channel.fd = result_fd
    os.chdir(job.workdir)
    if job.violation:
        send(ViolationFrame(job.violation))
    names, filenames = _NOTEBOOK["names"], _NOTEBOOK["filenames"]
    _refuse_check_code(exercise, job, names, check_code)
    _without_cuda_if_lost()
    _arm_where_timer(float(job.limits.timeout), filenames)
    missing = [n for n in exercise.names if n not in names]
    send(LoadedFrame(None, tuple(_NOTEBOOK["cell_errors"]), tuple(missing)))
    _run_probes(exercise, job, names, filenames)


def _check_code(exercises: Mapping[str, Exercise]) -> tuple[frozenset[str], frozenset[str]]:
    """The grader's check modules (names) and their folders, as the zygote has them."""
    modules = {name for name in sys.modules if name.split(".")[:2] == ["grader", "checks"]}
    for exercise in exercises.values():
        modules.update(getattr(probe, "__module__", "") or "" for probe in
                       exercise.probes.values())
    modules.discard("")
    folders = {os.path.dirname(os.path.realpath(sys.modules[name].__file__))
               for name in modules if getattr(sys.modules.get(name), "__file__", None)}
    return frozenset(modules), frozenset(folders)


def _taken_from_check_code(roots: list[Any], modules: frozenset[str],
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


def _without_cuda_if_lost() -> None:
    """CUDA cannot start again in a process forked from one that used it: when the
    notebook's top-level code used the GPU, its exercise workers run as on a machine
    without one (the GPU checks skipped, as there: they count neither for nor against)."""
    torch = sys.modules.get("torch")
    try:
        lost = bool(torch.cuda._is_in_bad_fork())
    except Exception:  # noqa: BLE001 - no torch, or no such function: nothing was lost
        return
    if lost:  # in place, so that `from torch.cuda import is_available` says so too
        torch.cuda.is_available.__code__ = (lambda: False).__code__


def _run_probes(exercise: Exercise, job: Job, names: Mapping[str, Any],
                filenames: set[str]) -> None:
    seed = int(job.seed)
    submitted = {n: names[n] for n in exercise.names if n in names}
    made = codec.from_plain(job.inputs)   # made by the grader, decoded once

    def run_probe(name: str, namespace: Mapping[str, Any], variant: str | None) -> None:
        inputs = copy.deepcopy(made)  # fresh, writable arrays for each probe
        _reseed(probe_seed(seed, name))
        try:
            result = exercise.probes[name](Submitted(namespace), inputs)
            frame = ProbeFrame(name, variant, result=codec.to_plain(result))
        except MissingName as exc:
            frame = ProbeFrame(name, variant, missing=str(exc))
        except Skip as exc:
            frame = ProbeFrame(name, variant, skip=str(exc))
        except BaseException as exc:  # noqa: BLE001 - even SystemExit from a student's function
            frame = ProbeFrame(name, variant, error=_error_info(exc, filenames))
        send(frame)

    for name in exercise.probes:
        run_probe(name, submitted, None)
    if job.role == "reference":
        for misconception in exercise.misconceptions:
            if misconception.mutant is None:
                continue
            mutated = {**submitted, **misconception.mutant(submitted)}
            for name in exercise.probes_for(misconception.checks):
                run_probe(name, mutated, misconception.key)
    send(DoneFrame())
