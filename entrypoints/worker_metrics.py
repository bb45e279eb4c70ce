"""The worker's Prometheus metrics, served on `hexmart worker --metrics-port P`
(`HEXMART_WORKER_METRICS_PORT`) at `/metrics`.

- `hexmart_jobs_total{job, outcome}`: started, succeeded, failed, retried, by job name;
  `hexmart_job_duration_seconds{job}`;
- the business counters of the events the worker handles (`entrypoints/metrics.py`):
  orders by event, revenue and refunds by currency; `hexmart_emails_total{outcome}`;
- `hexmart_reconciled_payments_total`: pending payments reconciliation changed;
- sampled after a run of the outbox relay, at most every `SAMPLE_EVERY_SECONDS`: the
  outbox backlog (`hexmart_outbox_unhandled`,
  `hexmart_outbox_oldest_age_seconds`), the queue length (`hexmart_queue_length`), and
  `hexmart_worker_last_sample_timestamp_seconds` (a heartbeat: it stops moving when no
  worker loop runs the relay).

`instrument_jobs` wraps every job of a worker's options; nothing else in the worker
changes.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from arq import Retry
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from application.outbox import HANDLE_EVENT_JOB
from application.principal import Principal
from entrypoints.error_reporting import report_error
from entrypoints.logs import continuing, request_id_var
from entrypoints.metrics import BusinessMetrics
from entrypoints.tracing import span, trace_sql

log = logging.getLogger(__name__)

SAMPLE_EVERY_SECONDS = 5.0
METRICS_KEY = "metrics"

Job = Callable[..., Awaitable[Any]]


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.business = BusinessMetrics(self.registry)
        self.reconciled = Counter(
            "hexmart_reconciled_payments",
            "Pending payments whose state reconciliation with the provider changed",
            registry=self.registry,
        )
        self.outbox_unhandled = Gauge(
            "hexmart_outbox_unhandled",
            "Outbox messages not yet handed on",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "hexmart_outbox_oldest_age_seconds",
            "Age of the oldest outbox message not yet handed on (0: none waits)",
            registry=self.registry,
        )
        self.queue_length = Gauge(
            "hexmart_queue_length",
            "Jobs waiting in the worker's queue",
            registry=self.registry,
        )
        self.last_sample = Gauge(
            "hexmart_worker_last_sample_timestamp_seconds",
            "When this worker last sampled the outbox and the queue (Unix time)",
            registry=self.registry,
        )
        self._sampled_at = float("-inf")

    async def sample_now_and_then(self, ctx: dict[str, Any]) -> None:
        """Sample after a relay run (every second) at most every SAMPLE_EVERY_SECONDS: the
        worker's loop ran, and the backlog is fresh. A failed sample waits for the next."""
        now = time.monotonic()
        if now - self._sampled_at < SAMPLE_EVERY_SECONDS:
            return
        self._sampled_at = now
        try:
            await self.sample(ctx)
        except Exception as error:  # an outage: the relay job itself reports it
            log.debug("metrics sample failed: %s", error)

    async def sample(self, ctx: dict[str, Any]) -> None:
        container = ctx.get("container")
        if container is not None:
            kinds = await container.outbox_admin().status(Principal.system())
            self.outbox_unhandled.set(sum(kind.unhandled for kind in kinds))
            oldest = [k.oldest_unhandled_at for k in kinds if k.oldest_unhandled_at is not None]
            age = (datetime.now(UTC) - min(oldest)).total_seconds() if oldest else 0.0
            self.outbox_oldest_age.set(max(0.0, age))
        redis = ctx.get("redis")
        if redis is not None:
            self.queue_length.set(await redis.zcard(ctx["queue_name"]))
        self.last_sample.set(time.time())


def _instrumented(job: Job, name: str, metrics: WorkerMetrics) -> Job:
    jobs = metrics.business.jobs

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # An event's job continues the request that wrote the event: its log lines carry
        # that request id (`grep <request id>` shows one checkout across processes).
        carried = args[0].get("context") if name == HANDLE_EVENT_JOB and args else None
        with continuing(carried), span(f"job {name}", parent=carried, **{"job.name": name}):
            return await measured(ctx, *args, **kwargs)

    async def measured(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        jobs.labels(name, "started").inc()
        started = time.perf_counter()
        try:
            result = await job(ctx, *args, **kwargs)
        except Retry:
            jobs.labels(name, "retried").inc()
            raise
        except Exception as error:
            jobs.labels(name, "failed").inc()
            report_error(error, job=name, request_id=request_id_var.get())
            if name == HANDLE_EVENT_JOB:
                metrics.business.emails.labels("failed").inc()
            raise
        finally:
            metrics.business.job_duration.labels(name).observe(time.perf_counter() - started)
        jobs.labels(name, "succeeded").inc()
        if name == HANDLE_EVENT_JOB and args:
            payload = args[0]
            log.info(
                "event %s (%s) handled%s",
                payload.get("message_id"),
                payload.get("name"),
                "; email sent" if result is True else "",
            )
            metrics.business.event_handled(payload["name"], payload["payload"])
            if result is True:
                metrics.business.emails.labels("sent").inc()
        elif name == "reconcile_payments" and isinstance(result, int):
            metrics.reconciled.inc(result)
        elif name == "relay_outbox":
            await metrics.sample_now_and_then(ctx)
        return result

    return run


def instrument_jobs(options: dict[str, Any]) -> dict[str, Any]:
    """`options` (for arq's Worker) with every job counted and timed, and the backlog
    sampled while the worker runs; the metrics are in `options["ctx"]["metrics"]`."""
    ctx = options.setdefault("ctx", {})
    metrics: WorkerMetrics = ctx.setdefault(METRICS_KEY, WorkerMetrics())
    for function in options.get("functions", []):
        function.coroutine = _instrumented(function.coroutine, function.name, metrics)
    for cron_job in options.get("cron_jobs", []):
        cron_job.coroutine = _instrumented(cron_job.coroutine, cron_job.coroutine.__name__, metrics)
    on_startup = options.get("on_startup")

    async def startup(worker_ctx: dict[str, Any]) -> None:
        if on_startup is not None:
            await on_startup(worker_ctx)
        if worker_ctx.get("container") is not None:
            trace_sql(worker_ctx["container"].database_engine())

    options["on_startup"] = startup
    return options


def serve_metrics(port: int, metrics: WorkerMetrics) -> Callable[[], None]:
    """Serve `/metrics` on `port` (all interfaces) from a thread; returns how to stop."""
    server, thread = start_http_server(port, registry=metrics.registry)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop
