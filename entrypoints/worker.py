"""The background worker: arq on Redis, running relayed outbox events and the schedule.

Run it next to the app, with the same `HEXMART_*` settings (HEXMART_REDIS_URL required):

    arq entrypoints.worker.WorkerSettings        # or: hexmart worker

Jobs:
- `handle_event` (one per relayed outbox message, job id = message id): publishes the live
  order update, sends the email the event calls for and marks the message handled (the
  message bus, application/message_bus.py, whose handler table the app's in-process
  runner uses too). A `ServiceUnavailable` (mail server, database busy) is retried
  with exponential backoff, `MAX_TRIES` tries in all (about an hour); the last failure is
  logged as an error with the payload. A message whose job never finished (Redis lost
  it, its tries ran out) stays unhandled, and the relay enqueues it again after
  HEXMART_OUTBOX_REDELIVER_AFTER_SECONDS.
- the schedule (`SCHEDULE` in entrypoints/background.py, which the app's in-process
  loop runs too), as arq cron jobs, each run by one worker however many are running:
  relay the outbox every `RELAY_EVERY_SECONDS` (and at start-up), as often deliver the
  local payment gateway's completed payments whose app process died, reconcile pending
  payments (at :00) and then expire unpaid orders (at :30) every minute, purge old
  housekeeping records and abandoned uploads hourly.

Shutdown: on SIGTERM or SIGINT the worker stops taking jobs, gives the jobs in hand up to
`SHUTDOWN_GRACE_SECONDS` to finish, then cancels what is left; arq puts a cancelled job
back on the queue and the next worker runs it again (that is safe: every job here is
idempotent). The process is gone at most `CLOSE_SECONDS` later, whatever state it was in
(starting, waiting for Redis, busy); a second signal stops it at once. Start-up, Redis
outages and stopping are `HexmartWorker`'s (entrypoints/worker_process.py).
A worker killed outright (SIGKILL, power loss) leaves its job marked in
progress until `JOB_TIMEOUT_SECONDS` + 10 s have passed; then another worker runs it.

Job results are kept only `RESULT_KEPT` (seconds): the outbox is the record of what was
done, and every key the worker leaves in Redis expires on its own.

Heartbeat: every worker publishes who it is (id, host, pid, start, last beat, jobs done)
every `HEARTBEAT_EVERY_SECONDS` under a key that lives `HEARTBEAT_TTL_SECONDS`
(application/workers.py); /health/ready reads them.

Exactly once, and its one gap: an email's sent-ledger entry commits in the transaction
that sends it, so a job run again sends nothing once that commit happened, and sends
again if it did not. A worker that dies after the mail server accepted the message but
before that commit (a window of milliseconds) therefore sends it twice; SMTP offers no
way to close it.

Nothing happens at import time: the settings are read when the worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from arq import Retry
from arq.cron import CronJob, cron
from arq.worker import Function, func

from adapters.arq_queue.serialization import deserialize, serialize
from adapters.arq_queue.task_queue import (
    DEFAULT_JOB_ID_PREFIX,
    DEFAULT_QUEUE_NAME,
    JOB_EXPIRY,
    create_arq_redis,
)
from application.message_bus import EMAIL
from application.outbox import HANDLE_EVENT_JOB
from application.ports.errors import ServiceUnavailable
from application.ports.persistence import ConcurrencyConflict
from application.workers import (
    HEARTBEAT_EVERY_SECONDS,
    HEARTBEAT_TTL_SECONDS,
    WorkerIdentity,
    Workers,
)
from entrypoints.background import SCHEDULE, Every, ScheduledJob, did_something
from entrypoints.container import Container, build_container, start_services, stop_services
from entrypoints.error_reporting import (
    init_error_reporting,
    report_error,
    stop_error_reporting,
)
from entrypoints.log_redaction import redact_credentials_in_logs
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from entrypoints.tracing import init_tracing
from entrypoints.worker_metrics import METRICS_KEY, instrument_jobs, serve_metrics
from entrypoints.worker_process import HexmartWorker

log = logging.getLogger(__name__)

MAX_TRIES = 12
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 900.0
# A finished job's result (failed or not) is kept this long: the outbox ledger is the record,
# so only long enough for a second worker enqueuing the same cron run to find it done.
RESULT_KEPT = timedelta(seconds=5)
JOB_TIMEOUT_SECONDS = 60
SHUTDOWN_GRACE_SECONDS = 20
# Paid -> email latency is about this plus arq's poll delay (benchmarks/: p50 target 1 s).
RELAY_EVERY_SECONDS = 1
POLL_DELAY_SECONDS = 0.1

# What a job may meet that trying again later can cure.
_TRANSIENT = (ServiceUnavailable, ConcurrencyConflict)


def retry_delay(job_try: int, first: float = FIRST_RETRY_SECONDS) -> float:
    """Seconds to wait after failed try number `job_try` (1-based): 5, 10, 20, ... 900."""
    return float(min(first * 2 ** (job_try - 1), LONGEST_RETRY_SECONDS))


# --- jobs ---------------------------------------------------------------------------------


def _container(ctx: Mapping[str, Any]) -> Container:
    container: Container = ctx["container"]
    return container


async def handle_event(ctx: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Hand a relayed outbox message to the message bus, which runs its event's handlers
    (its live order update, its email at most once by its ledger) and marks it handled;
    True if an email was sent now. Transient failures are retried with a growing delay."""
    job_try: int = ctx.get("job_try", 1)
    max_tries: int = ctx.get("max_tries", MAX_TRIES)
    bus = _container(ctx).message_bus()
    try:
        return EMAIL in (await bus.handle_job(payload)).acted
    except _TRANSIENT as error:
        if job_try >= max_tries:
            log.error(
                "giving up on event %s (%s) after %d tries: %s; payload=%r",
                payload.get("message_id"),
                payload.get("name"),
                job_try,
                error,
                payload,
            )
            raise
        delay = retry_delay(job_try, ctx.get("first_retry_seconds", FIRST_RETRY_SECONDS))
        log.warning(
            "event %s (%s), try %d of %d: %s; retrying in %.1fs",
            payload.get("message_id"),
            payload.get("name"),
            job_try,
            max_tries,
            error,
            delay,
        )
        raise Retry(defer=delay) from error
    except Exception:
        log.exception(
            "event %s (%s) failed and will not be retried; payload=%r",
            payload.get("message_id"),
            payload.get("name"),
            payload,
        )
        raise


def scheduled_job(job: ScheduledJob) -> Callable[[dict[str, Any]], Awaitable[object]]:
    """The arq job that runs one round of `job`."""

    async def run(ctx: dict[str, Any]) -> object:
        done = await job.run(_container(ctx))
        if did_something(done):
            log.info("scheduled job %s: %s", job.name, done)
        return done

    run.__name__ = run.__qualname__ = job.name
    return run


# --- heartbeat ----------------------------------------------------------------------------


@dataclass
class _JobCount:
    """Jobs this worker finished; arq hands each job a copy of the worker's context, so
    the count lives in an object they all share."""

    done: int = 0


async def count_finished_job(ctx: dict[str, Any]) -> None:
    """arq's `after_job_end` hook."""
    ctx["job_count"].done += 1


async def _publish_heartbeats(
    workers: Workers, worker: WorkerIdentity, jobs: _JobCount, every: float, ttl: int
) -> None:
    failing = False
    while True:
        try:
            await workers.beat(worker, jobs.done, ttl)
            failing = False
        except ServiceUnavailable as error:
            if not failing:
                log.warning("worker heartbeat not published (it is retried): %s", error)
            failing = True
        await asyncio.sleep(every)


def _start_heartbeat(ctx: dict[str, Any]) -> None:
    container = _container(ctx)
    worker = WorkerIdentity(
        worker_id=uuid.uuid4().hex[:12],
        host=socket.gethostname(),
        pid=os.getpid(),
        started_at=container.clock().now(),
    )
    ctx["worker_identity"] = worker
    ctx["heartbeat"] = asyncio.create_task(
        _publish_heartbeats(
            container.workers(),
            worker,
            ctx.setdefault("job_count", _JobCount()),
            ctx.get("heartbeat_every_seconds", HEARTBEAT_EVERY_SECONDS),
            ctx.get("heartbeat_ttl_seconds", HEARTBEAT_TTL_SECONDS),
        ),
        name="hexmart-worker-heartbeat",
    )


async def _stop_heartbeat(ctx: dict[str, Any]) -> None:
    """Stop beating and withdraw the heartbeat: a worker that stops cleanly is gone at
    once, not when its heartbeat expires."""
    heartbeat: asyncio.Task[None] | None = ctx.pop("heartbeat", None)
    if heartbeat is None:
        return
    heartbeat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await heartbeat
    try:
        await _container(ctx).workers().stopped(ctx.pop("worker_identity"))
    except ServiceUnavailable as error:
        log.warning("worker heartbeat not withdrawn (it expires on its own): %s", error)


# --- start-up and shutdown ----------------------------------------------------------------


async def startup(ctx: dict[str, Any]) -> None:
    """Build the container and make the database ready (the worker may start before the
    app does), unless the caller (a test, an embedding program) gave a container."""
    redact_credentials_in_logs()
    settings: Settings = ctx["settings"]
    if settings.shop.public_base_url is None:
        log.warning(
            "HEXMART_PUBLIC_BASE_URL is not set: links in the emails this worker sends point at %s",
            settings.base_url,
        )
    if ctx.get("container") is None:
        compose: Callable[[Settings], Container] = ctx.get("compose", build_container)
        container = compose(settings)
        ctx["container"] = ctx["owned_container"] = container
        await _start_when_the_database_answers(container)
    _start_heartbeat(ctx)
    log.info("hexmart worker started")


async def _start_when_the_database_answers(container: Container) -> None:
    """`start_services`, tried again with back-off (0.1 s doubling to 2 s) while the
    database cannot be reached: a worker may start before its database does. The wait is
    logged once, and its end once; a stop signal ends it like any other state."""
    waiting_since: float | None = None
    delay = 0.1
    while True:
        try:
            await start_services(container)
        except ServiceUnavailable as error:
            if waiting_since is None:
                waiting_since = time.monotonic()
                log.warning("%s at start-up (%s); the worker waits for it", error, error.__cause__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        if waiting_since is not None:
            log.warning(
                "the database answers after %.1f s; the worker starts",
                time.monotonic() - waiting_since,
            )
        return


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close what `startup` built (a container the caller gave stays the caller's)."""
    await _stop_heartbeat(ctx)
    owned = ctx.pop("owned_container", None)
    if owned is not None:
        await stop_services(owned)
        ctx["container"] = None
    log.info("hexmart worker closed its services")


# --- worker options -----------------------------------------------------------------------


# The hour's jobs run at this minute, away from the top of the hour that everyone's
# cron favours.
HOURLY_AT_MINUTE = 17


def _schedule(job_id_prefix: str, relay_every_seconds: int) -> list[CronJob]:
    """`SCHEDULE` as arq cron jobs. A cadence's jobs are spread over its period in the
    schedule's order (the minute's two: reconciliation at :00, expiry at :30).

    No cron job gets a timeout longer than the worker's job_timeout: arq keeps a job
    marked in progress for the longest timeout + 10 s, and that is how long a job held by
    a worker that died (SIGKILL) waits before another worker runs it."""
    jobs: list[CronJob] = []
    for job in SCHEDULE:
        same = [other for other in SCHEDULE if other.every is job.every]
        offset = same.index(job) * 60 // len(same)
        name = f"{job_id_prefix}{job.name}"
        if job.every is Every.ROUND:
            seconds = set(range(0, 60, relay_every_seconds))
            jobs.append(cron(scheduled_job(job), name=name, second=seconds, run_at_startup=True))
        elif job.every is Every.MINUTE:
            jobs.append(cron(scheduled_job(job), name=name, second=offset))
        else:
            minute = (HOURLY_AT_MINUTE + offset) % 60
            jobs.append(cron(scheduled_job(job), name=name, minute=minute, second=0))
    return jobs


def worker_options(
    settings: Settings,
    *,
    container: Container | None = None,
    compose: Callable[[Settings], Container] = build_container,
    queue_name: str = DEFAULT_QUEUE_NAME,
    job_id_prefix: str = DEFAULT_JOB_ID_PREFIX,
    relay_every_seconds: int = RELAY_EVERY_SECONDS,
    first_retry_seconds: float = FIRST_RETRY_SECONDS,
    heartbeat_every_seconds: float = HEARTBEAT_EVERY_SECONDS,
    heartbeat_ttl_seconds: int = HEARTBEAT_TTL_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`. `container` replaces the one the worker
    would build from `settings` with `compose` as it starts (tests pass an in-memory one,
    or entrypoints.testing's composition); a worker on a queue other than hexmart's own
    (`queue_name`, `job_id_prefix`) needs a container that relays there too
    (`entrypoints.testing.worker_container_on_queue`). `overrides` replace any Worker
    option (`burst`, `max_tries`, `job_timeout`, `handle_signals`, ...)."""
    if not settings.redis.url:
        raise ValueError(
            "the worker needs HEXMART_REDIS_URL (without Redis, jobs run inside the app)"
        )
    if not 1 <= relay_every_seconds <= 30 or 60 % relay_every_seconds:
        raise ValueError("relay_every_seconds must divide 60 and be at most 30")
    max_tries = overrides.get("max_tries", MAX_TRIES)
    event_job: Function = func(
        handle_event,
        name=HANDLE_EVENT_JOB,
        keep_result=RESULT_KEPT,
        max_tries=max_tries,
    )
    options: dict[str, Any] = {
        "functions": [event_job],
        "cron_jobs": _schedule(job_id_prefix, relay_every_seconds),
        "queue_name": queue_name,
        # Redis errors reach the worker's loop, which waits outages out (worker_process).
        "redis_pool": create_arq_redis(settings.redis.url_for("queue"), queue_name=queue_name),
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {
            "settings": settings,
            "container": container,
            "compose": compose,
            "queue_name": queue_name,
            "job_id_prefix": job_id_prefix,
            "max_tries": max_tries,
            "first_retry_seconds": first_retry_seconds,
            "heartbeat_every_seconds": heartbeat_every_seconds,
            "heartbeat_ttl_seconds": heartbeat_ttl_seconds,
            "job_count": _JobCount(),
        },
        "after_job_end": count_finished_job,
        "max_tries": max_tries,
        "job_timeout": JOB_TIMEOUT_SECONDS,
        # Cron jobs' results too (arq:result:<job id>), failed or not.
        "keep_result": RESULT_KEPT,
        "expires_extra_ms": int(JOB_EXPIRY / timedelta(milliseconds=1)),
        "allow_abort_jobs": True,
        "handle_signals": True,
        "job_completion_wait": SHUTDOWN_GRACE_SECONDS,
        "health_check_interval": 30,
        "poll_delay": POLL_DELAY_SECONDS,
        "timezone": UTC,
    }
    options.update(overrides)
    return instrument_jobs(options)


def create_worker(settings: Settings, **options: Any) -> HexmartWorker:
    return HexmartWorker(**worker_options(settings, **options))


def run_worker(
    settings: Settings | None = None, *, metrics_port: int | None = None, **options: Any
) -> None:
    """Run a worker until SIGTERM/SIGINT (what `hexmart worker` calls). `options` are
    passed to `worker_options`. `metrics_port` (default: HEXMART_WORKER_METRICS_PORT):
    serve Prometheus metrics there."""
    settings = settings or Settings.from_env()
    configure_logging(settings.observability.log_level, settings.observability.log_format)
    init_error_reporting(settings, component="worker")
    init_tracing(settings, service="hexmart-worker")
    port = metrics_port or settings.observability.worker_metrics_port
    stop_serving_metrics = None
    try:
        worker = create_worker(settings, **options)
        if port is not None:
            stop_serving_metrics = serve_metrics(port, worker.ctx[METRICS_KEY])
            log.info("worker metrics at http://0.0.0.0:%d/metrics", port)
        worker.run()
    except Exception as error:
        log.critical("hexmart worker stopped by an unexpected error", exc_info=True)
        report_error(error)
        stop_error_reporting()
        raise SystemExit(1) from None
    finally:
        if stop_serving_metrics is not None:
            stop_serving_metrics()


class _WorkerSettingsFromEnvironment(dict[str, Any]):
    """What `arq entrypoints.worker.WorkerSettings` reads. arq takes a class or a dict of
    Worker options and reads a dict with `.items()` only when it builds the worker; this
    dict computes its items then, from the `HEXMART_*` settings of that moment, so that
    importing this module reads nothing. (`arq --check` is not supported: it looks for a
    `redis_settings` entry; check the worker's health key in Redis instead.)"""

    def _options(self) -> dict[str, Any]:
        return worker_options(Settings.from_env())

    def items(self) -> Any:
        return self._options().items()

    def keys(self) -> Any:
        return self._options().keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __getitem__(self, key: str) -> Any:
        return self._options()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._options().get(key, default)


WorkerSettings = _WorkerSettingsFromEnvironment()
