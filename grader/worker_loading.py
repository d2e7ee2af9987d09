"""Loading a submission in its worker: its modules and notebook cells run, errors as data.

The submission's own modules come from the source the grader read (never from disk);
an import of the kit's references gives withheld names; a notebook gets harmless
`display` and `get_ipython`. Runs in the worker only.
"""

from __future__ import annotations

import linecache
import sys
import traceback
import types
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from grader.protocol import ErrorInfo, JobModule, JobSource


def error_info(exc: BaseException, filenames: set[str]) -> ErrorInfo:
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


class SubmittedModules:
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


class WithheldReferences:
    """Import hook: `solutions` and `solutions.*` are empty modules whose every name is
    `_Withheld` (the audit hook has already reported the import)."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        import importlib.machinery

        if fullname != "solutions" and not fullname.startswith("solutions."):
            return None
        return importlib.machinery.ModuleSpec(fullname, WithheldReferences,
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
                return names, cell_errors, error_info(exc, filenames)
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
                    cell_errors.append(replace(error_info(exc, filenames), cell=number))
            names.update(namespace)
    return names, cell_errors, None
