"""The RateLimiter contract: every rate limiter passes these, fixed or sliding window."""

from __future__ import annotations

import abc
import asyncio

import pytest

from application.ports.runtime import RateLimiter
from tests.contract.time_control import TimedContract


class RateLimiterContract(TimedContract, abc.ABC):
    """Subclass with `make_rate_limiter` (use `self.clock` if the adapter takes one).

    A server-timed adapter returns `RealTime()` from `make_time_control` and may shorten
    `window_seconds` so the tests that wait for a window to pass finish quickly.
    """

    limit = 3
    window_seconds = 60

    @abc.abstractmethod
    def make_rate_limiter(self) -> RateLimiter: ...

    @pytest.fixture
    def limiter(self, _set_up_time: None) -> RateLimiter:
        return self.make_rate_limiter()

    async def hit(self, limiter: RateLimiter, key: str = "contract:client"):
        return await limiter.hit(key, limit=self.limit, window_seconds=self.window_seconds)

    async def use_up(self, limiter: RateLimiter, key: str = "contract:client") -> None:
        for _ in range(self.limit):
            assert (await self.hit(limiter, key)).allowed

    async def test_hits_up_to_the_limit_are_allowed_and_count_down(
        self, limiter: RateLimiter
    ) -> None:
        decisions = [await self.hit(limiter) for _ in range(self.limit)]
        assert [d.allowed for d in decisions] == [True] * self.limit
        assert [d.remaining for d in decisions] == list(reversed(range(self.limit)))
        assert [d.retry_after_seconds for d in decisions] == [0] * self.limit

    async def test_the_hit_over_the_limit_is_refused_with_a_retry_after_inside_the_window(
        self, limiter: RateLimiter
    ) -> None:
        await self.use_up(limiter)
        refused = await self.hit(limiter)
        assert not refused.allowed
        assert refused.remaining == 0
        assert 1 <= refused.retry_after_seconds <= self.window_seconds

    async def test_a_refused_client_is_let_in_again_after_retry_after(
        self, limiter: RateLimiter
    ) -> None:
        await self.use_up(limiter)
        refused = await self.hit(limiter)

        async def allowed() -> bool:
            return (await self.hit(limiter)).allowed

        assert await self.time.holds_after(refused.retry_after_seconds, allowed)

    async def test_knocking_while_refused_does_not_push_retry_after_back(
        self, limiter: RateLimiter
    ) -> None:
        await self.use_up(limiter)
        first_refusal = await self.hit(limiter)
        for _ in range(5):
            assert not (await self.hit(limiter)).allowed

        async def allowed() -> bool:
            return (await self.hit(limiter)).allowed

        assert await self.time.holds_after(first_refusal.retry_after_seconds, allowed)

    async def test_a_whole_window_later_the_full_limit_is_available_again(
        self, limiter: RateLimiter
    ) -> None:
        await self.use_up(limiter)

        async def fresh() -> bool:
            return (await self.hit(limiter)).remaining == self.limit - 1

        assert await self.time.holds_after(self.window_seconds, fresh)

    async def peek(self, limiter: RateLimiter, key: str = "contract:client"):
        return await limiter.peek(key, limit=self.limit, window_seconds=self.window_seconds)

    async def test_peeking_counts_nothing(self, limiter: RateLimiter) -> None:
        first = await self.peek(limiter)
        for _ in range(self.limit * 3):
            assert (await self.peek(limiter)).allowed
        assert (first.allowed, first.remaining, first.retry_after_seconds) == (
            True,
            self.limit,
            0,
        )
        await self.use_up(limiter)

    async def test_peeking_sees_what_was_hit(self, limiter: RateLimiter) -> None:
        await self.hit(limiter)
        assert (await self.peek(limiter)).remaining == self.limit - 1
        for _ in range(self.limit - 1):
            await self.hit(limiter)

        peeked = await self.peek(limiter)
        refused = await self.hit(limiter)

        assert not peeked.allowed
        assert peeked.remaining == 0
        assert 1 <= peeked.retry_after_seconds <= self.window_seconds
        assert abs(peeked.retry_after_seconds - refused.retry_after_seconds) <= 1

    async def test_peeking_is_allowed_again_after_retry_after(self, limiter: RateLimiter) -> None:
        await self.use_up(limiter)
        peeked = await self.peek(limiter)

        async def allowed() -> bool:
            return (await self.peek(limiter)).allowed

        assert await self.time.holds_after(peeked.retry_after_seconds, allowed)

    async def test_keys_are_counted_separately(self, limiter: RateLimiter) -> None:
        await self.use_up(limiter, "contract:noisy")
        other = await self.hit(limiter, "contract:quiet")
        assert other.allowed
        assert other.remaining == self.limit - 1

    async def test_concurrent_hits_let_exactly_the_limit_through(
        self, limiter: RateLimiter
    ) -> None:
        decisions = await asyncio.gather(*(self.hit(limiter) for _ in range(self.limit * 5)))
        assert sum(d.allowed for d in decisions) == self.limit
