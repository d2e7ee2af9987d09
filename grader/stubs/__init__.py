"""The kit's pristine stubs, one folder per language, shipped inside the grader package.

`en/<name>.py` are byte-for-byte copies of `exercises/<name>.py` (a test holds them
equal). They exist because the kit is installed editable: `exercises/` is where the
student works, so the course notebook and the TODOs quoted in feedback must come from
copies no student edits. `ko/<name>.py` is the same code with Korean docstrings,
comments and TODO messages. `<lang>/_intro.md` opens the course notebook.
"""

from __future__ import annotations

from pathlib import Path

STUBS_DIR = Path(__file__).resolve().parent
DEFAULT_LANG = "en"


def languages() -> tuple[str, ...]:
    """The languages the stubs are written in: English first, then the others by code."""
    found = {p.name for p in STUBS_DIR.iterdir() if p.is_dir() and (p / "_intro.md").is_file()}
    return (DEFAULT_LANG, *sorted(found - {DEFAULT_LANG}))


def stub_path(name: str, lang: str = DEFAULT_LANG) -> Path | None:
    """The pristine stub of exercise `name` in `lang` (English when there is none in
    `lang`), or None for an exercise the kit ships no stub of."""
    for folder in dict.fromkeys((lang, DEFAULT_LANG)):
        path = STUBS_DIR / folder / f"{name}.py"
        if path.is_file():
            return path
    return None


def intro(lang: str = DEFAULT_LANG) -> str:
    """The course notebook's opening text in `lang` (English when there is none)."""
    path = STUBS_DIR / lang / "_intro.md"
    if not path.is_file():
        path = STUBS_DIR / DEFAULT_LANG / "_intro.md"
    return path.read_text(encoding="utf-8")
