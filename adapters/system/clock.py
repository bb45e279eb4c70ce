"""Clocks: the system's, and one that tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A fixed, round starting point so that test output is easy to read.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


class SystemClock:
    """The wall clock, as timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests.

    `now()` always returns an aware UTC datetime. Time never goes backwards unless `set`
    is asked to do so explicitly.
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _as_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = _as_utc(at)

    def advance(self, by: timedelta | float) -> datetime:
        """Move forward by a timedelta or a number of seconds; returns the new time."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if step < timedelta(0):
            raise ValueError("a FixedClock only advances; use set() to go back in time")
        self._now += step
        return self._now


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the clock needs a timezone-aware datetime, got naive {at!r}")
    return at.astimezone(UTC)
