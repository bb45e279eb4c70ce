"""Keyset-pagination cursors, shared by every repository adapter.

A cursor is the sort key of the last item on a page plus its id, so the next page starts
strictly after it: stable under inserts, and O(page) for the store, not O(offset).
It is opaque to clients (URL-safe base64 of a small JSON array).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from domain.errors import InvalidValue
from domain.text import control_character
from domain.values import could_be_id


def encode_cursor(sort_value: Any, item_id: str) -> str:
    raw = json.dumps([sort_value, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[Any, str]:
    """Return (sort value, id) or raise InvalidValue for anything we did not produce."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidValue("cursor", "is not a cursor this API produced") from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[1], str)
        or not isinstance(value[0], str | int | None)
        or isinstance(value[0], bool)
        # What the API produced holds an id and no control characters (NUL would even
        # reach the database, which cannot store it).
        or not could_be_id(value[1])
        or (isinstance(value[0], str) and control_character(value[0]) is not None)
    ):
        raise InvalidValue("cursor", "is not a cursor this API produced")
    return value[0], value[1]
