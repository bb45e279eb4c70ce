"""The Cache contract: every cache adapter passes these."""

from __future__ import annotations

import abc
import asyncio

import pytest

from application.ports.runtime import Cache
from tests.contract.time_control import TimedContract


class CacheContract(TimedContract, abc.ABC):
    """Subclass with `make_cache` (use `self.clock` if the adapter takes a clock; a
    server-timed adapter overrides `make_time_control` to return `RealTime()`)."""

    @abc.abstractmethod
    def make_cache(self) -> Cache: ...

    @pytest.fixture
    def cache(self, _set_up_time: None) -> Cache:
        return self.make_cache()

    async def test_a_missing_key_reads_as_none(self, cache: Cache) -> None:
        assert await cache.get("contract:missing") is None

    async def test_a_value_reads_back_byte_for_byte(self, cache: Cache) -> None:
        value = bytes(range(256))
        await cache.set("contract:bytes", value, ttl_seconds=60)
        assert await cache.get("contract:bytes") == value

    async def test_a_value_lives_until_just_before_its_ttl_runs_out(self, cache: Cache) -> None:
        await cache.set("contract:ttl", b"v", ttl_seconds=30)
        await self.time.let_almost_pass(30)
        assert await cache.get("contract:ttl") == b"v"

    async def test_a_value_is_gone_once_its_ttl_has_passed(self, cache: Cache) -> None:
        await cache.set("contract:expiring", b"v", ttl_seconds=1)

        async def gone() -> bool:
            return await cache.get("contract:expiring") is None

        assert await self.time.holds_after(1, gone)

    async def test_setting_again_replaces_the_value_and_its_ttl(self, cache: Cache) -> None:
        await cache.set("contract:again", b"old", ttl_seconds=1)
        await cache.set("contract:again", b"new", ttl_seconds=60)
        await self.time.let_almost_pass(60)
        assert await cache.get("contract:again") == b"new"

    async def test_keys_are_independent(self, cache: Cache) -> None:
        await cache.set("contract:a", b"1", ttl_seconds=60)
        await cache.set("contract:b", b"2", ttl_seconds=60)
        await cache.delete("contract:a")
        assert await cache.get("contract:a") is None
        assert await cache.get("contract:b") == b"2"

    async def test_delete_forgets_the_value(self, cache: Cache) -> None:
        await cache.set("contract:deleted", b"v", ttl_seconds=60)
        await cache.delete("contract:deleted")
        assert await cache.get("contract:deleted") is None

    async def test_deleting_a_missing_key_is_harmless(self, cache: Cache) -> None:
        await cache.delete("contract:never-set")
        assert await cache.get("contract:never-set") is None

    async def test_incr_counts_up_from_one(self, cache: Cache) -> None:
        assert [await cache.incr("contract:counter") for _ in range(3)] == [1, 2, 3]

    async def test_an_incremented_counter_reads_as_ascii_digits(self, cache: Cache) -> None:
        await cache.incr("contract:digits")
        await cache.incr("contract:digits")
        assert await cache.get("contract:digits") == b"2"

    async def test_incr_continues_from_a_set_number_and_keeps_its_ttl(self, cache: Cache) -> None:
        await cache.set("contract:generation", b"41", ttl_seconds=1)
        assert await cache.incr("contract:generation") == 42

        async def gone() -> bool:
            return await cache.get("contract:generation") is None

        assert await self.time.holds_after(1, gone)

    async def test_concurrent_increments_each_get_their_own_number(self, cache: Cache) -> None:
        results = await asyncio.gather(*(cache.incr("contract:race") for _ in range(50)))
        assert sorted(results) == list(range(1, 51))

    async def test_a_versioned_read_without_a_counter_is_version_0_and_a_miss(
        self, cache: Cache
    ) -> None:
        assert await cache.get_versioned("contract:v:generation", "contract:v:") == (0, None)

    async def test_a_versioned_read_finds_the_value_under_the_current_counter(
        self, cache: Cache
    ) -> None:
        await cache.set("contract:v:0:page", b"at 0", ttl_seconds=60)
        at_0 = await cache.get_versioned("contract:v:generation", "contract:v:", ":page")
        await cache.incr("contract:v:generation")
        await cache.incr("contract:v:generation")
        await cache.set("contract:v:2:page", b"at 2", ttl_seconds=60)
        at_2 = await cache.get_versioned("contract:v:generation", "contract:v:", ":page")
        assert (at_0, at_2) == ((0, b"at 0"), (2, b"at 2"))

    async def test_after_incr_a_versioned_read_no_longer_returns_the_old_value(
        self, cache: Cache
    ) -> None:
        await cache.incr("contract:v:generation")
        await cache.set("contract:v:1:page", b"old", ttl_seconds=60)
        await cache.incr("contract:v:generation")
        read = await cache.get_versioned("contract:v:generation", "contract:v:", ":page")
        assert read == (2, None)
        assert await cache.get("contract:v:1:page") == b"old"  # still there, just not read

    async def test_a_versioned_read_of_a_counter_that_is_not_a_number_raises(
        self, cache: Cache
    ) -> None:
        await cache.set("contract:v:generation", b"not a number", ttl_seconds=60)
        with pytest.raises(ValueError, match="does not hold an integer"):
            await cache.get_versioned("contract:v:generation", "contract:v:")
