"""`python -m grader notebook [--out FILE]`: the whole course as one Jupyter notebook.

Every exercise stub (`exercises/*.py`, in order) becomes a markdown cell (its
module docstring) and a code cell (the rest of the file, without any
`if __name__ == "__main__":` demo). Untouched, the notebook grades exactly like
`exercises/`: every exercise scores 0 with "not implemented yet". Students fill
it in (in Jupyter, VS Code or Colab) and grade it with `python -m grader FILE`.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

from grader import __version__

DEFAULT_OUT = "course.ipynb"

INTRO = """\
# torchkit: Learning PyTorch with Examples

One notebook for the whole course: each exercise below comes with its instructions
and a code cell to complete (replace each `raise NotImplementedError(...)`).

Grade your work at any time (save the notebook first), from a terminal:

    python -m grader {out}

or from a cell in this notebook (`!` lines are skipped when the notebook is graded):

    !python -m grader {out}

Keep the function and class names as they are; the grader looks for them. Cells run
from top to bottom when graded, once: a cell that fails is reported with its number,
and the cells after it still run. Your own demos and experiments at top level have
120 seconds in all; each exercise is then checked on what the notebook defined.
Lines starting with `%` or `!` are skipped, and so is any cell that starts with `%%`.
"""


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (either way round)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
        any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def split_stub(code: str) -> tuple[str, str]:
    """A stub's (module docstring, code without the docstring and `__main__` demo)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    drop: set[int] = set()           # 0-based line numbers to leave out
    docstring = ast.get_docstring(tree, clean=True) or ""
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        drop.update(range(body[0].lineno - 1, body[0].end_lineno or body[0].lineno))
    for node in body:
        if _is_main_guard(node):
            drop.update(range(node.lineno - 1, node.end_lineno or node.lineno))
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    kept = re.sub(r"\n{3,}", "\n\n\n", kept)
    return docstring, kept.strip("\n")


def _markdown(name: str, docstring: str) -> str:
    doc = inspect.cleandoc(docstring) if docstring else ""
    title, _, rest = doc.partition("\n")
    heading = f"## {title.strip().rstrip('.') or name}\n\n`{name}`"
    rest = rest.strip("\n")
    if not rest:
        return heading
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", rest)), default=0) + 1)
    return f"{heading}\n\n{fence}text\n{rest}\n{fence}"


def stub_files(directory: Path) -> list[Path]:
    """The exercise files of a directory, in course order (as the loader sees them)."""
    return sorted(p for p in directory.iterdir()
                  if p.suffix == ".py" and not p.name.startswith((".", "_")))


def build_notebook(directory: Path | None = None, out_name: str = DEFAULT_OUT) -> Any:
    """The course notebook (an `nbformat.NotebookNode`) built from a directory of stubs."""
    import nbformat
    from nbformat import v4

    if directory is None:
        from grader.grading import EXERCISES_DIR
        directory = EXERCISES_DIR
    files = stub_files(directory)
    cells = [v4.new_markdown_cell(INTRO.format(out=out_name), id="torchkit-intro")]
    for path in files:
        name = path.stem
        docstring, code = split_stub(path.read_text(encoding="utf-8-sig"))
        meta = {"torchkit": {"exercise": name}}
        key = re.sub(r"[^A-Za-z0-9_-]", "-", name)[:59]   # cell ids: 1-64 of [A-Za-z0-9_-]
        cells.append(v4.new_markdown_cell(_markdown(name, docstring), id=f"{key}-doc",
                                          metadata=meta))
        cells.append(v4.new_code_cell(code, id=f"{key}-code", metadata=meta))
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "torchkit": {"version": __version__, "exercises": [p.stem for p in files]},
    })
    nbformat.validate(notebook)
    return notebook


def write_notebook(out: Path, directory: Path | None = None) -> Any:
    import nbformat

    notebook = build_notebook(directory, out_name=out.name if str(out) != "-" else DEFAULT_OUT)
    text = nbformat.writes(notebook)
    if str(out) == "-":
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
    return notebook
