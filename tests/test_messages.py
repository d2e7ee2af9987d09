"""Every message a student can see exists in English and in Korean."""

import re

import pytest

from grader.messages import COMMON, LANGUAGES
from grader.plugins import collect_exercises, plugin_manager
from grader.reporters.terminal import LABELS

EXERCISES = collect_exercises(plugin_manager())


def _fields(template: str) -> set[str]:
    return {m.split(":")[0].split("!")[0] for m in re.findall(r"{([^{}]*)}", template)}


def _catalogs():
    yield "common", COMMON
    for exercise in EXERCISES:
        yield exercise.name, exercise.messages


@pytest.mark.parametrize("owner,catalog", list(_catalogs()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_message_has_every_language_with_the_same_placeholders(owner, catalog):
    for key, texts in catalog.items():
        for lang in LANGUAGES:
            assert texts.get(lang, "").strip(), f"{owner}:{key} has no {lang} text"
        assert _fields(texts["ko"]) == _fields(texts["en"]), f"{owner}:{key} placeholders differ"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_titles_and_hints_in_every_language(exercise):
    for lang in LANGUAGES:
        assert exercise.title.get(lang), f"{exercise.name} has no {lang} title"
        levels = exercise.hints.get(lang)
        assert levels and len(levels) >= 2, f"{exercise.name} needs a nudge and a full hint in {lang}"
        assert len(levels) == len(exercise.hints["en"])


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_every_misconception_has_a_message(exercise):
    checks = {c.name for c in exercise.checks}
    for misconception in exercise.misconceptions:
        assert misconception.key in exercise.messages or misconception.key in COMMON
        assert set(misconception.checks) <= checks, misconception.key


def test_terminal_labels_in_every_language():
    for lang in LANGUAGES:
        assert set(LABELS[lang]) == set(LABELS["en"])


def test_missing_translation_falls_back_to_english():
    from grader.exercise import t
    from grader.messages import render

    catalog = {"only_en": {"en": "hello {name}"}}
    assert render(t("only_en", name="Ada"), "ko", [catalog]) == "hello Ada"


def test_watch_texts_in_every_language():
    from grader.watch import TEXTS

    for lang in LANGUAGES:
        assert set(TEXTS[lang]) == set(TEXTS["en"])
        for key, text in TEXTS[lang].items():
            assert _fields(text) == _fields(TEXTS["en"][key]), key


def _misconception_keys():
    """Declared misconceptions, and those a judge names directly (misconception="...")."""
    import re
    from pathlib import Path

    checks = Path(__file__).resolve().parent.parent / "grader" / "checks"
    direct = set()
    for path in checks.glob("*.py"):
        direct |= set(re.findall(r'misconception\s*=\s*"(\w+)"', path.read_text()))
    keys = {m.key for e in EXERCISES for m in e.misconceptions} | direct
    return sorted(keys)


@pytest.mark.parametrize("key", _misconception_keys())
def test_every_misconception_has_a_message_and_a_test_that_makes_it(key):
    from pathlib import Path

    assert key in COMMON or any(key in e.messages for e in EXERCISES), key
    tests = Path(__file__).resolve().parent
    text = "\n".join(p.read_text() for p in tests.glob("test_*.py") if p.name != "test_messages.py")
    assert f'"{key}"' in text or f"'{key}'" in text, f"no test makes the misconception {key}"
