from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.system.clock import DEFAULT_START, FixedClock, SystemClock


def test_system_clock_reads_the_wall_clock() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert before <= now <= datetime.now(UTC)


def test_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock()
    assert clock.now() == clock.now() == DEFAULT_START


def test_fixed_clock_advances_by_seconds_or_timedelta() -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    assert clock.advance(90) == datetime(2026, 3, 1, 0, 1, 30, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 3, 1, 1, 1, 30, tzinfo=UTC)


def test_fixed_clock_refuses_to_advance_backwards() -> None:
    clock = FixedClock()
    with pytest.raises(ValueError, match="only advances"):
        clock.advance(-1)
    assert clock.now() == DEFAULT_START


def test_fixed_clock_can_be_set_anywhere_and_reports_utc() -> None:
    clock = FixedClock()
    clock.set(datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_fixed_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock().set(datetime(2025, 1, 1))
