"""The course manifest (grader/course.py) is the one source of truth, and everything
derived from it agrees with it: plugins, stubs, solutions, the documents' tables."""

from __future__ import annotations

import ast

import pytest

from grader import course
from grader.plugins import BUILTIN_PLUGINS, collect_exercises, plugin_manager

EXERCISES = {e.name: e for e in collect_exercises(plugin_manager())}


def test_the_documents_tables_are_generated_from_the_manifest():
    stale = course.stale_documents()
    assert not stale, f"run `python -m grader.course --write`: {stale} are out of date"


def test_every_entry_is_a_builtin_plugin_in_course_order():
    checks = [p for p in BUILTIN_PLUGINS if p.startswith("grader.checks.")]
    assert checks == [entry.checks for entry in course.COURSE]
    assert [n for n in EXERCISES if n in course.BY_NAME] == [e.name for e in course.COURSE]


@pytest.mark.parametrize("entry", course.COURSE, ids=lambda e: e.name)
def test_an_entry_names_its_stub_solution_and_exercise(entry):
    assert entry.stub.is_file() and entry.solution.is_file()
    exercise = EXERCISES[entry.name]
    assert exercise.names == entry.names
    assert exercise.title_in("en") == entry.title


@pytest.mark.parametrize("entry", course.COURSE, ids=lambda e: e.name)
def test_stub_and_solution_define_the_public_names_at_top_level(entry):
    for path in (entry.stub, entry.solution):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        assert set(entry.names) <= defined, (path.name, set(entry.names) - defined)


def test_signatures_are_read_from_the_contract_s_notation():
    entry = course.entry("e07_training")
    assert entry.signatures["train"] == [
        ("model", "positional", ...), ("x", "positional", ...), ("y", "positional", ...),
        ("steps", "keyword", 500), ("learning_rate", "keyword", 1e-4),
        ("momentum", "keyword", 0.0)]
    assert course.entry("e04_my_relu").names == ("MyReLU", "my_relu")
    assert "MyReLU.backward" in course.entry("e04_my_relu").signatures
