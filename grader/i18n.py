"""Every text a student reads, in every language: catalogues as data, `Text`, rendering.

A catalogue is a folder of `<lang>.json` files, each one flat object of
`{key: template}` (templates use `str.format` placeholders). There are three
kinds of folder (called *domains*):

* `core`: the grader's own messages (`grader/texts/`);
* `checks`: messages shared by several exercises (`grader/checks/texts/`);
* one per exercise: the `texts/` folder of its checks package (its title is the
  key `title`, its hint levels `hint.1`, `hint.2`, ...).

A language is a language of the `core` domain. A third language needs no Python:
drop `<dir>/<lang>/<domain>.json` files in a folder named by `GRADER_TEXTS_PATH`
(folders separated by `os.pathsep`), e.g. `fr/core.json`, `fr/e01_numpy_grads.json`.

JSON, not gettext or TOML: the standard library reads it on every Python we
support (`tomllib` is 3.11+, `gettext` reads only compiled `.mo` files), and one
flat object per language is what a translator edits.

With `GRADER_STRICT_TEXTS=1` (the test suite sets it) a missing key, a missing
translation or a placeholder that does not fit raises `TextError` instead of
falling back to English or to the key.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

PACKS_ENV = "GRADER_TEXTS_PATH"
STRICT_ENV = "GRADER_STRICT_TEXTS"
DEFAULT_LANG = "en"
CORE_FOLDER = Path(__file__).parent / "texts"
CHECKS_FOLDER = Path(__file__).parent / "checks" / "texts"

#: {key: {lang: template}}: how a plugin may still give its texts inline.
Catalog = Mapping[str, Mapping[str, str]]


class TextError(LookupError):
    """A text that cannot be rendered (raised only in strict mode)."""


@dataclass(frozen=True)
class Text:
    """A message key and its parameters, rendered later in the report's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:  # in an f-string: English
        return render(self, DEFAULT_LANG, [])


def t(key: str, /, **params: Any) -> Text:
    return Text(key, params)


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0", "false", "no")


# -- catalogues ----------------------------------------------------------------------
@dataclass(frozen=True)
class Catalogue:
    """One domain's texts: {lang: {key: template}}."""

    domain: str
    texts: Mapping[str, Mapping[str, str]]

    def lookup(self, key: str, lang: str) -> str | None:
        return self.texts.get(lang, {}).get(key)

    def by_key(self) -> dict[str, dict[str, str]]:
        """{key: {lang: template}}: every text of one key side by side."""
        return {key: {lang: by_key[key] for lang, by_key in self.texts.items() if key in by_key}
                for key in self.keys()}

    def keys(self) -> set[str]:
        return {key for by_key in self.texts.values() for key in by_key}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts))


def _read_json(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise TextError(f"{path}: a catalogue is one JSON object of strings")
    return data


def _pack_folders() -> list[Path]:
    return [Path(p) for p in os.environ.get(PACKS_ENV, "").split(os.pathsep) if p]


@functools.lru_cache(maxsize=None)
def _load(domain: str, folder: str | None, packs: tuple[str, ...]) -> Catalogue:
    texts: dict[str, dict[str, str]] = {}
    if folder is not None and Path(folder).is_dir():
        for path in sorted(Path(folder).glob("*.json")):
            texts[path.stem] = _read_json(path)
    for pack in packs:
        for path in sorted(Path(pack).glob(f"*/{domain}.json")):
            texts.setdefault(path.parent.name, {}).update(_read_json(path))
    return Catalogue(domain, texts)


def catalogue(domain: str, folder: str | Path | None = None, inline: Catalog | None = None
              ) -> Catalogue:
    """The texts of `domain`: its folder, then language packs, then `inline` texts."""
    loaded = _load(domain, None if folder is None else str(folder),
                   tuple(str(p) for p in _pack_folders()))
    if not inline:
        return loaded
    texts = {lang: dict(by_key) for lang, by_key in loaded.texts.items()}
    for key, by_lang in inline.items():
        for lang, template in by_lang.items():
            texts.setdefault(lang, {}).setdefault(key, template)
    return Catalogue(domain, texts)


def core() -> Catalogue:
    return catalogue("core", CORE_FOLDER)


def shared() -> Catalogue:
    return catalogue("checks", CHECKS_FOLDER)


def languages() -> tuple[str, ...]:
    """Every language the grader speaks: English first, then the others by code."""
    found = set(core().languages) | {DEFAULT_LANG}
    return (DEFAULT_LANG, *sorted(found - {DEFAULT_LANG}))


def placeholders(template: str) -> set[str]:
    return {m.split(":")[0].split("!")[0] for m in re.findall(r"{([^{}]*)}", template)}


# -- rendering -----------------------------------------------------------------------
def _as_catalogue(catalog: Catalogue | Catalog) -> Catalogue:
    return catalog if isinstance(catalog, Catalogue) else catalogue("inline", None, catalog)


def _template(key: str, lang: str, chain: list[Catalogue]) -> str | None:
    for catalog in chain:
        template = catalog.lookup(key, lang)
        if template is not None:
            return template
    if lang == DEFAULT_LANG:
        return None
    english = _template(key, DEFAULT_LANG, chain)
    if english is not None and strict():
        raise TextError(f"no {lang} text for {key!r}")
    return english


def render(text: Text | str, lang: str, catalogs: Iterable[Catalogue | Catalog]) -> str:
    """One message in `lang` (English when there is no translation)."""
    if isinstance(text, str):
        return text
    chain = [_as_catalogue(c) for c in catalogs] + [shared(), core()]
    template = _template(text.key, lang, chain)
    if template is None:
        if strict():
            raise TextError(f"no text for the key {text.key!r}")
        return text.key
    params = {k: render(v, lang, chain) if isinstance(v, Text) else v
              for k, v in text.params.items()}
    try:
        rendered = template.format(**params)
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        if strict():
            raise TextError(f"{text.key!r} in {lang}: {exc!r} with {sorted(params)}") from exc
        rendered = f"{template} {params}"
    return particles(rendered) if lang == "ko" else rendered


def render_lines(lines: Iterable[Text | str], lang: str, catalogs: Iterable[Catalogue | Catalog]
                 ) -> str:
    catalogs = list(catalogs)
    return "\n".join(render(line, lang, catalogs) for line in lines if line)


class _Template(str):
    """A label's template that resolves Korean particles once formatted."""

    lang: str = DEFAULT_LANG

    def format(self, *args: Any, **kwargs: Any) -> str:
        text = str.format(self, *args, **kwargs)
        return particles(text) if self.lang == "ko" else text


def labels(group: str, lang: str) -> dict[str, str]:
    """The core texts named `<group>.<name>` (a reporter's labels, say) as {name: template}
    in `lang`, each falling back to English; `.format()` on one resolves particles."""
    prefix = f"{group}."
    english = {k[len(prefix):]: v for k, v in core().texts.get(DEFAULT_LANG, {}).items()
               if k.startswith(prefix)}
    chosen = core().texts.get(lang, {})
    found: dict[str, str] = {}
    for name, fallback in english.items():
        template = _Template(chosen.get(prefix + name, fallback))
        template.lang = lang
        found[name] = template
    return found


# -- Korean particles ---------------------------------------------------------------
# A template writes both forms, "{name}이(가)"; once the value is in, the form that
# fits its last sound is kept, as Korean interfaces do ("모델이", "텐서가").
_PAIRS = {"이(가)": ("이", "가"), "을(를)": ("을", "를"), "은(는)": ("은", "는"),
          "과(와)": ("과", "와"), "와(과)": ("과", "와"), "(으)로": ("으로", "로"),
          "(이)다": ("이다", "다"), "(이)나": ("이나", "나"), "(이)라는": ("이라는", "라는")}
_PARTICLE = re.compile(r"(?P<word>[^\s(]?)(?P<pair>" + "|".join(map(re.escape, _PAIRS)) + ")")
_CLOSERS = "`'\")]}>»”’"
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "3": "ㅁ", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ"}  # 영 일 삼 육 칠 팔


def _final_sound(before: str) -> str | None:
    """The final consonant of the last sound in `before`: '' for none, 'ㄹ', or other."""
    stripped = before.rstrip(_CLOSERS)
    if not stripped:
        return None
    last = stripped[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - ord("가")) % 28
        return "" if final == 0 else ("ㄹ" if final == 8 else "other")
    if last.isdigit():
        sound = _DIGIT_FINAL.get(last, "")
        return sound if sound in ("", "ㄹ") else "other"
    if last.isalpha() and last.isascii():
        word = stripped.lower()
        if word.endswith("l"):
            return "ㄹ"
        if word.endswith(("m", "n", "ng")):
            return "other"
        # a short vowel then k/p/t is read with a final consonant: Net 넷, input 인풋
        # (but list 리스트, weight 웨이트)
        return "other" if re.search(r"[aeiou][kpt]$", word) else ""
    return None


def particles(text: str) -> str:
    """Resolve every "이(가)"-style pair by the sound that precedes it."""
    def choose(match: re.Match) -> str:
        pair = match["pair"]
        with_final, without = _PAIRS[pair]
        final = _final_sound(text[:match.start("pair")])
        if final is None:
            return match.group(0)
        if pair == "(으)로":
            keep = without if final in ("", "ㄹ") else with_final
        else:
            keep = without if final == "" else with_final
        return match["word"] + keep
    return _PARTICLE.sub(choose, text)
