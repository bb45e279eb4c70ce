"""An in-process rate limiter, fixed or sliding window, timed by the injected clock."""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

from application.ports.runtime import Clock, RateLimitDecision


class WindowKind(enum.StrEnum):
    FIXED = "fixed"
    SLIDING = "sliding"


# Forgetting idle keys every so many hits keeps memory bounded by the active keys.
_SWEEP_EVERY = 1024


@dataclass(slots=True)
class _FixedWindow:
    index: int
    count: int
    window_seconds: int


@dataclass(slots=True)
class _SlidingLog:
    hits: deque[float]
    window_seconds: int


class InMemoryRateLimiter:
    """The `RateLimiter` port for one process.

    `FIXED` counts hits per key in windows aligned to multiples of `window_seconds` since
    the Unix epoch (like a Redis INCR + EXPIRE per window): cheap, but up to twice the
    limit can pass around a window boundary. `SLIDING` (the default) keeps the times of
    the allowed hits and allows a hit while fewer than `limit` fall in the last
    `window_seconds`: exact, at the cost of remembering up to `limit` times per key.
    Refused hits are not remembered, so a client that keeps knocking is let in as soon as
    its oldest hit leaves the window.

    `retry_after_seconds` is 0 when allowed, otherwise the whole seconds until a hit
    would be allowed again (at least 1).
    """

    def __init__(self, clock: Clock, *, window: WindowKind = WindowKind.SLIDING) -> None:
        self._clock = clock
        self._window = WindowKind(window)
        self._fixed: dict[str, _FixedWindow] = {}
        self._sliding: dict[str, _SlidingLog] = {}
        self._hits_since_sweep = 0

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")
        now = self._clock.now().timestamp()
        self._hits_since_sweep += 1
        if self._hits_since_sweep >= _SWEEP_EVERY:
            self._forget_idle_keys(now)
        if self._window is WindowKind.FIXED:
            return self._hit_fixed(key, now, limit, window_seconds)
        return self._hit_sliding(key, now, limit, window_seconds)

    async def peek(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")
        now = self._clock.now().timestamp()
        if self._window is WindowKind.FIXED:
            index = math.floor(now / window_seconds)
            current = self._fixed.get(key)
            count = 0
            if current is not None and (current.index, current.window_seconds) == (
                index,
                window_seconds,
            ):
                count = current.count
            if count < limit:
                return RateLimitDecision(True, limit - count, 0)
            window_ends = (index + 1) * window_seconds
            return RateLimitDecision(False, 0, max(1, math.ceil(window_ends - now)))
        log = self._sliding.get(key)
        hits = [] if log is None or log.window_seconds != window_seconds else list(log.hits)
        hits = [at for at in hits if at > now - window_seconds]
        if len(hits) < limit:
            return RateLimitDecision(True, limit - len(hits), 0)
        frees_up_at = hits[len(hits) - limit] + window_seconds
        return RateLimitDecision(False, 0, max(1, math.ceil(frees_up_at - now)))

    def _hit_fixed(self, key: str, now: float, limit: int, window: int) -> RateLimitDecision:
        index = math.floor(now / window)
        current = self._fixed.get(key)
        if current is None or (current.index, current.window_seconds) != (index, window):
            current = self._fixed[key] = _FixedWindow(index, 0, window)
        current.count += 1
        if current.count <= limit:
            return RateLimitDecision(True, limit - current.count, 0)
        window_ends = (index + 1) * window
        return RateLimitDecision(False, 0, max(1, math.ceil(window_ends - now)))

    def _hit_sliding(self, key: str, now: float, limit: int, window: int) -> RateLimitDecision:
        log = self._sliding.get(key)
        if log is None or log.window_seconds != window:
            log = self._sliding[key] = _SlidingLog(deque(), window)
        hits = log.hits
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            return RateLimitDecision(True, limit - len(hits), 0)
        # The limit may have shrunk since these hits were counted: wait for the one that
        # brings the count below it.
        frees_up_at = hits[len(hits) - limit] + window
        return RateLimitDecision(False, 0, max(1, math.ceil(frees_up_at - now)))

    def _forget_idle_keys(self, now: float) -> None:
        self._hits_since_sweep = 0
        self._fixed = {
            key: entry
            for key, entry in self._fixed.items()
            if (entry.index + 1) * entry.window_seconds > now
        }
        self._sliding = {
            key: log
            for key, log in self._sliding.items()
            if log.hits and log.hits[-1] > now - log.window_seconds
        }
