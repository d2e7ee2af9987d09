"""Issue 12, items 8 and 10: feedback says each thing once, where it belongs.

Item 8: a misconception is named only when it fits (layers kept in an nn.ModuleList are
registered, under other names: they are not told that their layers are unregistered),
and a reason several checks fail for is said once (a plain list of layers: one line
says what went wrong, one misconception says why; the check's own line takes its brief
form next to it). Item 10: what a notebook printed is shown once, under the exercise of
the cell that printed it; what a one-file course prints at import, once.

Every case runs through the command line, as a student runs it, in the terminal report
(English and Korean) and in the JSON one.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from conftest import SOLUTIONS, run_cli
from grader import i18n
from grader.exercise import Exercise, t
from grader.verdicts import _brief

E05, E06, E07 = "e05_two_layer_net", "e06_dynamic_net", "e07_training"


def _module(source: str) -> str:
    return "import random\nimport torch\nfrom torch import nn\n\n\n" + textwrap.dedent(source)


E05_MODULE_LIST = _module("""
    class TwoLayerNet(nn.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(D_in, H), nn.Linear(H, D_out)])

        def forward(self, x):
            return self.layers[1](torch.relu(self.layers[0](x)))
    """)
E05_PLAIN_LIST = E05_MODULE_LIST.replace(
    "nn.ModuleList([nn.Linear(D_in, H), nn.Linear(H, D_out)])",
    "[nn.Linear(D_in, H), nn.Linear(H, D_out)]")
E06_MODULE_LIST = _module("""
    class DynamicNet(nn.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(D_in, H), nn.Linear(H, H),
                                         nn.Linear(H, D_out)])

        def forward(self, x):
            h = torch.relu(self.layers[0](x))
            for _ in range(random.randint(0, 3)):
                h = torch.relu(self.layers[1](h))
            return self.layers[2](h)
    """)
E06_PLAIN_LIST = E06_MODULE_LIST.replace(
    "nn.ModuleList([nn.Linear(D_in, H), nn.Linear(H, H),\n"
    "                                     nn.Linear(H, D_out)])",
    "[nn.Linear(D_in, H), nn.Linear(H, H), nn.Linear(H, D_out)]")
E06_MIDDLE_COPIES = _module("""
    class DynamicNet(nn.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.input_linear = nn.Linear(D_in, H)
            self.middle = nn.ModuleList([nn.Linear(H, H) for _ in range(3)])
            self.output_linear = nn.Linear(H, D_out)

        def forward(self, x):
            h = torch.relu(self.input_linear(x))
            for i in range(random.randint(0, 3)):
                h = torch.relu(self.middle[i](h))
            return self.output_linear(h)
    """)
E07_NO_EVAL = (SOLUTIONS / f"{E07}.py").read_text().replace("model.eval()", "pass")


def _grade(folder: Path, *args: str) -> tuple[dict, str, str]:
    """(JSON report, English terminal report, Korean terminal report) of one folder."""
    only = [arg for name in sorted(p.stem for p in folder.glob("e*.py"))
            for arg in ("--only", name)]
    done = run_cli(str(folder), "--format", "json", *only, *args)
    assert done.returncode in (0, 1), done.stderr
    english = run_cli(str(folder), *only, *args)
    korean = run_cli(str(folder), "--lang", "ko", *only, *args)
    return json.loads(done.stdout), english.stdout, korean.stdout


def _folder(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def _exercise(report: dict, name: str) -> dict:
    return next(e for e in report["exercises"] if e["name"] == name)


def _block(terminal: str, name: str) -> str:
    """One exercise's part of a terminal report (its score line up to the next one's)."""
    lines = terminal.splitlines()
    start = next(i for i, line in enumerate(lines) if line[2:].startswith(name))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i][:2] in ("✓ ", "✗ ") or not lines[i]), len(lines))
    return "\n".join(lines[start:end])


def _text(exercise: str, key: str, lang: str = "en") -> str:
    chain = [next(e for e in _EXERCISES if e.name == exercise).catalogue, i18n.shared()]
    return next(c.lookup(key, lang) for c in chain if c.lookup(key, lang))


def _collected() -> list[Exercise]:
    from grader.plugins import collect_exercises, plugin_manager
    return collect_exercises(plugin_manager())


_EXERCISES = _collected()

# --------------------------------------------------------------- item 8: layers in a list


def test_layers_in_a_module_list_are_told_they_are_renamed_never_unregistered(tmp_path):
    folder = _folder(tmp_path, "modulelist", {f"{E05}.py": E05_MODULE_LIST,
                                              f"{E06}.py": E06_MODULE_LIST})
    report, english, korean = _grade(folder)
    for name, first in ((E05, "layers_registered"), (E06, "shared_layers")):
        exercise = _exercise(report, name)
        failed = [c for c in exercise["checks"] if c["status"] != "passed"]
        assert failed and all(c.get("misconception") is None for c in failed), failed
        said = "\n".join(c["feedback"] for c in failed)
        # registered (the truth), under other names: one line, in the registration check
        assert "registered, but under other names" in failed[0]["feedback"], failed[0]
        assert failed[0]["name"] == first
        assert said.count("registered, but under other names") == 1, said
        for wrong in ("not registered", "no parameter at all", "separate copies",
                      "does not ask for"):
            assert wrong not in said, (wrong, said)
        # the registration check never refers to itself ("see the check on registered...")
        assert "see the check on registered layers" not in failed[0]["feedback"]
        block = _block(english, name)
        assert "Likely misconception" not in block, block
        assert block.count("under other names") == 1, block
        assert "예상되는 오해" not in _block(korean, name)
        assert _block(korean, name).count("이름이 다릅니다") == 1


def test_layers_in_a_plain_list_are_explained_once(tmp_path):
    folder = _folder(tmp_path, "plainlist", {f"{E05}.py": E05_PLAIN_LIST,
                                             f"{E06}.py": E06_PLAIN_LIST})
    report, english, korean = _grade(folder)
    for name in (E05, E06):
        exercise = _exercise(report, name)
        # every check fails for this one reason, and each says which
        assert {c.get("misconception") for c in exercise["checks"]} == {"layers_not_registered"}
        why = _text(name, "layers_not_registered")
        first = exercise["checks"][0]["feedback"]
        # the check says what went wrong (brief), the misconception why: not both at length
        assert first.splitlines()[0] == _text(name, "no_parameters.brief"), first
        assert first.count("plain Python list") == 1 and why in first, first
        for lang, terminal, label in (("en", english, "Likely misconception"),
                                      ("ko", korean, "예상되는 오해")):
            block = _block(terminal, name)
            assert block.count(label) == 1, block
            assert block.count(_text(name, "layers_not_registered", lang)) == 1, block
            listed = "plain Python list" if lang == "en" else "일반 파이썬 리스트"
            assert block.count(listed) == 1, block
            # named once for all the checks, not check by check
            assert f"{label} (" not in block, block


def test_separate_middle_layers_still_named_and_eval_mode_said_once(tmp_path):
    folder = _folder(tmp_path, "copies", {f"{E06}.py": E06_MIDDLE_COPIES,
                                          f"{E07}.py": E07_NO_EVAL})
    report, english, korean = _grade(folder)
    shared = _exercise(report, E06)["checks"][0]
    assert shared["name"] == "shared_layers" and shared["misconception"] == "extra_layers"
    assert "see the check on registered layers" not in shared["feedback"], shared
    others = [c for c in _exercise(report, E06)["checks"][1:] if c["status"] != "passed"]
    assert others and all("see the check on registered layers" in c["feedback"]
                          for c in others)
    # e07: the check says what it saw, the misconception what to do (model.eval() once)
    check = next(c for c in _exercise(report, E07)["checks"]
                 if c["name"] == "evaluate_eval_mode")
    assert check["misconception"] == "evaluate_no_eval"
    assert check["feedback"].count("model.eval()") == 1, check["feedback"]
    assert _block(english, E07).count("model.eval()") <= 2   # the hint may name it too
    assert _block(korean, E07).count("예상되는 오해") == 1


def test_a_line_takes_its_brief_form_only_from_the_catalogue_that_gives_it():
    line = t("no_parameters", example="linear1")
    shared = _brief(line, [])
    assert shared.key == "no_parameters.brief" and shared.params == line.params
    # an exercise (a pack) that words the message its own way, with no brief form, keeps it
    own = Exercise(name="pack_ex", title={"en": "t"}, names=("f",), make_inputs=dict,
                   messages={"no_parameters": {"en": "My own words {example}."}})
    assert _brief(line, [own.catalogue]) is line
    assert _brief("plain text", []) == "plain text"
    assert _brief(t("missing_keys", keys="a", modules="b"), []).key == "missing_keys"


def test_every_brief_text_has_its_full_text_and_no_new_placeholder():
    for catalogue in [i18n.shared(), i18n.core(), *(e.catalogue for e in _EXERCISES)]:
        for lang, texts in catalogue.texts.items():
            for key, template in texts.items():
                if key.endswith(".brief"):
                    full = texts.get(key[:-len(".brief")])
                    assert full is not None, (catalogue.domain, lang, key)
                    assert i18n.placeholders(template) <= i18n.placeholders(full), key
