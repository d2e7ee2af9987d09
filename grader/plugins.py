"""The plugin manager: builtin plugins first, then the "grader" entry-point group."""

from __future__ import annotations

import os
from importlib import import_module

import pluggy

from grader import hookspecs
from grader.course import COURSE

#: The grader's own plugins, then one checks package per exercise of the course.
BUILTIN_PLUGINS = ("grader.loaders", "grader.reporters", *(entry.checks for entry in COURSE))

#: Comma-separated entry-point names not to load (like pytest's `-p no:NAME`).
BLOCK_ENV = "GRADER_BLOCK_PLUGINS"
#: Set to 1 to load no third-party plugin at all.
NO_AUTOLOAD_ENV = "GRADER_DISABLE_PLUGIN_AUTOLOAD"


def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("grader")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(import_module(name), name=name)
    for blocked in filter(None, (n.strip() for n in os.environ.get(BLOCK_ENV, "").split(","))):
        pm.set_blocked(blocked)
    if os.environ.get(NO_AUTOLOAD_ENV, "") not in ("1", "true", "yes"):
        pm.load_setuptools_entrypoints("grader")
    return pm


def collect_exercises(pm: pluggy.PluginManager) -> list:
    """All exercises, in course order (by name); a later plugin's exercise replaces a same-named one."""
    found: dict = {}
    for batch in reversed(pm.hook.grader_exercises()):
        for exercise in batch:
            found[exercise.name] = exercise
    return [found[name] for name in sorted(found)]


def collect_reporters(pm: pluggy.PluginManager) -> dict:
    found: dict = {}
    for batch in reversed(pm.hook.grader_reporters()):
        found.update(batch)
    return found
