"""Every text a student can see exists in every language, with the same placeholders.

The rules are checked for every collected exercise (packs included), not for a list
kept by hand; texts are data (`grader.i18n`), so a third language is a folder of JSON.
"""

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import i18n
from grader.i18n import Text, TextError, languages, placeholders, render, t
from grader.plugins import collect_exercises, plugin_manager

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = collect_exercises(plugin_manager())
CHECKS = ROOT / "grader" / "checks"
# grader/checks' own modules and its shared packages (those without an exercise's texts/)
SHARED_MODULES = sorted(path for path in CHECKS.rglob("*.py")
                        if path.parent == CHECKS or not (path.parent / "texts").is_dir())


def _catalogues():
    yield i18n.core()
    yield i18n.shared()
    for exercise in EXERCISES:
        yield exercise.catalogue


@pytest.mark.parametrize("catalogue", list(_catalogues()), ids=lambda c: c.domain)
def test_every_text_in_every_language_with_the_same_placeholders(catalogue):
    english = catalogue.texts.get("en", {})
    assert english, f"{catalogue.domain} has no English texts"
    for lang in languages():
        texts = catalogue.texts.get(lang, {})
        assert set(texts) == set(english), (catalogue.domain, lang, set(texts) ^ set(english))
        for key, template in texts.items():
            assert template.strip(), (catalogue.domain, lang, key)
            assert placeholders(template) == placeholders(english[key]), (catalogue.domain, key)


def _source_files(exercise) -> list[Path]:
    defining = inspect.getmodule(exercise.make_inputs)
    path = Path(inspect.getfile(defining))
    # an exercise package (inputs.py makes the inputs, or __init__.py): all of its modules
    in_package = path.name in ("__init__.py", "inputs.py")
    return sorted(path.parent.glob("*.py")) if in_package else [path]


def _literal_keys(paths) -> set[str]:
    """Keys named in code: t("key", ...), misconception="key", .misconception("key", ...)."""
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("t", "misconception") and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
            found |= {k.value.value for k in node.keywords if k.arg == "misconception"
                      and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
    return found


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_every_key_an_exercise_names_has_a_text(exercise):
    used = _literal_keys(_source_files(exercise))
    used |= {m.key for m in exercise.misconceptions}
    for lang in languages():
        chain = [exercise.catalogue, i18n.shared(), i18n.core()]
        missing = {key for key in used if not any(c.lookup(key, lang) for c in chain)}
        assert not missing, (exercise.name, lang, missing)


def test_every_key_the_shared_check_code_names_has_a_text():
    used = _literal_keys(SHARED_MODULES)
    known = i18n.shared().keys() | i18n.core().keys()
    for exercise in EXERCISES:  # an exercise may give its own text for a shared key
        known |= exercise.catalogue.keys()
    assert used and not used - known


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_titles_and_hints_in_every_language(exercise):
    for lang in languages():
        assert exercise.title_in(lang) != exercise.name, f"{exercise.name} has no {lang} title"
        levels = exercise.hint_levels(lang)
        assert levels, f"{exercise.name} has no hint in {lang}"
        assert len(levels) == len(exercise.hint_levels("en"))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_every_misconception_belongs_to_a_check(exercise):
    checks = {c.name for c in exercise.checks}
    for misconception in exercise.misconceptions:
        assert set(misconception.checks) <= checks, misconception.key


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_check_code_does_not_import_torch_in_the_grader(exercise):
    """The grader's own process stays torch-free: torch is imported only where probes run."""
    module = inspect.getmodule(exercise.make_inputs).__name__
    code = f"import sys, {module}; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


@pytest.mark.parametrize("group", ["terminal", "html", "lms", "watch", "hints"])
def test_every_reporters_labels_in_every_language(group):
    """Labels are core texts (`<group>.<name>`): the same names in every language."""
    english = i18n.labels(group, "en")
    assert english
    for lang in languages():
        assert set(i18n.core().texts[lang]) >= {f"{group}.{name}" for name in english}, lang


def test_a_label_resolves_korean_particles_once_formatted():
    same = i18n.labels("terminal", "ko")["same_problem"]
    assert same.format(name="e05_two_layer_net") == "위의 e05_two_layer_net과 같은 문제입니다."
    assert "과(와)" in same


def _misconception_keys():
    """Declared misconceptions, and those a judge names directly (misconception="...")."""
    direct = set()
    for exercise in EXERCISES:
        direct |= {key for key in _literal_keys(_source_files(exercise))
                   if any(m.key == key for m in exercise.misconceptions)}
    return sorted({m.key for e in EXERCISES for m in e.misconceptions} | direct)


@pytest.mark.parametrize("key", _misconception_keys())
def test_every_misconception_has_a_test_that_makes_it(key):
    tests = Path(__file__).resolve().parent
    text = "\n".join(p.read_text() for p in tests.glob("test_*.py") if p.name != "test_messages.py")
    assert f'"{key}"' in text or f"'{key}'" in text, f"no test makes the misconception {key}"


# -- rendering -------------------------------------------------------------------------
def test_strict_mode_is_on_in_the_test_suite():
    assert i18n.strict()


def test_a_missing_key_raises_in_strict_mode_and_shows_the_key_otherwise(monkeypatch):
    with pytest.raises(TextError):
        render(t("no_such_key"), "en", [])
    monkeypatch.setenv(i18n.STRICT_ENV, "0")
    assert render(t("no_such_key"), "en", []) == "no_such_key"


def test_a_placeholder_mismatch_raises_in_strict_mode():
    catalog = {"greet": {"en": "hello {name}", "ko": "안녕 {name}"}}
    with pytest.raises(TextError):
        render(t("greet", who="Ada"), "en", [catalog])


def test_missing_translation_raises_in_strict_mode_and_falls_back_to_english(monkeypatch):
    catalog = {"only_en": {"en": "hello {name}"}}
    with pytest.raises(TextError):
        render(t("only_en", name="Ada"), "ko", [catalog])
    monkeypatch.setenv(i18n.STRICT_ENV, "0")
    assert render(t("only_en", name="Ada"), "ko", [catalog]) == "hello Ada"


@pytest.mark.parametrize("before,after", [
    ("`numpy_train`이(가) 없습니다", "`numpy_train`이 없습니다"),
    ("텐서이(가)", "텐서가"), ("모델이(가)", "모델이"), ("모델을(를)", "모델을"),
    ("x을(를)", "x를"), ("w1은(는)", "w1은"), ("(3, 4)이(가)", "(3, 4)가"),
    ("파일(으)로", "파일로"), ("텐서(으)로", "텐서로"), ("모양(으)로", "모양으로"),
    ("linear1과(와)", "linear1과"), ("x와(과)", "x와"),
])
def test_korean_particles_follow_the_last_sound(before, after):
    assert i18n.particles(before) == after


def test_no_korean_text_a_student_reads_keeps_both_particle_forms():
    catalog = {"k": {"en": "{name} is missing", "ko": "{name}이(가) 없습니다"}}
    assert render(t("k", name="TwoLayerNet"), "ko", [catalog]) == "TwoLayerNet이 없습니다"
    assert render(t("k", name="텐서"), "ko", [catalog]) == "텐서가 없습니다"


def test_a_third_language_is_a_folder_of_json_and_no_python(tmp_path):
    """A language pack, made only of catalogues, is picked up by the CLI and the reports."""
    pack = tmp_path / "fr"
    pack.mkdir()
    for domain in ["core", "checks", *(e.name for e in EXERCISES)]:
        source = (i18n.core() if domain == "core" else i18n.shared() if domain == "checks"
                  else next(e for e in EXERCISES if e.name == domain).catalogue)
        texts = {key: "[fr] " + template for key, template in source.texts["en"].items()}
        (pack / f"{domain}.json").write_text(json.dumps(texts), encoding="utf-8")
    env = {**os.environ, i18n.PACKS_ENV: str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "grader", str(ROOT / "exercises"),
                           "--only", "e01_numpy_grads", "--lang", "fr", "--format", "json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    exercise = next(e for e in report["exercises"] if e["name"] == "e01_numpy_grads")
    assert exercise["title"].startswith("[fr] ")
    assert all(c["feedback"].startswith("[fr] ") for c in exercise["checks"]), exercise["checks"]


def test_text_is_english_in_an_f_string():
    assert f"{Text('kind_none')}" == "None"
