"""What runs inside a worker: load the submission's source, run the exercise's probes.

Everything here executes in the forked, untrusted process. It only ever
*sends* data (frames on the result pipe); verdicts are made in the grader.
"""

from __future__ import annotations

import linecache
import os
import random
import sys
import traceback
import types
from typing import Any, Callable, Mapping

from grader import codec
from grader.exercise import Exercise, Skip, probe_seed
from grader.sandbox import _send_frame


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
    _defer_dynamo(torch)
    # What nearly every worker needs, once; rarer imports (gradcheck's sympy) stay lazy
    # so that they run in parallel workers rather than before the first fork.
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = torch.nn.functional.mse_loss(model(torch.randn(5, 4)), torch.randn(5, 2),
                                        reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class _DeferredDynamo(types.ModuleType):
    """Stands in for `torch._dynamo` until something needs more than eager mode does.

    Every optimizer step runs `import torch._dynamo; torch._dynamo.graph_break()`,
    and importing torch._dynamo costs about as much as importing torch itself.
    Outside `torch.compile`, `graph_break()` does nothing and `disable(fn)` is
    `fn`; anything else loads the real module, so behaviour is unchanged.
    """

    def graph_break(self, *args: Any, **kwargs: Any) -> None:
        return None

    def disable(self, fn: Any = None, recursive: bool = True, **kwargs: Any) -> Any:
        if fn is None:
            return lambda f: f
        return fn

    def __getattr__(self, name: str) -> Any:
        return getattr(_load_real_dynamo(), name)


def _load_real_dynamo() -> types.ModuleType:
    import importlib

    import torch

    if isinstance(sys.modules.get("torch._dynamo"), _DeferredDynamo):
        del sys.modules["torch._dynamo"]
    real = importlib.import_module("torch._dynamo")
    torch._dynamo = real
    return real


def _defer_dynamo(torch: types.ModuleType) -> None:
    if "torch._dynamo" in sys.modules or os.environ.get("GRADER_REAL_DYNAMO"):
        return
    stand_in = _DeferredDynamo("torch._dynamo")
    sys.modules["torch._dynamo"] = stand_in
    torch._dynamo = stand_in


def make_worker_main(exercises: Mapping[str, Exercise]) -> Callable[[dict, int], None]:
    def worker_main(job: dict[str, Any], result_fd: int) -> None:
        run_job(exercises[job["exercise"]], job, result_fd)
    return worker_main


def _reseed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _install_guard(forbidden_root: str, send: Callable[[dict], None]) -> None:
    """Refuse (and report) any import of `solutions` or read of the reference files."""
    root = os.path.realpath(forbidden_root)
    reported: list[str] = []

    def audit(event: str, args: tuple) -> None:
        what = None
        if event == "import" and args and isinstance(args[0], str):
            if args[0] == "solutions" or args[0].startswith("solutions."):
                what = f"import {args[0]}"
        elif event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            full = os.path.realpath(path)
            if full == root or full.startswith(root + os.sep):
                what = f"open {path}"
        if what is None:
            return
        if not reported:
            send({"kind": "violation", "what": what})
        reported.append(what)
        raise PermissionError("the kit's reference solutions are not part of your submission")

    sys.addaudithook(audit)


def _error_info(exc: BaseException, filenames: set[str]) -> dict[str, Any]:
    """An exception as data: type, message, and the student's line where it happened."""
    info: dict[str, Any] = {"type": type(exc).__name__}
    try:
        info["message"] = str(exc)[:2000]
    except Exception:
        info["message"] = "<unprintable message>"
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        info.update(file=exc.filename, line=exc.lineno, text=(exc.text or "").rstrip()[:200])
        return info
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename in filenames]
    if own:
        last = own[-1]
        info.update(file=last.filename, line=last.lineno, text=(last.line or "")[:200],
                    function=last.name)
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    kept = [line for line in lines if any(name in line for name in filenames)]
    info["traceback"] = "".join(kept[-6:])[-3000:]
    return info


def load_sources(sources: list[dict[str, Any]], filenames: set[str]) -> tuple[dict, list, dict | None]:
    """Execute the submission's sources; return (names, cell errors, load error)."""
    names: dict[str, Any] = {}
    cell_errors: list[dict[str, Any]] = []
    for source in sources:
        filename = source["path"]
        if source["kind"] == "module":
            module = types.ModuleType(source["module_name"])
            module.__file__ = filename
            sys.modules[source["module_name"]] = module
            linecache.cache[filename] = (len(source["code"]), None,
                                         source["code"].splitlines(True), filename)
            try:
                exec(compile(source["code"], filename, "exec"), module.__dict__)
            except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a verdict too
                return names, cell_errors, _error_info(exc, filenames)
            names.update(vars(module))
        else:
            namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
            main = types.ModuleType("__main__")
            main.__dict__.update(namespace)
            sys.modules["__main__"] = main
            namespace = main.__dict__
            for number, code in source["cells"]:
                cell_name = f"{filename} [cell {number}]"
                filenames.add(cell_name)
                text = code
                linecache.cache[cell_name] = (len(text), None, text.splitlines(True), cell_name)
                try:
                    exec(compile(text, cell_name, "exec"), namespace)
                except BaseException as exc:  # noqa: BLE001 - a failing cell is reported, the rest runs
                    cell_errors.append({"cell": number, **_error_info(exc, filenames)})
            names.update(namespace)
    return names, cell_errors, None


def run_job(exercise: Exercise, job: dict[str, Any], result_fd: int) -> None:
    def send(frame: dict[str, Any]) -> None:
        _send_frame(result_fd, frame)

    seed = int(job["seed"])
    os.chdir(job["workdir"])
    for path in reversed(job.get("search_path", [])):
        sys.path.insert(0, path)
    if job["role"] == "student" and job.get("forbidden"):
        _install_guard(job["forbidden"], send)
    filenames = {s["path"] for s in job["sources"]}
    _reseed(seed)
    names, cell_errors, load_error = load_sources(job["sources"], filenames)
    missing = [n for n in exercise.names if n not in names]
    send({"kind": "loaded", "load_error": load_error, "cell_errors": cell_errors,
          "missing": missing})
    if load_error is not None:
        send({"kind": "done"})
        return
    submitted = {n: names[n] for n in exercise.names if n in names}

    def run_probe(name: str, namespace: Mapping[str, Any], variant: str | None) -> None:
        inputs = exercise.make_inputs(seed)
        _reseed(probe_seed(seed, name))
        frame: dict[str, Any] = {"kind": "probe", "probe": name, "variant": variant}
        try:
            result = exercise.probes[name](Submitted(namespace), inputs)
            frame["result"] = codec.to_plain(result)
        except MissingName as exc:
            frame["missing"] = str(exc)
        except Skip as exc:
            frame["skip"] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - even SystemExit from a student's function
            frame["error"] = _error_info(exc, filenames)
        send(frame)

    for name in exercise.probes:
        run_probe(name, submitted, None)
    if job["role"] == "reference":
        for misconception in exercise.misconceptions:
            if misconception.mutant is None:
                continue
            mutated = {**submitted, **misconception.mutant(submitted)}
            for name in exercise.probes_for(misconception.checks):
                run_probe(name, mutated, misconception.key)
    send({"kind": "done"})
