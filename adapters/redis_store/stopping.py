"""Stopping a background task for sure.

`task.cancel()` asks once, and on Python 3.11 once is not always enough:
`asyncio.wait_for` returns the inner result instead of raising when the cancellation
lands just as the inner awaitable finishes, and redis-py wraps every command it sends in
`wait_for`. A loop that talks to Redis can therefore swallow the cancellation and run on
for ever, and whoever awaits it (an app or worker shutting down) waits for ever too.

It lives with the Redis adapters, whose clients are the cause; the one way hexmart stops
a task for sure: the live-update listener here, the app's background loop and live-order
sockets, and the worker's main loop and jobs (entrypoints/worker_process.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger(__name__)

# How long a cancelled task gets to end (its clean-up included: a database rollback, a
# connection returned) before it is cancelled again. Long enough that a task cleaning up
# is rarely interrupted; short enough that a stop still ends within seconds.
RECHECK_SECONDS = 2.0


async def cancel_until_done(task: asyncio.Task[Any], *, recheck: float = RECHECK_SECONDS) -> None:
    """Cancel `task` and wait until it has ended, cancelling it again each `recheck`
    seconds while it runs on. An exception the task ended with (other than its
    cancellation) is raised here."""
    task.cancel()
    await asyncio.wait({task}, timeout=recheck)
    while not task.done():
        log.warning("task %s ran on after its cancellation; cancelling it again", task.get_name())
        task.cancel()
        await asyncio.wait({task}, timeout=recheck)
    with contextlib.suppress(asyncio.CancelledError):
        await task
