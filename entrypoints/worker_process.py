"""The worker process's life: start-up, Redis outages, and stopping when told to.

`HexmartWorker` is arq's `Worker` with the main loop hexmart needs:

- Start-up waits for Redis with back-off (0.1 s doubling to 2 s), saying so once, and
  can be stopped while it waits.
- A Redis error in the loop (a restart, a network blip, the `WatchError` redis-py raises
  when a connection drops under a WATCH) is an outage, not the end: it is logged once at
  WARNING, the loop retries with the same back-off, and the recovery is logged once. arq
  itself would let the error end the worker.
- The worker stops only when told to (SIGTERM, SIGINT, `close`), and says why at
  WARNING. A cancellation of the main loop that nobody asked for (Python 3.11's
  `asyncio.timeout`/`wait_for` can leak one) is logged and ignored; a stop that was asked
  for and swallowed (3.11's `wait_for`, which redis-py wraps around commands, can do that)
  is asked for again until it takes effect.
- From the first SIGTERM/SIGINT the process is gone within `job_completion_wait` +
  `CLOSE_SECONDS`, whatever state it is in: jobs in hand get `job_completion_wait`,
  closing connections what is left, and a watchdog thread ends the process at the
  deadline if the event loop is stuck. A second signal stops at once (jobs in hand are
  cancelled and go back on the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from signal import Signals
from typing import Any

from arq.worker import Worker
from redis.exceptions import RedisError

from adapters.redis_store.stopping import cancel_until_done

log = logging.getLogger(__name__)

# What closing connections and the container may take after the jobs' grace.
CLOSE_SECONDS = 5.0
FIRST_RETRY_SECONDS = 0.1
LONGEST_RETRY_SECONDS = 2.0
# How often a stop asked for is checked for having taken effect.
STOP_CHECK_SECONDS = 0.2
EXIT_CODE_STUCK = 3

# What an unreachable, restarting or lagging Redis raises through redis-py.
REDIS_DOWN = (RedisError, OSError)


class RedisOutage:
    """Logs an outage once when it begins and once when it ends, and says how long to
    wait before the next try (0.1 s doubling to 2 s)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.since: float | None = None
        self.failures = 0

    def failed(self, error: BaseException) -> float:
        """Record a failed try; returns the seconds to wait before the next."""
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "Redis at %s is unreachable (%s: %s); the worker waits for it, "
                "trying again every %.0f s at most",
                self.where,
                type(error).__name__,
                error,
                LONGEST_RETRY_SECONDS,
            )
        self.failures += 1
        return min(FIRST_RETRY_SECONDS * 2 ** (self.failures - 1), LONGEST_RETRY_SECONDS)

    def answered(self) -> None:
        if self.since is not None:
            log.warning(
                "Redis at %s answers again after %.1f s; the worker carries on",
                self.where,
                time.monotonic() - self.since,
            )
        self.since = None
        self.failures = 0


class HexmartWorker(Worker):
    """arq's Worker, riding out Redis outages and stopping only when told to (see the
    module docstring). Takes the same options as `arq.worker.Worker`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.stop_reason: str | None = None
        self.polling = False
        # Set when the poll of the queue under way ends (see `_sleep_until_tasks_complete`).
        self._poll_under_way: asyncio.Event | None = None
        self._stop_deadline: float | None = None
        self._watchdog: threading.Timer | None = None
        pool = self._pool
        where = "?"
        if pool is not None:
            kwargs = pool.connection_pool.connection_kwargs
            where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
        self.outage = RedisOutage(where)

    # --- being told to stop ---------------------------------------------------------------

    def _ask_to_stop(self, reason: str) -> bool:
        """Record the stop; True for the first request."""
        if self.stop_reason is not None:
            return False
        self.stop_reason = reason
        grace = float(self._job_completion_wait) + CLOSE_SECONDS
        self._stop_deadline = time.monotonic() + grace
        if self._handle_signals:  # a process of its own: nothing else would end it
            self._watchdog = threading.Timer(grace, _exit_stuck, args=(grace,))
            self._watchdog.daemon = True
            self._watchdog.start()
        return True

    def handle_sig_wait_for_completion(self, signum: Signals) -> None:
        if self._ask_to_stop(Signals(signum).name):
            super().handle_sig_wait_for_completion(signum)
        else:
            log.warning("%s again: stopping now", Signals(signum).name)
            super().handle_sig(signum)

    def handle_sig(self, signum: Signals) -> None:
        self._ask_to_stop(Signals(signum).name if signum != signal.SIGUSR1 else "close")
        super().handle_sig(signum)

    async def _see_stop_through(self, main_task: asyncio.Task[Any]) -> None:
        """Cancel the main loop until it ends once a stop asked of it has not taken effect
        (arq cancels it once; a `wait_for` inside redis-py can swallow that)."""
        asked_before = False
        while not main_task.done():
            await asyncio.sleep(STOP_CHECK_SECONDS)
            asked = self._stop_deadline is not None and (
                # arq cancels the main loop once the jobs' grace is over (at once on a
                # second signal or `close`); a cancellation still pending then was
                # swallowed. Past the jobs' grace it must have been sent.
                main_task.cancelling() > 0
                or time.monotonic() > self._stop_deadline - CLOSE_SECONDS + 0.5
            )
            if asked and asked_before and not main_task.done():
                log.info("the worker's main loop missed its stop; cancelling it again")
                await cancel_until_done(main_task, recheck=STOP_CHECK_SECONDS)
                return
            asked_before = asked

    async def _sleep_until_tasks_complete(self) -> None:
        """arq's wait for the jobs in hand on SIGTERM, but first letting the poll of the
        queue under way end: it may already have read job ids and still claim them, and
        a job claimed is a job in hand (arq would cancel the claim half-done, leaving the
        job marked in progress and run only once that mark expires)."""
        if self._poll_under_way is not None:
            await self._poll_under_way.wait()
        # No job is picked after that poll: the jobs in hand are all there is to wait for.
        if in_hand := [task for task in self.tasks.values() if not task.done()]:
            await asyncio.wait(in_hand)

    # --- the main loop ----------------------------------------------------------------------

    async def main(self) -> None:
        main_task = asyncio.current_task()
        assert main_task is not None
        stop_watch = asyncio.create_task(self._see_stop_through(main_task))
        try:
            await self._wait_for_redis()
            log.info(
                "Starting worker for %d functions: %s",
                len(self.functions),
                ", ".join(self.functions),
            )
            self.ctx["redis"] = self.pool
            if self.on_startup:
                await self.on_startup(self.ctx)
            self.polling = True
            await self._poll_until_stopped()
        finally:
            self.polling = False
            stop_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stop_watch

    async def _wait_for_redis(self) -> None:
        while True:
            try:
                await self.pool.ping()
            except REDIS_DOWN as error:
                await asyncio.sleep(self.outage.failed(error))
            else:
                self.outage.answered()
                return

    async def _poll_until_stopped(self) -> None:
        while True:
            try:
                await self._reap_finished_jobs()
                self._poll_under_way = asyncio.Event()
                try:
                    await self._poll_iteration()
                finally:
                    self._poll_under_way.set()
                    self._poll_under_way = None
                self.outage.answered()
                if self.burst and await self._burst_done():
                    return
                await asyncio.sleep(self.poll_delay_s)
            except asyncio.CancelledError:
                if self.stop_reason is not None:
                    raise
                # Nobody asked for this one: a leak of the 3.11 timeout machinery, or a
                # job task's own cancellation surfacing here. Going on is right.
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                log.warning("the worker's main loop was cancelled but no stop was asked for")
            except REDIS_DOWN as error:
                await asyncio.sleep(self.outage.failed(error))

    async def _reap_finished_jobs(self) -> None:
        """Clear finished job tasks before arq's own loop does: arq re-raises a job task's
        error in its main loop, which would end the worker."""
        for job_id, task in list(self.tasks.items()):
            if not task.done():
                continue
            del self.tasks[job_id]
            if task.cancelled():
                log.info("job %s was cancelled", job_id)
            elif (error := task.exception()) is not None:
                if isinstance(error, REDIS_DOWN):
                    # Its bookkeeping in Redis failed: the job stays marked in progress
                    # and runs again once that mark expires (jobs are idempotent).
                    self.outage.failed(error)
                else:
                    log.error("job %s failed outside its function", job_id, exc_info=error)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's, one job at a time, giving back the slot a job took when Redis fails
        while it is being claimed (arq would leak it, and after `max_jobs` such failures
        the worker would take no job again)."""
        for job_id in job_ids:
            counter = self.job_counter
            try:
                await super().start_jobs([job_id])
            except BaseException:
                if self.job_counter > counter and job_id.decode() not in self.tasks:
                    self.job_counter -= 1
                    self.sem.release()
                raise

    async def _burst_done(self) -> bool:
        if 0 <= self.max_burst_jobs <= self._jobs_started():
            await asyncio.gather(*self.tasks.values())
            return True
        if await self.pool.zcard(self.queue_name) == 0:
            await asyncio.gather(*self.tasks.values())
            return True
        return False

    # --- closing ------------------------------------------------------------------------------

    def run(self) -> None:
        """Run until told to stop; the process is gone within the grace period after."""
        self.main_task = self.loop.create_task(self.main())
        try:
            self.loop.run_until_complete(self.main_task)
        except asyncio.CancelledError:
            pass
        finally:
            self.loop.run_until_complete(self.close())
        log.warning("hexmart worker stopped: %s", _why(self.stop_reason))

    async def close(self) -> None:
        if self.stop_reason is None:
            self._ask_to_stop("close")
        deadline = self._stop_deadline
        # A second short of the deadline: the interpreter takes a moment to exit too.
        left = CLOSE_SECONDS if deadline is None else max(deadline - time.monotonic() - 1, 0.1)
        canceller = asyncio.create_task(self._cancel_jobs_until_done())
        try:
            async with asyncio.timeout(left):
                await self._close_as_arq_does()
        except (TimeoutError, *REDIS_DOWN) as error:
            log.warning(
                "the worker could not close cleanly (%s); jobs it held run again later",
                str(error) or type(error).__name__,
            )
        finally:
            canceller.cancel()
            if self._watchdog is not None:
                self._watchdog.cancel()

    async def _close_as_arq_does(self) -> None:
        """arq's `Worker.close`, but waiting for the job tasks rather than gathering them:
        a job the stop cancelled before its function ran or while arq stored its result
        ends cancelled, and gathering it would raise `CancelledError` out of `close`,
        skipping the shutdown hook and leaving the connections open."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        if self.tasks:
            await asyncio.wait(self.tasks.values())
        await self._reap_finished_jobs()
        await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.aclose(close_connection_pool=True)
        self._pool = None

    async def _cancel_jobs_until_done(self) -> None:
        """Cancel the jobs' own tasks again until they end: a job stuck in a client
        library (one that swallows a cancellation, as 3.11's `wait_for` can) would
        otherwise hold the close until its timeout."""
        while True:
            await asyncio.sleep(STOP_CHECK_SECONDS)
            if running := [task for task in self.job_tasks.values() if not task.done()]:
                await asyncio.gather(
                    *(cancel_until_done(task, recheck=STOP_CHECK_SECONDS) for task in running),
                    return_exceptions=True,
                )


def _why(reason: str | None) -> str:
    if reason is None:
        return "its work is done"
    if reason == "close":
        return "closed by its owner"
    return f"{reason} received"


def _exit_stuck(grace: float) -> None:
    """The watchdog's last resort: the event loop did not finish stopping in time."""
    log.error("hexmart worker did not stop within %.0f s of the stop signal; exiting now", grace)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    os._exit(EXIT_CODE_STUCK)
