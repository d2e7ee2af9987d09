"""`python -m grader notebook [--out FILE] [--lang ko]`: the whole course as one notebook.

Every exercise stub becomes a markdown cell (its module docstring) and a code cell
(the rest of the file, without any `if __name__ == "__main__":` demo). The stubs are
the kit's pristine copies in the grader package (`grader/stubs/<lang>/`), never
`exercises/`, which the student edits (the kit is installed editable); `--from DIR`
builds from a folder of one's own instead. Untouched, the notebook grades exactly like
the stubs: every exercise scores 0 with "not implemented yet". Students fill it in (in
Jupyter, VS Code or Colab) and grade it with `python -m grader FILE`.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

from grader import __version__, stubs

DEFAULT_OUT = "course.ipynb"


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


def pristine_stubs(lang: str = stubs.DEFAULT_LANG) -> list[Path]:
    """The kit's own stubs of the course, in order and in `lang` (English where a stub
    has no translation); an exercise the package ships no copy of comes from the kit's
    `exercises/`."""
    from grader.course import COURSE

    return [stubs.stub_path(entry.name, lang) or entry.stub for entry in COURSE]


def build_notebook(directory: Path | None = None, out_name: str = DEFAULT_OUT,
                   lang: str = stubs.DEFAULT_LANG) -> Any:
    """The course notebook (an `nbformat.NotebookNode`) in `lang`, built from the kit's
    pristine stubs, or from the stubs in `directory`."""
    import nbformat
    from nbformat import v4

    files = pristine_stubs(lang) if directory is None else stub_files(directory)
    intro = stubs.intro(lang).replace("{out}", out_name)
    cells = [v4.new_markdown_cell(intro, id="torchkit-intro")]
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
        "torchkit": {"version": __version__, "exercises": [p.stem for p in files],
                     "lang": lang},
    })
    nbformat.validate(notebook)
    return notebook


def write_notebook(out: Path, directory: Path | None = None,
                   lang: str = stubs.DEFAULT_LANG) -> Any:
    import nbformat

    notebook = build_notebook(directory, out_name=out.name if str(out) != "-" else DEFAULT_OUT,
                              lang=lang)
    text = nbformat.writes(notebook)
    if str(out) == "-":
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
    return notebook
