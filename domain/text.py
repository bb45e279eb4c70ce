"""The one rule for text that comes from outside: no control characters.

NUL cannot be stored in a PostgreSQL text column, and the other C0 and C1 controls (and
DEL) have no business in a name, an address or a search: they hide text from people and
confuse logs and terminals. Lone surrogates cannot be encoded at all. Multi-line text (a
product description) may keep tabs and line breaks; nothing else may.
"""

from __future__ import annotations

import re

# Unicode category Cc (C0, DEL, C1) plus lone surrogates (Cs).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of `text` that the rule refuses, or None when `text` is fine.
    `multiline` allows tab, line feed and carriage return."""
    found = (_CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL).search(text)
    return found.group() if found is not None else None
