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

from conftest import EXERCISES, SOLUTIONS, run_cli
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


# --------------------------------------------------------------- item 10: printed output

def _notebook(path: Path, cells: list[str]) -> Path:
    path.write_text(nbformat.writes(v4.new_notebook(cells=[
        v4.new_markdown_cell("# My course"),
        *(v4.new_code_cell(code) for code in cells)])))
    return path


def _stub(name: str) -> str:
    return (EXERCISES / f"{name}.py").read_text()


def _solution(name: str) -> str:
    return (SOLUTIONS / f"{name}.py").read_text()


E00, E01, E02, E03, E04 = ("e00_tensor_basics", "e01_numpy_grads", "e02_tensor_grads",
                           "e03_autograd", "e04_my_relu")
E02_PRINTING = _solution(E02).replace(
    "    loss = (y_pred - y).pow(2).sum().item()\n",
    "    loss = (y_pred - y).pow(2).sum().item()\n    print('E02 function printed')\n", 1)
E04_WRONG_PRINTING = _solution(E04).replace("return input.clamp(min=0)", "return input") \
    .replace("grad_input[input < 0] = 0", "grad_input[input < 0] = 0\n"
             "        print('E04 function printed')")
#: cell (code cells counted from 1) -> what it prints at top level, and whose it is
CELLS = [("print('SETUP printed')", E00),
         (_solution(E00) + "\nprint('E00 cell printed')\n", E00),
         (_stub(E01) + "\nprint('E01 cell printed')\n", E01),
         (E02_PRINTING + "\nprint('E02 cell printed')\n", E02),
         (_stub(E03) + "\nprint('E03 cell printed')\n", E03),
         (E04_WRONG_PRINTING + "\nprint('E04 cell printed')\n", E04),
         ("print('DEMO printed')", E04)]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A notebook of five exercises, graded once: JSON, English and Korean reports."""
    folder = tmp_path_factory.mktemp("notebook")
    notebook = _notebook(folder / "course.ipynb", [code for code, _ in CELLS])
    only = [arg for name in (E00, E01, E02, E03, E04) for arg in ("--only", name)]
    done = run_cli(str(notebook), "--format", "json", *only)
    assert done.returncode == 1, done.stderr
    english = run_cli(str(notebook), *only)
    korean = run_cli(str(notebook), "--lang", "ko", *only)
    return json.loads(done.stdout), english.stdout, korean.stdout


def test_a_notebook_cells_output_goes_with_its_exercise_once(course):
    report, _, _ = course
    outputs = {e["name"]: e.get("output", "") for e in report["exercises"]}
    everything = "".join(outputs.values())
    for number, (code, owner) in enumerate(CELLS, start=1):
        said = code.rsplit("print('", 1)[1].split("'")[0]
        assert everything.count(said) == 1, (said, outputs)
        assert said in outputs[owner], (said, owner, outputs)
        # under the line that names the cell that printed it
        head = f"course.ipynb [cell {number}]:\n"
        assert head in outputs[owner]
        assert outputs[owner].index(head) < outputs[owner].index(said)
    # what an exercise's functions printed while its checks ran stays with it, first
    assert outputs[E02].startswith("E02 function printed")
    assert outputs[E04].startswith("E04 function printed")
    assert "\x00" not in everything


def test_a_notebook_cells_output_is_shown_once_in_the_terminal(course):
    _, english, korean = course
    for terminal, same in ((english, "(the same as above)"), (korean, "(위와 같음)")):
        assert same not in terminal, terminal
        assert "E01 cell printed" in _block(terminal, E01)
        assert "E03 cell printed" in _block(terminal, E03)
        e04 = _block(terminal, E04)
        assert "E04 cell printed" in e04 and "DEMO printed" in e04
        for said in ("E01 cell printed", "E03 cell printed", "E04 cell printed",
                     "DEMO printed"):
            assert terminal.count(said) == 1, (said, terminal)
        # full marks: what their cells printed is in the JSON, not in the to-do list
        assert "SETUP printed" not in terminal and "E02 cell printed" not in terminal


def test_only_one_exercise_shows_only_its_own_cells_output(tmp_path):
    notebook = _notebook(tmp_path / "course.ipynb", [code for code, _ in CELLS])
    done = run_cli(str(notebook), "--format", "json", "--only", E03)
    (e03,) = json.loads(done.stdout)["exercises"]
    assert e03["output"] == "course.ipynb [cell 5]:\nE03 cell printed\n", e03


def test_a_notebook_out_of_time_keeps_what_its_finished_cells_printed(tmp_path):
    notebook = _notebook(tmp_path / "spin.ipynb", [
        _stub(E01) + "\nprint('E01 cell printed')\n",      # not flushed by the notebook
        _stub(E03) + "\nprint('E03 cell printed')\n",
        "import time\nwhile True:\n    time.sleep(0.05)\n"])
    done = run_cli(str(notebook), "--format", "json", "--only", E01, "--only", E03,
                   "--notebook-timeout", "3")
    outputs = {e["name"]: e.get("output", "") for e in json.loads(done.stdout)["exercises"]}
    assert "E01 cell printed" in outputs[E01] and "E03 cell printed" in outputs[E03], outputs
    assert "E03" not in outputs[E01] and "E01" not in outputs[E03], outputs


def test_a_one_file_course_shows_what_it_prints_on_import_once(tmp_path):
    course = "print('IMPORT printed')\n\n" + "\n\n".join(
        [_stub(E01), _stub(E03), E04_WRONG_PRINTING])
    (tmp_path / "course.py").write_text(course)
    only = ["--only", E01, "--only", E03, "--only", E04]
    done = run_cli(str(tmp_path / "course.py"), "--format", "json", *only)
    outputs = {e["name"]: e.get("output", "") for e in json.loads(done.stdout)["exercises"]}
    assert outputs[E01] == "IMPORT printed\n", outputs          # the first to do
    assert outputs[E03] == "" and "IMPORT" not in outputs[E04], outputs
    assert "E04 function printed" in outputs[E04]              # its own, still there
    for lang, same in (("en", "(the same as above)"), ("ko", "(위와 같음)")):
        terminal = run_cli(str(tmp_path / "course.py"), "--lang", lang, *only).stdout
        assert terminal.count("IMPORT printed") == 1 and same not in terminal, terminal


def test_cell_marks_and_owners():
    from grader.loaders import Source
    from grader.printed import _cell_chunks, _cell_owners
    from grader.protocol import CELL_MARK

    def mark(cell):
        return CELL_MARK.format(cell=cell)
    output = f"{mark(1)}setup\n{mark(2)}{mark(3)}no newline{mark(4)}x\n[... 9 more bytes" \
             " of output not shown ...]\n\x00torch"
    assert _cell_chunks(output) == [(1, "setup\n"), (3, "no newline\n"),
                                    (4, "x\n[... 9 more bytes of output not shown ...]\ntorch\n")]
    assert _cell_chunks("no marks\n") == [(None, "no marks\n")]
    cells = [(1, "import torch"), (2, "def f(): pass"), (3, "f()"), (4, "class G: pass"),
             (5, "print(1)")]
    source = Source(path="nb.ipynb", kind="notebook", module_name="nb", cells=tuple(cells))
    owners = _cell_owners(source, {"ex_f": ("f",), "ex_g": ("G", "h")})
    assert owners == {1: ("ex_f",), 2: ("ex_f",), 3: ("ex_f",), 4: ("ex_g",), 5: ("ex_g",)}
