"""Prometheus metrics shared by the app and the worker, correct with many processes.

`hexmart serve --workers N` runs N processes behind one port, and a scrape reaches
whichever answers. So `serve` gives its processes a shared directory
(prometheus_client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR`, a fresh temporary
directory made at start-up, removed at exit): each process writes its counters and
histograms to its own memory-mapped files there, and a scrape of any process reads them
all and reports their sum. Counters of a process that died stay in the sum (they never
go backwards); gauges count only live processes (`livesum`). Without that directory
(one process, tests) each registry counts in memory, apart from every other.

Business counters come from the events of the outbox, counted once where each event is
handled (the worker's `handle_event` job; on the embedded default, the app's in-process
queue): orders by event, revenue and refunds in minor units by currency.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Job durations: a job takes milliseconds, an email a second, a batch a minute.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Outbox event name -> the `event` label of hexmart_order_events.
_ORDER_EVENTS = {
    "order_placed": "placed",
    "order_paid": "paid",
    "order_shipped": "shipped",
    "order_delivered": "delivered",
    "order_cancelled": "cancelled",
    "order_refunded": "refunded",
}


# The reason an order cancelled by expiry gives (application/payment_flow.py).
EXPIRY_REASON = "payment not received in time"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text of `registry`, or of every process sharing the multiprocess
    directory when there is one."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(registry)
    every_process = CollectorRegistry()
    MultiProcessCollector(every_process, path=directory)
    return generate_latest(every_process)


def make_multiprocess_dir() -> Path:
    """A fresh, empty directory for the processes of one `hexmart serve` (set in the
    environment before they start; remove it with `remove_multiprocess_dir`)."""
    directory = Path(tempfile.mkdtemp(prefix="hexmart-metrics-"))
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(directory)
    return directory


def remove_multiprocess_dir(directory: Path) -> None:
    os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
    shutil.rmtree(directory, ignore_errors=True)


def forget_process(pid: int) -> None:
    """A process died: its live gauges no longer count (its counters still do)."""
    directory = multiprocess_dir()
    if directory is not None:
        mark_process_dead(pid, directory)


def gauge(name: str, documentation: str, labels: tuple[str, ...], registry: Any) -> Gauge:
    """A gauge that, with many processes, sums those alive."""
    return Gauge(name, documentation, labels, registry=registry, multiprocess_mode="livesum")


class BusinessMetrics:
    """Counted in the app and in the worker, from what each handles."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.order_events = Counter(
            "hexmart_order_events",
            "Order events handled, by event: placed, paid, shipped, delivered, cancelled, "
            "expired (cancelled because unpaid in time), refunded",
            ["event"],
            registry=registry,
        )
        self.revenue = Counter(
            "hexmart_revenue_minor_units",
            "Amounts of paid orders, in minor units (cents), by currency",
            ["currency"],
            registry=registry,
        )
        self.refunds = Counter(
            "hexmart_refunds_minor_units",
            "Amounts refunded, in minor units (cents), by currency",
            ["currency"],
            registry=registry,
        )
        self.payment_events = Counter(
            "hexmart_payment_events",
            "Payment events from a provider (local or stripe), by outcome: the payment's "
            "new outcome when applied (local), applied (stripe), otherwise duplicate, "
            "no_change, rejected; for Stripe webhooks also invalid (bad signature) and "
            "unavailable (not recorded, Stripe retries)",
            ["provider", "outcome"],
            registry=registry,
        )
        self.jobs = Counter(
            "hexmart_jobs",
            "Background jobs by job name and what happened: started, succeeded, failed, retried",
            ["job", "outcome"],
            registry=registry,
        )
        self.job_duration = Histogram(
            "hexmart_job_duration_seconds",
            "Time a background job ran, by job name",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.emails = Counter(
            "hexmart_emails",
            "Emails by outcome: sent, failed (given up after every try)",
            ["outcome"],
            registry=registry,
        )

    def event_handled(self, name: str, payload: dict[str, Any]) -> None:
        """An outbox event was handled (once per event)."""
        event = _ORDER_EVENTS.get(name)
        if event is None:
            return
        if event == "cancelled" and payload.get("reason") == EXPIRY_REASON:
            event = "expired"
        self.order_events.labels(event).inc()
        amount, currency = payload.get("amount"), payload.get("currency")
        if isinstance(amount, int) and isinstance(currency, str):
            if event == "paid":
                self.revenue.labels(currency).inc(amount)
            elif event == "refunded":
                self.refunds.labels(currency).inc(amount)

    def payment_event(self, provider: str, outcome: str) -> None:
        self.payment_events.labels(provider, outcome).inc()
