"""The course notebook from the kit's pristine stubs, in English or Korean; the stubs' TODOs
in the report's language; hint levels climbed one at a time, none of them the answer."""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from conftest import EXERCISES, SOLUTIONS, exercise_result, run_cli
from grader import hints, i18n, stubs, todos
from grader.course import COURSE
from grader.i18n import languages
from grader.loaders import load_paths
from grader.notebook import build_notebook, split_stub
from grader.plugins import collect_exercises, plugin_manager

NAMES = [entry.name for entry in COURSE]
ALL_EXERCISES = collect_exercises(plugin_manager())
HANGUL = re.compile("[가-힣]")


def _code_shape(path: Path) -> str:
    """A module's code with every string blanked: docstrings and messages may differ."""
    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            return ast.Constant("") if isinstance(node.value, str) else node
    return ast.dump(Blank().visit(ast.parse(path.read_text(encoding="utf-8"))))


def _texts(path: Path) -> list[str]:
    """What a student reads in a stub: its docstrings and TODO messages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documented = [tree, *(node for node in ast.walk(tree) if isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    docstrings = [ast.get_docstring(node) for node in documented]
    return [text for text in docstrings if text] + list(todos.todos_of(path).values())


# -- the pristine stubs ------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_the_english_stubs_are_the_exercises_byte_for_byte(name):
    shipped = stubs.STUBS_DIR / "en" / f"{name}.py"
    assert shipped.read_bytes() == (EXERCISES / f"{name}.py").read_bytes(), \
        f"copy exercises/{name}.py to grader/stubs/en/ (the notebook is built from it)"


def test_the_stubs_folders_hold_the_course_and_nothing_else():
    for lang in stubs.languages():
        assert sorted(p.stem for p in (stubs.STUBS_DIR / lang).glob("*.py")) == NAMES, lang


@pytest.mark.parametrize("name", NAMES)
def test_the_korean_stubs_are_the_same_code_in_korean(name):
    english, korean = (stubs.STUBS_DIR / lang / f"{name}.py" for lang in ("en", "ko"))
    assert _code_shape(korean) == _code_shape(english)   # names, signatures, every statement
    english_texts = set(_texts(english))
    for text in _texts(korean):
        # a formula ("y_pred = linear2(relu(linear1(x))).") reads the same in both
        formula = text in english_texts and not re.search(r"[a-z]{3,} [a-z]{3,}", text)
        assert HANGUL.search(text) or formula, f"{name}: not translated: {text!r}"


def test_every_stub_todo_has_its_translation_and_names_one_function():
    english, korean = todos._table("en"), todos._table("ko")
    assert english and set(english) == set(korean)
    for table in (english, korean):
        assert len(set(table.values())) == len(table), "two functions share a TODO"


def test_a_stub_todo_is_quoted_in_the_reports_language():
    english = "TODO: move the channel axis to the end"
    korean = "TODO: 채널 축을 맨 끝으로 옮기세요"
    assert todos.todo_in("ko", english) == korean
    assert todos.todo_in("en", korean) == english
    assert todos.todo_in("en", english) == english
    assert todos.todo_in("ko", "TODO: move the channel axis\n   to the end") == korean
    assert todos.todo_in("fr", korean) == english           # no French stubs: English
    assert todos.todo_in("ko", "TODO: my own note") is None  # the student's: as it is


# -- the course notebook ---------------------------------------------------------------

def _kit_with_edited_exercises(tmp_path: Path) -> Path:
    kit = tmp_path / "kit"
    shutil.copytree(EXERCISES, kit / "exercises")
    edited = kit / "exercises" / "e01_numpy_grads.py"
    edited.write_text(edited.read_text().replace(
        "raise NotImplementedError(\n        \"TODO: compute h", "return 'MY WORK'\n    raise "
        "NotImplementedError(\n        \"TODO: compute h"))
    assert "MY WORK" in edited.read_text()
    return kit


def test_the_notebook_is_built_from_pristine_stubs_whatever_the_student_edited(
        tmp_path, monkeypatch):
    pristine = nbformat.writes(build_notebook())
    kit = _kit_with_edited_exercises(tmp_path)
    import grader.course
    import grader.grading
    monkeypatch.setattr(grader.course, "KIT_ROOT", kit)
    monkeypatch.setattr(grader.grading, "EXERCISES_DIR", kit / "exercises")
    assert nbformat.writes(build_notebook()) == pristine
    assert "MY WORK" not in pristine
    # --from DIR still builds from the folder it names
    assert "MY WORK" in nbformat.writes(build_notebook(kit / "exercises"))


def test_notebook_from_a_folder_and_in_korean_on_the_command_line(tmp_path):
    kit = _kit_with_edited_exercises(tmp_path)
    done = run_cli("notebook", "--from", str(kit / "exercises"), "--out", "-", "--lang", "ko",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    notebook = nbformat.reads(done.stdout, as_version=4)
    code = {c.metadata["torchkit"]["exercise"]: c.source for c in notebook.cells
            if c.cell_type == "code"}
    assert "MY WORK" in code["e01_numpy_grads"]                     # as edited
    assert "예제로 배우는 PyTorch" in notebook.cells[0].source     # the Korean intro
    assert notebook.metadata["torchkit"]["lang"] == "ko"
    assert run_cli("notebook", "--lang", "xx", "--out", "-").returncode == 2


def test_the_korean_notebook_holds_every_korean_stub():
    notebook = build_notebook(lang="ko")
    nbformat.validate(notebook)
    assert HANGUL.search(notebook.cells[0].source)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    docs = [c for c in notebook.cells[1:] if c.cell_type == "markdown"]
    assert [c.metadata["torchkit"]["exercise"] for c in code] == NAMES
    for cell, doc, name in zip(code, docs, NAMES):
        docstring, stub = split_stub((stubs.STUBS_DIR / "ko" / f"{name}.py").read_text())
        assert cell.source == stub and "TODO:" in stub and HANGUL.search(stub)
        assert HANGUL.search(doc.source.splitlines()[0]), doc.source   # a Korean heading


@pytest.fixture(scope="module")
def stub_statuses(grader):
    report = grader.grade(load_paths([EXERCISES], "exercises"))
    return {e.name: [c.status for c in e.checks] for e in report.exercises}


def _all_waiting_on_todos(report, stub_statuses) -> None:
    assert report.score == 0
    for exercise in report.exercises:
        assert [c.status for c in exercise.checks] == stub_statuses[exercise.name], exercise.name
        said = " ".join(c.feedback for c in exercise.checks).lower()
        assert "not implemented yet" in said, exercise.name


def test_the_korean_stubs_grade_like_the_english_ones(grader, tmp_path, stub_statuses):
    folder = tmp_path / "ko"
    shutil.copytree(stubs.STUBS_DIR / "ko", folder, ignore=shutil.ignore_patterns("_*"))
    _all_waiting_on_todos(grader.grade(load_paths([folder], "ko")), stub_statuses)


def test_the_korean_notebook_grades_like_the_stubs_and_quotes_english_todos(
        grader, tmp_path, stub_statuses):
    path = tmp_path / "course.ipynb"
    path.write_text(nbformat.writes(build_notebook(lang="ko")))
    report = grader.grade(load_paths([path], "course"))
    _all_waiting_on_todos(report, stub_statuses)
    waiting = [c.feedback for c in exercise_result(report, "e04_my_relu").checks
               if c.feedback.startswith("Not implemented yet")]
    assert waiting and all(todos._table("en")[("e04_my_relu", "MyReLU.backward")] in line
                           and not HANGUL.search(line) for line in waiting)


def test_a_korean_report_quotes_the_korean_todo_of_an_english_stub(grader, monkeypatch):
    monkeypatch.setattr(grader, "options", replace(grader.options, lang="ko"))
    report = grader.grade(load_paths([EXERCISES / "e04_my_relu.py"], "e04"))
    feedback = " ".join(c.feedback for c in exercise_result(report, "e04_my_relu").checks)
    assert todos._table("ko")[("e04_my_relu", "MyReLU.backward")] in feedback


# -- hint levels -------------------------------------------------------------------------

@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.name)
def test_every_exercise_has_three_hint_levels_or_more_in_every_language(exercise):
    if exercise.name not in NAMES:
        pytest.skip("an exercise pack's hints are its own")
    for lang in languages():
        assert len(exercise.hint_levels(lang)) >= 3, (exercise.name, lang)


def test_every_language_has_a_hint_label():
    for lang in languages():
        label = i18n.labels("hints", lang)["label"].format(level=2, count=3)
        assert hints.names_its_level(label + "text"), lang


def significant_lines(path: Path) -> list[str]:
    """The solution's code lines inside function bodies, without whitespace: no docstring,
    no comment, and none of the trivial ones (`return x, y`, `losses = []`, a bracket)."""
    code = path.read_text(encoding="utf-8")
    lines = code.splitlines()
    inside: set[int] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str) and len(body) > 1:
                first = body[1]
            inside.update(range(first.lineno, (node.end_lineno or first.lineno) + 1))
    trivial = re.compile(r"(return)?[\w.,]*|super\(\)\.__init__\(\)"
                         r"|[\w,]+=(\[\]|\(\)|[\w.]+)(,\[\])*|[\[\](){},]*")
    found = []
    for number in sorted(inside):
        text = re.sub(r"\s+", "", lines[number - 1].split("#")[0])
        if len(text) >= 12 and not trivial.fullmatch(text):
            found.append(text)
    return found


def gives_away(line: str, hint: str) -> bool:
    """Whether a hint holds a solution line: the line, what it returns, or the value an
    assignment computes (whatever the variable is called in the hint)."""
    hint = re.sub(r"\s+", "", hint)
    forms = [line, line.removeprefix("return")]
    assigned = re.match(r"[\w.,\[\]()]+?[-+*/]?=(?!=)(.{8,})", line)
    if assigned and not line.startswith(("return", "if", "for", "with")):
        forms.append(assigned.group(1))
    return any(form in hint for form in forms)


@pytest.mark.parametrize("name", NAMES)
def test_no_hint_level_gives_away_half_the_solution(name):
    solution = significant_lines(SOLUTIONS / f"{name}.py")
    assert len(solution) >= 3
    exercise = next(e for e in ALL_EXERCISES if e.name == name)
    for lang in languages():
        for number, level in enumerate(exercise.hint_levels(lang), 1):
            given = [line for line in solution if gives_away(line, level)]
            assert len(given) <= len(solution) / 2, (name, lang, number, given)


def test_the_leak_check_catches_a_hint_that_is_the_solution():
    solution = significant_lines(SOLUTIONS / "e05_two_layer_net.py")
    answer = ("self.linear1 = nn.Linear(D_in, H); self.linear2 = nn.Linear(H, D_out); "
              "return self.linear2(torch.relu(self.linear1(x)))")
    assert all(gives_away(line, answer) for line in solution)


class _Exercise:
    """What `hints.hint_text` reads of an exercise."""

    name = "e99_fake"

    def hint_levels(self, lang: str) -> tuple[str, ...]:
        return ("nudge", "approach", "near-code")


def _new_process(monkeypatch) -> None:
    monkeypatch.setattr(hints, "_shown", {})


def test_hints_climb_one_level_per_run_and_stop_at_the_last(tmp_path, monkeypatch):
    state = tmp_path / "cache" / "hints.json"
    monkeypatch.setenv(hints.HINTS_FILE_ENV, str(state))
    work, other = tmp_path / "work", tmp_path / "other"
    exercise = _Exercise()

    def shown(option, folder=work, lang="en") -> str:
        return hints.hint_text(exercise, lang, option, failed=True, folder=folder)

    _new_process(monkeypatch)
    assert shown(False) == "Hint 1/3: nudge"                       # no --hints: level 1
    assert shown("next") == "Hint 2/3: approach"
    assert shown("next") == "Hint 2/3: approach"                   # once per process
    hints.remember(["e99_fake"])
    _new_process(monkeypatch)
    assert shown("next", lang="ko") == "힌트 3/3: near-code"
    assert shown("next", folder=other) == "Hint 2/3: approach"     # per folder
    hints.remember(["e00_something_else"])                         # not shown: not kept
    saved = json.loads(state.read_text())["folders"]
    assert saved == {str(work.resolve()): {"e99_fake": 2}}
    hints.remember(["e99_fake"])
    for _ in range(2):
        _new_process(monkeypatch)
        assert shown("next") == "Hint 3/3: near-code"              # the last one stays
        hints.remember(["e99_fake"])
    assert shown("all") == "Hint 1/3: nudge\nHint 2/3: approach\nHint 3/3: near-code"
    assert hints.hint_text(exercise, "en", "next", failed=False, folder=work) == ""
    state.write_text("{not json")                                  # a broken file: anew
    _new_process(monkeypatch)
    assert shown("next") == "Hint 2/3: approach"


def test_the_hints_file_defaults_to_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(hints.HINTS_FILE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert hints.state_file() == tmp_path / "torchkit" / "hints.json"


def test_hints_on_the_command_line(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXERCISES / "e04_my_relu.py", work)
    env = {hints.HINTS_FILE_ENV: str(tmp_path / "hints.json")}
    only = ("--only", "e04_my_relu")
    first = run_cli("--hints", str(work), *only, env=env)          # --hints before the path
    assert first.returncode == 1, first.stderr
    assert "    Hint 2/3: " in first.stdout and "hint: Hint" not in first.stdout
    second = run_cli(str(work / "e04_my_relu.py"), "--hints", *only, env=env)
    assert "Hint 3/3: " in second.stdout and "Hint 2/3" not in second.stdout
    every = run_cli(str(work), "--hints", "all", "--lang", "ko", *only, env=env)
    assert all(f"힌트 {n}/3: " in every.stdout for n in (1, 2, 3)), every.stdout
    assert json.loads((tmp_path / "hints.json").read_text())["folders"] == {
        str(work.resolve()): {"e04_my_relu": 3}}
