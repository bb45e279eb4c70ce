from __future__ import annotations

from adapters.inprocess.rate_limiter import InMemoryRateLimiter, WindowKind
from application.ports.runtime import RateLimiter
from tests.contract.rate_limiter_contract import RateLimiterContract


class TestInMemorySlidingWindowRateLimiter(RateLimiterContract):
    def make_rate_limiter(self) -> RateLimiter:
        return InMemoryRateLimiter(self.clock, window=WindowKind.SLIDING)


class TestInMemoryFixedWindowRateLimiter(RateLimiterContract):
    def make_rate_limiter(self) -> RateLimiter:
        return InMemoryRateLimiter(self.clock, window=WindowKind.FIXED)
