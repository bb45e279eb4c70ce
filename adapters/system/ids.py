"""Identifier generators: time-ordered UUIDs for running, a counter for tests."""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_RANDOM_BITS = 74  # 12 bits of rand_a + 62 bits of rand_b in RFC 9562's UUIDv7 layout
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1


class UuidGenerator:
    """UUIDv7 strings (RFC 9562), in the canonical 36-character form.

    Version 7 rather than 4 because the first 48 bits are the Unix time in milliseconds:
    ids sort by creation time, so B-tree indexes on id columns take inserts at one end
    instead of on random pages, and an id says roughly when it was made. The remaining
    74 bits are random. Within one generator, ids are strictly increasing even when many
    are made in the same millisecond or the wall clock steps back (the previous id plus
    one is used), so sorting by id gives creation order in one process.

    Thread-safe. Python 3.14 has `uuid.uuid7()`; this is the same layout for 3.11.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0  # the last id's 122 payload bits: 48 bits of ms, then 74 random

    def new_id(self) -> str:
        with self._lock:
            payload = (time.time_ns() // 1_000_000) << _RANDOM_BITS | secrets.randbits(_RANDOM_BITS)
            if payload <= self._last:
                payload = self._last + 1
            self._last = payload
        return str(_uuid7_from_payload(payload))


def _uuid7_from_payload(payload: int) -> uuid.UUID:
    unix_ms = payload >> _RANDOM_BITS
    rand_a = (payload >> 62) & 0xFFF
    rand_b = payload & ((1 << 62) - 1)
    value = unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


class SequentialIds:
    """Predictable ids for tests: `f"{prefix}{n}"` with n = 1, 2, 3, ...

    The number is zero-padded to `width` digits so ids also sort in creation order as
    strings. With the default empty prefix the ids are valid UUIDs
    (00000000-0000-4000-8000-000000000001, ...), for adapters that store ids in UUID
    columns.
    """

    def __init__(self, prefix: str = "", *, start: int = 1, width: int = 6) -> None:
        self._prefix = prefix
        self._next = start
        self._width = width
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            n = self._next
            self._next += 1
        if not self._prefix:
            return f"00000000-0000-4000-8000-{n:012d}"
        return f"{self._prefix}{n:0{self._width}d}"
