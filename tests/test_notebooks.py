"""Notebooks: whole-course notebooks, broken cells, odd files, and `python -m grader notebook`."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest
from nbformat import v4

from conftest import EXERCISES, SOLUTIONS, exercise_result, run_cli, solution_source
from grader.loaders import load_paths, read_notebook_cells, strip_magics, top_level_names
from grader.notebook import build_notebook, split_stub, stub_files
from grader.stubs import stub_path

COURSE = [p.stem for p in stub_files(EXERCISES)]
E01 = "e01_numpy_grads"


def write_notebook(path, cells, **metadata):
    notebook = v4.new_notebook(cells=cells, metadata=metadata)
    path.write_text(nbformat.writes(notebook))
    return path


def scores(report):
    return {e.name: (e.score, e.max_score) for e in report.exercises}


@pytest.fixture(scope="module")
def solutions_report(grader):
    return grader.grade(load_paths([SOLUTIONS], "solutions"))


@pytest.fixture(scope="module")
def stubs_report(grader):
    return grader.grade(load_paths([EXERCISES], "exercises"))


# -- whole-course notebooks ---------------------------------------------------------

DEMO_NUMPY = """\
# Try it: the tutorial's training loop, at top level as students write it
N, D_in, H, D_out = 64, 100, 50, 10
rng = np.random.default_rng(0)
x = rng.standard_normal((N, D_in))
y = rng.standard_normal((N, D_out))
w1 = rng.standard_normal((D_in, H)) * 0.1
w2 = rng.standard_normal((H, D_out)) * 0.1
w1, w2, losses = numpy_train(x, y, w1, w2, learning_rate=1e-4, steps=100)
for t in range(0, 100, 25):
    print(t, losses[t])
"""

DEMO_TORCH = """\
%time
import torch
x = torch.randn(32, 20)
y = torch.randn(32, 5)
model = TwoLayerNet(20, 16, 5)
losses = train(model, x, y, steps=50, learning_rate=1e-3)
print("final loss", losses[-1], evaluate(model, x, y))
"""


def course_notebook_from_solutions(path, broken: dict[str, str] | None = None):
    """Every solution in order, as a student would hand in the whole course."""
    cells = [v4.new_markdown_cell("# My PyTorch course"),
             v4.new_code_cell("%matplotlib inline\n!pip install -q torch\nimport numpy as np"),
             v4.new_code_cell("%%time\nthis cell is IPython only and is skipped")]
    for name in COURSE:
        cells.append(v4.new_markdown_cell(f"## {name}"))
        cells.append(v4.new_code_cell((broken or {}).get(name) or solution_source(name)))
        if name == E01:
            cells.append(v4.new_code_cell(DEMO_NUMPY))
    if {"e05_two_layer_net", "e07_training"} <= set(COURSE) and not broken:
        cells.append(v4.new_code_cell(DEMO_TORCH))
    cells.append(v4.new_code_cell("numpy_train?\n!ls -la"))
    return write_notebook(path, cells)


def test_whole_course_notebook_with_magics_and_demo_grades_like_the_solutions(
        grader, tmp_path, solutions_report):
    notebook = course_notebook_from_solutions(tmp_path / "course.ipynb")
    report = grader.grade(load_paths([notebook], "course"))
    assert [e.name for e in report.exercises] == [e.name for e in solutions_report.exercises]
    assert scores(report) == scores(solutions_report)
    assert report.full_marks == solutions_report.full_marks
    assert exercise_result(report, E01).full_marks
    assert not [n for n in report.notes if "cell" in n], report.notes   # nothing raised


def test_broken_cell_is_reported_and_the_rest_is_graded(grader, tmp_path, solutions_report):
    broken = "def tensor_two_layer_grads(x, y, w1, w2)\n    return 0\n"   # a syntax error
    notebook = course_notebook_from_solutions(tmp_path / "course.ipynb",
                                              broken={"e02_tensor_grads": broken})
    # Code cells: 1 setup, 2 %%time, then one per exercise (and the demo after e01)
    before = COURSE[:COURSE.index("e02_tensor_grads")]
    cell = f"cell {2 + sum(1 + (name == E01) for name in before) + 1}"
    report = grader.grade(load_paths([notebook], "course"))
    notes = " ".join(report.notes)
    assert cell in notes and "SyntaxError" in notes, report.notes
    assert exercise_result(report, E01).full_marks
    expected = scores(solutions_report)
    for name in COURSE:
        if name != "e02_tensor_grads":
            assert scores(report)[name] == expected[name], name
    e02 = exercise_result(report, "e02_tensor_grads")
    assert e02.score == 0
    assert cell in e02.summary


def test_a_cell_that_raises_keeps_the_definitions_before_it(grader, tmp_path):
    notebook = write_notebook(tmp_path / "e01.ipynb", [
        v4.new_code_cell("import numpy as np"),
        v4.new_code_cell(solution_source(E01) + "\nraise RuntimeError('plotting failed')\n"),
        v4.new_code_cell("print('still running')"),
    ])
    report = grader.grade(load_paths([notebook], "e01"))
    assert exercise_result(report, E01).full_marks
    assert any("cell 2" in n and "RuntimeError" in n for n in report.notes), report.notes


# -- odd notebooks: renamed, copied, no metadata, outputs left in --------------------

def _raw_notebook(cells, **top):
    return json.dumps({"cells": cells, **top})


def test_renamed_copy_without_metadata_with_big_outputs_is_graded(grader, tmp_path):
    picture = base64.b64encode(b"\x89PNG" + bytes(3 * 1024 * 1024)).decode()   # > 2 MiB
    cell = {"cell_type": "code", "execution_count": 7,
            "source": solution_source(E01).splitlines(True),
            "outputs": [{"output_type": "display_data", "data": {"image/png": picture},
                         "metadata": {}},
                        {"output_type": "error", "ename": "NameError", "evalue": "x",
                         "traceback": ["\x1b[31mNameError\x1b[0m"]}]}
    path = tmp_path / "Copy of e01_numpy_grads (1).ipynb"
    path.write_text(_raw_notebook([cell], nbformat=4, nbformat_minor=2))   # no metadata
    assert path.stat().st_size > 2 * 1024 * 1024
    report = grader.grade(load_paths([path], "copy"))
    assert exercise_result(report, E01).full_marks
    assert not report.notes


@pytest.mark.parametrize("text", [
    _raw_notebook([{"cell_type": "code", "source": "x = 1"}], nbformat=4, nbformat_minor=2),
    _raw_notebook([{"cell_type": "code", "source": ["x = 1\n"], "metadata": {}, "outputs": []}]),
    "\ufeff" + _raw_notebook([{"cell_type": "code", "source": "x = 1", "metadata": {},
                               "outputs": [], "execution_count": None}],
                             metadata={}, nbformat=4, nbformat_minor=5),
    json.dumps({"worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1",
                                           "language": "python", "outputs": [],
                                           "metadata": {}}]}],
                "metadata": {}, "nbformat": 3, "nbformat_minor": 0}),
], ids=["no-metadata", "no-version", "bom-no-ids", "nbformat-3"])
def test_odd_notebook_files_are_read(tmp_path, text):
    path = tmp_path / "odd.ipynb"
    path.write_text(text, encoding="utf-8")
    assert read_notebook_cells(path) == ((1, "x = 1"),)


def test_a_python_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "e01_numpy_grads.py"
    path.write_bytes(b"\xef\xbb\xbf" + solution_source(E01).encode())
    (source,) = load_paths([path], "s").sources
    assert source.code == solution_source(E01) and "numpy_train" in source.defines


def test_a_script_wins_over_its_notebook_unless_it_is_a_jupyter_export(tmp_path):
    write_notebook(tmp_path / "course.ipynb", [v4.new_code_cell("def numpy_train(): pass")])
    script = tmp_path / "course.py"
    script.write_text("def numpy_train(): pass\n")
    assert [s.kind for s in load_paths([tmp_path], "s").sources] == ["module"]
    script.write_text("get_ipython().run_line_magic('matplotlib', 'inline')\n"
                      "def numpy_train(): pass\n")
    assert [s.kind for s in load_paths([tmp_path], "s").sources] == ["notebook"]


def test_a_file_that_is_not_a_notebook_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "e01_numpy_grads.py").write_text(solution_source(E01))
    submission = load_paths([tmp_path], "s")
    assert any("broken.ipynb" in p for p in submission.problems)
    assert submission.source_for(E01, ("numpy_train",)) is not None


def test_copies_are_found_by_what_they_define(tmp_path):
    helper = tmp_path / "Copy of course.ipynb"
    write_notebook(helper, [v4.new_code_cell("def train(model):\n    pass")])
    course = tmp_path / "course-Copy1.ipynb"
    write_notebook(course, [v4.new_code_cell("def train(m, x, y):\n    pass\n"
                                             "def evaluate(m, x, y):\n    pass\n"
                                             "def pick_device():\n    pass")])
    submission = load_paths([tmp_path], "s")
    chosen = submission.source_for("e07_training", ("train", "evaluate", "pick_device"))
    assert chosen is not None and chosen.path == str(course)   # defines more of the names


def test_magics_are_skipped_only_where_a_statement_starts():
    code = ('%matplotlib inline\n!pip install torch \\\n    numpy\nfiles = !ls\nnp.dot?\n'
            'def f():\n    """Docs.\n% of it\n!important\n"""\n    %time g()\n'
            '    return [1,\n%2]\n')
    out = strip_magics(code)
    assert out.splitlines() == [
        "pass", "pass", "", "pass", "pass",
        "def f():", '    """Docs.', "% of it", "!important", '"""', "    pass",
        "    return [1,", "%2]"]
    assert strip_magics("\n%%time\nanything at all") is None


def test_top_level_names_reach_into_blocks_and_survive_syntax_errors():
    assert {"h", "z", "google"} <= top_level_names(
        "try:\n    import google.colab\nexcept ImportError:\n    def h(): pass\n"
        "if True:\n    z = 1\n")
    assert {"numpy_train", "TwoLayerNet", "w"} <= top_level_names(
        "def numpy_train(x:\n    pass\nclass TwoLayerNet: pass\nw = 3\n")


# -- the generated course notebook ----------------------------------------------------

def test_course_notebook_is_valid_and_holds_every_stub():
    notebook = build_notebook()
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.metadata["torchkit"]["exercise"] for c in code] == COURSE
    for cell, name in zip(code, COURSE):
        docstring, stub = split_stub((EXERCISES / f"{name}.py").read_text())
        assert cell.source == stub
        assert "if __name__" not in cell.source
    assert nbformat.writes(build_notebook()) == nbformat.writes(notebook)   # stable


def test_split_stub_drops_docstring_and_main_demo():
    doc, code = split_stub('"""Title.\n\nMore."""\nimport torch\n\n\ndef f():\n    return 1\n\n\n'
                           'if __name__ == "__main__":\n    print(f())\n')
    assert doc == "Title.\n\nMore."
    assert code == "import torch\n\n\ndef f():\n    return 1"


def test_untouched_course_notebook_grades_like_the_stubs(grader, tmp_path, stubs_report):
    path = tmp_path / "course.ipynb"
    path.write_text(nbformat.writes(build_notebook()))
    report = grader.grade(load_paths([path], "course"))
    assert scores(report) == scores(stubs_report)
    assert report.score == 0
    for ours, theirs in zip(report.exercises, stubs_report.exercises):
        assert [c.status for c in ours.checks] == [c.status for c in theirs.checks], ours.name
        said = " ".join(c.feedback for c in ours.checks).lower()
        assert ("not implemented yet" in said) == \
            ("not implemented yet" in " ".join(c.feedback for c in theirs.checks).lower())
    assert "not implemented yet" in " ".join(
        c.feedback for c in exercise_result(report, E01).checks).lower()


def test_notebook_command(tmp_path):
    done = run_cli("notebook", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "course.ipynb"
    nbformat.validate(nbformat.read(written, as_version=4))
    assert "course.ipynb" in done.stderr and done.stdout == ""
    again = run_cli("notebook", cwd=tmp_path)          # never overwrites a student's work
    assert again.returncode == 2 and "--force" in again.stderr
    other = tmp_path / "mine.ipynb"
    assert run_cli("notebook", "--out", str(other), cwd=tmp_path).returncode == 0
    assert other.read_text().replace("mine.ipynb", "course.ipynb") == written.read_text()
    assert run_cli("notebook", "--out", str(other), "--force", cwd=tmp_path).returncode == 0
    assert run_cli("notebook", "--out", str(tmp_path / "no" / "x.ipynb")).returncode == 2
    assert run_cli("notebook", "--bogus").returncode == 2


# -- IPython-isms and long cells --------------------------------------------------------

def test_display_and_get_ipython_do_not_break_a_cell(grader, tmp_path):
    path = write_notebook(tmp_path / "work.ipynb", [
        v4.new_code_cell("get_ipython().run_line_magic('matplotlib', 'inline')\n"
                         "display('hello')\n" + solution_source(E01)),
    ])
    report = grader.grade(load_paths([path], "work"))
    assert exercise_result(report, E01).full_marks
    assert not report.notes


def test_a_timeout_in_a_notebook_names_the_cell_that_was_running(grader, tmp_path):
    path = write_notebook(tmp_path / "work.ipynb", [
        v4.new_code_cell(solution_source(E01)),
        v4.new_markdown_cell("A long experiment:"),
        v4.new_code_cell("while True:\n    pass\n"),
    ])
    result = exercise_result(grader.grade(load_paths([path], "work")), E01)
    assert {c.status for c in result.checks} == {"timeout"}
    assert "code cell 2" in result.summary and "%%time" in result.summary


def test_a_cell_error_is_told_where_it_matters(grader, tmp_path):
    """A failing plot cell is a note of the report, not feedback for every exercise."""
    e02 = solution_source("e02_tensor_grads").replace("2.0 * (y_pred - y)", "(y_pred - y)")
    assert e02 != solution_source("e02_tensor_grads")
    path = write_notebook(tmp_path / "work.ipynb", [
        v4.new_code_cell(solution_source(E01)),
        v4.new_code_cell("import matplotlib_that_is_not_there\n"),
        v4.new_code_cell(e02),
    ])
    report = grader.grade(load_paths([path], "work"))
    assert any("code cell 2" in note for note in report.notes)
    e02_result = exercise_result(report, "e02_tensor_grads")
    assert not e02_result.full_marks and "code cell 2" not in e02_result.summary


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_untouched_stubs_beside_a_finished_notebook_give_way_to_it(grader, tmp_path, lang):
    """Students hand in the stub files they never touched with the notebook they worked in
    (the kit's pristine stubs in any language, whatever exercises/ holds now)."""
    (tmp_path / f"{E01}.py").write_text(stub_path(E01, lang).read_text(encoding="utf-8"),
                                        encoding="utf-8")
    write_notebook(tmp_path / "work.ipynb", [v4.new_code_cell(solution_source(E01))])
    report = grader.grade(load_paths([tmp_path], "both"))
    assert exercise_result(report, E01).full_marks
    (tmp_path / "work.ipynb").unlink()
    report = grader.grade(load_paths([tmp_path], "stub-only"))
    assert "not implemented yet" in exercise_result(report, E01).checks[0].feedback.lower()
