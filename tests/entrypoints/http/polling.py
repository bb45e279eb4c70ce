"""Waiting for something that happens in the background: poll with a deadline, never a
fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float = 10.0,
    interval: float = 0.05,
) -> T:
    """Call `probe` until `done(result)`; fail with the last result after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within}s; last result: {result!r}")
        await asyncio.sleep(interval)


def eventually_sync(
    probe: Callable[[], T], done: Callable[[T], bool], *, within: float = 10.0
) -> T:
    """`eventually` for code outside an event loop (a real server in another process)."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within}s; last result: {result!r}")
        time.sleep(0.05)
