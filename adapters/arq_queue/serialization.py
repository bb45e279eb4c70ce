"""Jobs and their results travel as JSON, not arq's default pickle: anyone who can write
to Redis could otherwise make the worker run code of their choosing. Payloads are the
outbox's JSON documents anyway. A result that JSON cannot hold (an exception recorded
for a failed job) is stored as its repr, which is what a person reading it needs."""

from __future__ import annotations

import json
from typing import Any


def serialize(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=repr, separators=(",", ":")).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data
