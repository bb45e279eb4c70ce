from __future__ import annotations

import pytest

from adapters.inprocess.cache import InMemoryCache
from adapters.system.clock import FixedClock


async def test_a_full_cache_drops_the_oldest_written_entries_first() -> None:
    cache = InMemoryCache(FixedClock(), max_entries=3)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl_seconds=60)
    await cache.set("a", b"a2", ttl_seconds=60)  # rewriting makes "a" the newest
    await cache.set("d", b"d", ttl_seconds=60)
    assert [await cache.get(key) for key in ("a", "b", "c", "d")] == [b"a2", None, b"c", b"d"]


async def test_a_non_positive_ttl_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="TTL must be positive"):
        await InMemoryCache(FixedClock()).set("k", b"v", ttl_seconds=0)


async def test_incrementing_a_non_number_is_a_programming_error() -> None:
    cache = InMemoryCache(FixedClock())
    await cache.set("k", b"not a number", ttl_seconds=60)
    with pytest.raises(ValueError, match="does not hold an integer"):
        await cache.incr("k")
