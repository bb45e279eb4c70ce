"""The `RateLimiter` port on Redis: one sliding window shared by every app process."""

from __future__ import annotations

import logging
import uuid

from redis.asyncio import Redis

from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES, OutageLog
from application.ports.runtime import RateLimitDecision

log = logging.getLogger(__name__)

# One hit, decided atomically on the server and timed by the server's clock, so that app
# processes with drifting clocks still share one window. The key is a sorted set of the
# allowed hits (score: microseconds); refused hits are not recorded, so a client that
# keeps knocking is let in as soon as its oldest hit leaves the window.
_SLIDING_WINDOW_HIT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window / 1000)
  return {1, limit - count - 1, 0}
end
-- The limit may have shrunk since these hits were counted: wait for the hit whose
-- leaving brings the count below it.
local frees = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local retry_after = math.ceil((tonumber(frees[2]) + window - now) / 1000000)
if retry_after < 1 then retry_after = 1 end
return {0, 0, retry_after}
"""

# The same decision without recording a hit (read-only).
_SLIDING_WINDOW_PEEK = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local oldest_live = '(' .. (now - window)
local count = redis.call('ZCOUNT', KEYS[1], oldest_live, '+inf')
if count < limit then
  return {1, limit - count, 0}
end
local frees = redis.call('ZRANGEBYSCORE', KEYS[1], oldest_live, '+inf', 'WITHSCORES',
                         'LIMIT', count - limit, 1)
local retry_after = math.ceil((tonumber(frees[2]) + window - now) / 1000000)
if retry_after < 1 then retry_after = 1 end
return {0, 0, retry_after}
"""


class RedisRateLimiter:
    """A sliding-window log per key, like the in-process limiter's `SLIDING` kind: a hit
    is allowed while fewer than `limit` allowed hits fall in the last `window_seconds`
    (exact; memory is up to `limit` entries per active key, and a key's set expires one
    window after its last allowed hit). Keys live under `<prefix>rate:<window>:<key>`.

    `retry_after_seconds` is 0 when allowed, else the whole seconds until a hit would be
    allowed again (at least 1).

    When Redis fails, the limiter FAILS OPEN: the hit is allowed (remaining `limit - 1`)
    and a warning is logged (once, then every half minute). Rate limits protect against
    abuse, and refusing every login while Redis is down would turn a cache outage into a
    full outage; the price is that limits are not enforced until Redis is back.
    """

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._prefix = f"{prefix}rate:"
        self._hit = redis.register_script(_SLIDING_WINDOW_HIT)
        self._peek = redis.register_script(_SLIDING_WINDOW_PEEK)
        self._outage = OutageLog(log, "rate limiter")

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")
        try:
            allowed, remaining, retry_after = await self._hit(
                keys=[f"{self._prefix}{window_seconds}:{key}"],
                args=[limit, window_seconds * 1_000_000, uuid.uuid4().hex],
            )
        except REDIS_FAILURES as error:
            self._outage.failed(error, "allowing requests unchecked (failing open)")
            return RateLimitDecision(allowed=True, remaining=limit - 1, retry_after_seconds=0)
        self._outage.succeeded()
        return RateLimitDecision(
            allowed=bool(allowed), remaining=int(remaining), retry_after_seconds=int(retry_after)
        )

    async def peek(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")
        try:
            allowed, remaining, retry_after = await self._peek(
                keys=[f"{self._prefix}{window_seconds}:{key}"],
                args=[limit, window_seconds * 1_000_000],
            )
        except REDIS_FAILURES as error:
            self._outage.failed(error, "allowing requests unchecked (failing open)")
            return RateLimitDecision(allowed=True, remaining=limit, retry_after_seconds=0)
        self._outage.succeeded()
        return RateLimitDecision(
            allowed=bool(allowed), remaining=int(remaining), retry_after_seconds=int(retry_after)
        )
