"""What distinguishes the fixed window from the sliding one (the contract covers the rest)."""

from __future__ import annotations

import pytest

from adapters.inprocess.rate_limiter import InMemoryRateLimiter, WindowKind
from adapters.system.clock import FixedClock


async def test_a_fixed_window_lets_a_burst_through_on_each_side_of_a_boundary() -> None:
    clock = FixedClock()  # starts on a minute boundary
    limiter = InMemoryRateLimiter(clock, window=WindowKind.FIXED)
    clock.advance(59)
    assert all([(await limiter.hit("ip", limit=2, window_seconds=60)).allowed for _ in range(2)])
    clock.advance(1)
    assert all([(await limiter.hit("ip", limit=2, window_seconds=60)).allowed for _ in range(2)])


async def test_a_fixed_window_says_to_retry_when_the_window_ends() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock, window=WindowKind.FIXED)
    clock.advance(45.5)
    await limiter.hit("ip", limit=1, window_seconds=60)
    assert (await limiter.hit("ip", limit=1, window_seconds=60)).retry_after_seconds == 15


async def test_a_sliding_window_refuses_the_burst_across_a_boundary() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock, window=WindowKind.SLIDING)
    clock.advance(59)
    for _ in range(2):
        await limiter.hit("ip", limit=2, window_seconds=60)
    clock.advance(1)
    assert not (await limiter.hit("ip", limit=2, window_seconds=60)).allowed


async def test_a_sliding_window_frees_a_slot_when_the_oldest_hit_leaves_it() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock)
    await limiter.hit("ip", limit=2, window_seconds=60)
    clock.advance(20)
    await limiter.hit("ip", limit=2, window_seconds=60)
    clock.advance(10)
    refused = await limiter.hit("ip", limit=2, window_seconds=60)
    assert refused.retry_after_seconds == 30
    clock.advance(30)
    allowed = await limiter.hit("ip", limit=2, window_seconds=60)
    assert allowed.allowed
    assert allowed.remaining == 0


async def test_a_sliding_window_respects_a_lowered_limit_at_once() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock)
    for _ in range(5):  # one hit a second, at 0..4 s
        await limiter.hit("ip", limit=5, window_seconds=60)
        clock.advance(1)
    refused = await limiter.hit("ip", limit=2, window_seconds=60)
    assert not refused.allowed
    # At 5 s: a hit fits again once only one is left, i.e. when the one at 3 s leaves.
    assert refused.retry_after_seconds == 58


async def test_idle_keys_are_forgotten_so_memory_follows_active_clients() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock)
    for n in range(2_000):
        await limiter.hit(f"ip-{n}", limit=5, window_seconds=1)
        clock.advance(0.01)
    clock.advance(2)
    for _ in range(1_024):
        await limiter.hit("busy", limit=10_000, window_seconds=1)
    assert len(limiter._sliding) < 100


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (5, 0)])
async def test_a_limit_or_window_below_one_is_a_programming_error(limit: int, window: int) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        await InMemoryRateLimiter(FixedClock()).hit("ip", limit=limit, window_seconds=window)
