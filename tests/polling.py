"""Waiting for something that happens in the background (another task, thread or process):
poll with a deadline, never a fixed sleep.

A poll returns as soon as its condition holds, so a deadline costs nothing when the machine
is healthy; it only bounds how long a broken run hangs. Deadlines are therefore generous
enough for a machine whose cores are saturated by other work (`WITHIN`, or more for waits
that start a process)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

# Seconds to wait for a condition that a healthy machine meets in well under a second.
WITHIN = 60.0


def _gave_up(message: str | None, within: float, last: object) -> AssertionError:
    what = f"{message}: " if message else ""
    return AssertionError(f"{what}gave up after {within}s; last result: {last!r}")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], Any] = ...,
    *,
    within: float = ...,
    interval: float = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
    message: str | Callable[[], str] | None = ...,
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T],
    done: Callable[[T], Any] = ...,
    *,
    within: float = ...,
    interval: float = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
    message: str | Callable[[], str] | None = ...,
) -> T: ...


async def eventually(
    probe: Callable[[], Any],
    done: Callable[[Any], Any] = bool,
    *,
    within: float = WITHIN,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
    message: str | Callable[[], str] | None = None,
) -> Any:
    """Call `probe()` (awaiting what it returns if awaitable) until `done(result)` holds
    and return that result; fail with the last result (and `message`, called then if
    callable) after `within` seconds. An exception of a type in `ignoring` counts as "not
    yet"; any other propagates at once."""
    deadline = time.monotonic() + within
    while True:
        last: object
        try:
            answer = probe()
            result = await answer if inspect.isawaitable(answer) else answer
        except ignoring as error:
            last = error
        else:
            if done(result):
                return result
            last = result
        if time.monotonic() > deadline:
            raise _gave_up(message() if callable(message) else message, within, last)
        await asyncio.sleep(interval)


def eventually_sync(
    probe: Callable[[], T],
    done: Callable[[T], Any] = bool,
    *,
    within: float = WITHIN,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
    message: str | Callable[[], str] | None = None,
) -> T:
    """`eventually` for code outside an event loop (a real server in another process)."""
    deadline = time.monotonic() + within
    while True:
        last: object
        try:
            result = probe()
        except ignoring as error:
            last = error
        else:
            if done(result):
                return result
            last = result
        if time.monotonic() > deadline:
            raise _gave_up(message() if callable(message) else message, within, last)
        time.sleep(interval)
