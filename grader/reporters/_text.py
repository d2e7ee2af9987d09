"""Text that a submission produced, made safe for a file format."""

from __future__ import annotations

import re

# Terminal colour and cursor codes a student's program may print.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Control characters (tab, newline and carriage return stay), and what XML 1.0 cannot
# carry at all (surrogates, U+FFFE, U+FFFF).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """`text` without terminal escape codes and control characters."""
    return _CONTROL.sub("", _ANSI.sub("", text))
