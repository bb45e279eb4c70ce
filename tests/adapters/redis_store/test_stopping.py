"""Stopping background tasks: a task that swallows a cancellation is cancelled again."""

from __future__ import annotations

import asyncio

import pytest

from adapters.redis_store.stopping import cancel_until_done


async def _swallowing(cancellations_to_swallow: int, ended: asyncio.Event) -> None:
    """Runs until cancelled, but swallows its first cancellations, as a loop around
    Python 3.11's asyncio.wait_for sometimes does."""
    swallowed = 0
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallowed == cancellations_to_swallow:
                ended.set()
                raise
            swallowed += 1


async def test_a_task_that_swallows_cancellations_is_cancelled_until_it_ends() -> None:
    ended = asyncio.Event()
    task = asyncio.create_task(_swallowing(2, ended))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_until_done(task, recheck=0.01), 5)
    assert task.cancelled()
    assert ended.is_set()


async def test_a_task_that_ends_at_the_first_cancellation_is_waited_for() -> None:
    ended = asyncio.Event()
    task = asyncio.create_task(_swallowing(0, ended))
    await asyncio.sleep(0)
    await cancel_until_done(task)
    assert task.cancelled()
    assert ended.is_set()


async def test_the_exception_a_task_ended_with_is_raised() -> None:
    async def failing() -> None:
        raise LookupError("the listener broke")

    task = asyncio.create_task(failing())
    await asyncio.wait({task})
    with pytest.raises(LookupError, match="the listener broke"):
        await cancel_until_done(task)


async def test_a_finished_task_is_left_as_it_is() -> None:
    async def finished() -> int:
        return 7

    task = asyncio.create_task(finished())
    await task
    await cancel_until_done(task)
    assert task.result() == 7
