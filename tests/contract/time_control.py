"""How a contract lets time pass for the adapter under test.

Adapters that take a `Clock` are driven by a `FixedClock` the test moves by hand, so
nothing waits. Adapters that keep time elsewhere (Redis expiring keys by its own clock)
cannot be moved; for them `RealTime` polls, with a deadline, until the expected change
shows up. Contracts are written against `TimeControl` so that both kinds pass the same
tests: a subclass for a server-timed adapter overrides `make_time_control`.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from adapters.system.clock import FixedClock

Condition = Callable[[], Awaitable[bool]]


class TimeControl(abc.ABC):
    @abc.abstractmethod
    async def let_almost_pass(self, seconds: float) -> None:
        """Let time pass, but less than `seconds` (a real-time control lets none pass)."""

    @abc.abstractmethod
    async def holds_after(self, seconds: float, condition: Condition) -> bool:
        """Whether `condition` holds once `seconds` have passed (a real-time control
        keeps checking until it holds or a deadline a little later has passed)."""


class ControlledTime(TimeControl):
    """Moves a `FixedClock`; checks happen at exactly the moment asked for."""

    def __init__(self, clock: FixedClock, *, just_short: float = 0.001) -> None:
        self._clock = clock
        self._just_short = just_short

    async def let_almost_pass(self, seconds: float) -> None:
        self._clock.advance(max(0.0, seconds - self._just_short))

    async def holds_after(self, seconds: float, condition: Condition) -> bool:
        self._clock.advance(seconds)
        return await condition()


class RealTime(TimeControl):
    """For adapters timed by a server: polls the condition until a deadline."""

    def __init__(self, *, slack_seconds: float = 2.0, poll_every: float = 0.02) -> None:
        self._slack = slack_seconds
        self._poll_every = poll_every

    async def let_almost_pass(self, seconds: float) -> None:
        return None

    async def holds_after(self, seconds: float, condition: Condition) -> bool:
        deadline = time.monotonic() + seconds + self._slack
        while True:
            if await condition():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self._poll_every)


class TimedContract:
    """Gives each test `self.clock` (a fresh FixedClock, for adapters that take a clock)
    and `self.time` (how to let time pass; controlled by that clock unless a subclass
    overrides `make_time_control`)."""

    clock: FixedClock
    time: TimeControl

    @pytest.fixture(autouse=True)
    def _set_up_time(self) -> None:
        self.clock = FixedClock()
        self.time = self.make_time_control()

    def make_time_control(self) -> TimeControl:
        return ControlledTime(self.clock)
