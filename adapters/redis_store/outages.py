"""Logging a Redis outage without flooding the log: one warning per outage, then a
reminder every so often, then a note when Redis answers again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.exceptions import RedisError

# What a failed Redis call can raise: the client's own errors, and OSError from the
# socket layer in the few places redis-py lets one through.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)

# Called with what failed ("cache", "rate limiter", ...) on every failed call: the app's
# metrics count them here.
failure_listeners: list[Callable[[str], None]] = []


class OutageLog:
    def __init__(self, logger: logging.Logger, what: str, *, remind_every: float = 30.0) -> None:
        self._log = logger
        self._what = what
        self._remind_every = remind_every
        self._down_since: float | None = None
        self._last_warning = 0.0
        self._failures = 0

    def failed(self, error: BaseException, consequence: str) -> None:
        for listener in list(failure_listeners):
            listener(self._what)
        now = time.monotonic()
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
        elif now - self._last_warning < self._remind_every:
            return
        self._last_warning = now
        self._log.warning(
            "%s: Redis unavailable (%s: %s); %s [%d failed calls so far]",
            self._what,
            type(error).__name__,
            error,
            consequence,
            self._failures,
        )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        self._log.warning(
            "%s: Redis is back after %.1fs (%d failed calls)",
            self._what,
            time.monotonic() - self._down_since,
            self._failures,
        )
        self._down_since = None
        self._failures = 0
