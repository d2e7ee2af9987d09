"""Leave a student's worker only the grader code that its own probes run.

A worker is forked from a warm zygote, so it starts with every check module in
memory: judges, misconception mutants (small buggy copies of the reference, which
with their defaults compute the right answer) and the grader's reference models.
Anything in the worker's memory is in reach of the submission it runs (through
`sys.modules`, or by walking up the stack from the function the probe calls).

So before a student's code runs, the worker throws away, in place:
* every judge, mutant, detector, message and hint of every exercise, and every
  other exercise's probes;
* in the check modules, every global that the kept probes (and what they call,
  followed through globals, module attributes, closures and defaults) never name;
* check modules that nothing kept reaches: emptied and dropped from `sys.modules`.

In place is what matters: the same objects are reachable from the grader's frames
above the fork point, and an emptied module is empty for every path to it.
"""

from __future__ import annotations

import dis
import functools
import sys
import types
from typing import Any, Iterable, Iterator, Mapping

from grader.exercise import Exercise

CHECKS_PACKAGE = "grader.checks"


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


_GLOBAL_LOADS = ("LOAD_GLOBAL", "LOAD_NAME")
_ATTRIBUTE_LOADS = ("LOAD_ATTR", "LOAD_METHOD")


def _module_attributes(code: types.CodeType, module_names: set[str]) -> dict[str, set[str]]:
    """For each global of `module_names` the code loads, the attributes it takes of it
    right away (`models.build(...)`: {"models": {"build"}}); None where the module itself
    is passed on or kept (then any of its attributes may be used)."""
    used: dict[str, set[str] | None] = {}
    codes = [code]
    while codes:
        current = codes.pop()
        codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        instructions = [i for i in dis.get_instructions(current)
                        if i.opname not in ("CACHE", "EXTENDED_ARG", "PRECALL")]
        for index, instruction in enumerate(instructions):
            if instruction.opname not in _GLOBAL_LOADS or instruction.argval not in module_names:
                continue
            following = instructions[index + 1] if index + 1 < len(instructions) else None
            name = instruction.argval
            if following is not None and following.opname in _ATTRIBUTE_LOADS:
                if used.get(name, set()) is not None:
                    used.setdefault(name, set()).add(following.argval)
            else:
                used[name] = None
    return used


def _check_modules(exercises: Mapping[str, Exercise]) -> dict[str, types.ModuleType]:
    """The modules that hold check code: grader.checks.* and each pack's exercise module."""
    names = {name for name in sys.modules
             if name == CHECKS_PACKAGE or name.startswith(CHECKS_PACKAGE + ".")}
    for exercise in exercises.values():
        for probe in exercise.probes.values():
            names.add(getattr(probe, "__module__", "") or "")
    return {name: sys.modules[name] for name in names
            if isinstance(sys.modules.get(name), types.ModuleType)}


def _reached(roots: list[Any], modules: dict[str, types.ModuleType]) -> dict[str, set[str]]:
    """For each check module, the globals that code reachable from `roots` may read."""
    by_dict = {id(vars(module)): name for name, module in modules.items()}
    by_module = {id(module): name for name, module in modules.items()}
    reached: dict[str, set[str]] = {name: set() for name in modules}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.MethodType):
            stack.append(obj.__func__)
        elif isinstance(obj, functools.partial):
            stack.extend((obj.func, *obj.args, *obj.keywords.values()))
        elif not isinstance(obj, (types.FunctionType, type)) and callable(obj) \
                and hasattr(obj, "__wrapped__"):  # functools.lru_cache and the like
            stack.append(obj.__wrapped__)
        elif isinstance(obj, types.FunctionType):
            names = set(_code_names(obj.__code__))
            home = by_dict.get(id(obj.__globals__))
            check_modules = {name for name in names
                             if id(obj.__globals__.get(name)) in by_module}
            attributes = _module_attributes(obj.__code__, check_modules) if check_modules \
                else {}
            for name in names:
                if name not in obj.__globals__:
                    continue
                if home is not None:
                    reached[home].add(name)
                value = obj.__globals__[name]
                owner = by_module.get(id(value))
                if owner is None:
                    stack.append(value)
                    continue
                # module.attr: only the attributes this code takes of it (all of them
                # where the module is passed on: then nothing can be told)
                taken = attributes.get(name, set())
                for attr in (vars(value) if taken is None else taken):
                    if attr in vars(value):
                        reached[owner].add(attr)
                        stack.append(vars(value)[attr])
            for cell in obj.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
        elif isinstance(obj, type) and obj.__module__ in modules:
            stack.extend(vars(obj).values())
        elif isinstance(obj, (staticmethod, classmethod, property)):
            stack.extend(x for x in (getattr(obj, "__func__", None), getattr(obj, "fget", None))
                         if x is not None)
        elif isinstance(obj, (list, tuple, set, frozenset)) and len(obj) < 1000:
            stack.extend(obj)
        elif isinstance(obj, dict) and len(obj) < 1000:
            stack.extend(obj.values())
    return reached


#: What each exercise's probes reach, worked out once in the nursery (before any fork):
#: the bytecode walk costs milliseconds that every worker would pay again.
_PLANNED: dict[tuple[str, ...], dict[str, set[str]]] = {}


def plan(exercises: Mapping[str, Exercise]) -> None:
    """Work out, for every exercise alone, what a student's worker keeps."""
    modules = _check_modules(exercises)
    for exercise in exercises.values():
        _PLANNED[(exercise.name,)] = _reached(list(exercise.probes.values()), modules)


def _inputs_come_with_the_job(seed: int) -> dict:
    raise RuntimeError("a worker reads its inputs from the job")


def strip_for_student(exercises: Mapping[str, Exercise], name: str,
                      also: Iterable[str] = ()) -> Exercise:
    """Keep exercise `name`'s probes (and those of the exercises named in `also`: a
    notebook's worker forks one worker per exercise from its state); remove every other
    piece of check code. Inputs come made in the job, so no data-making code is kept
    (it may share helpers with the mutants)."""
    exercise = exercises[name]
    kept = [exercise, *(exercises[other] for other in also)]
    modules = _check_modules(exercises)
    roots: list[Any] = [probe for each in kept for probe in each.probes.values()]
    for other in exercises.values():
        other.make_inputs = _inputs_come_with_the_job
        other.checks.clear()
        other.misconceptions.clear()
        other.messages = {}
        other.hints = {}
        if all(other is not each for each in kept):
            other.probes.clear()
    key = tuple(each.name for each in kept)
    reached = _PLANNED.get(key) or _reached(roots, modules)
    for module_name, module in modules.items():
        namespace = vars(module)
        keep = reached[module_name]
        for key in list(namespace):
            if not (key.startswith("__") or key in keep):
                del namespace[key]
        if not keep and module_name != CHECKS_PACKAGE:
            sys.modules.pop(module_name, None)
            parent, _, child = module_name.rpartition(".")
            if parent in sys.modules:
                vars(sys.modules[parent]).pop(child, None)
    return exercise
