"""Text that a submission produced, made safe for a file format."""

from __future__ import annotations

import json
import re
from typing import Any

# Terminal colour and cursor codes a student's program may print.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Control characters (tab, newline and carriage return stay), and what XML 1.0 cannot
# carry at all (surrogates, U+FFFE, U+FFFF).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """`text` without terminal escape codes and control characters."""
    return _CONTROL.sub("", _ANSI.sub("", text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(data: Any) -> str:
    """`data` as JSON in valid UTF-8: a folder whose name is not UTF-8 (Python reads it
    as lone surrogates) is a student id too, and written as it is, its bytes made the
    whole class's report unreadable to a UTF-8 JSON reader. Each such character reads
    U+FFFD (the replacement character)."""
    return _SURROGATE.sub("\ufffd", json.dumps(data, ensure_ascii=False, indent=1))
