"""GET /metrics: Prometheus text format, from a registry of this app's own.

Each `create_app` gets its own `ShopMetrics` (a separate `CollectorRegistry`, never the
process-wide one), so many apps in one process (tests, embedding programs) count apart.

What is counted:
- every routed HTTP request, by method, route template and status, with its latency;
- orders placed: 201 answers of checkout (an idempotent replay answers 201 again and is
  counted again: the use case does not tell a replay apart yet);
- payment events, by provider and outcome: the local gateway's by the payment's outcome
  (`succeeded`, `failed`, ...) or by why nothing changed (`duplicate`, `no_change`,
  `rejected`); Stripe webhooks by their result (`applied`, `duplicate`, ...), `invalid`
  (signature refused) or `unavailable` (not recorded: Stripe sends it again);
- rate-limit refusals by rule;
- background job runs, by job and outcome (`ok`, `failed`), on the embedded default;
- the business counters of `entrypoints/metrics.py` (orders, revenue, refunds);
- cache hits and misses, the database pool, Redis errors (`entrypoints/health_metrics.py`).

Under `hexmart serve --workers N` one scrape reports the sum over every process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram

from application.payment_events import EventResult
from application.ports.payments import ProviderEvent
from entrypoints.health_metrics import HealthMetrics
from entrypoints.metrics import BusinessMetrics, exposition

METRICS_KEY = "metrics"

# The classic text format, which every Prometheus reads (our names need nothing newer);
# Litestar adds `charset=utf-8` to text media types itself.
TEXT_FORMAT = "text/plain; version=0.0.4"

# Latency buckets in seconds: a shop's requests take milliseconds, a slow one a second.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# `/orders/{order_id:str}` is reported as `/orders/{order_id}`, as in the OpenAPI document.
_PARAMETER_TYPE = re.compile(r"\{(\w+):[^}]+\}")


def route_template(path_template: str) -> str:
    """`/orders/{order_id:str}` -> `/orders/{order_id}`."""
    return _PARAMETER_TYPE.sub(r"{\1}", path_template)


class ShopMetrics:
    """The app's metrics and the registry that exposes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "hexmart_http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "hexmart_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status code",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.orders_placed = Counter(
            "hexmart_orders_placed",
            "Orders placed (checkouts answered 201)",
            registry=self.registry,
        )
        self.job_runs = Counter(
            "hexmart_job_runs",
            "Background job runs, by job and outcome (ok or failed)",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "hexmart_rate_limit_refusals",
            "Requests refused by a rate limit (429), by rule",
            ["rule"],
            registry=self.registry,
        )
        self.business = BusinessMetrics(self.registry)
        self.health = HealthMetrics(self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route_template(route), str(status))
        self.http_requests.labels(*labels).inc()
        self.http_latency.labels(*labels).observe(seconds)

    def order_placed(self) -> None:
        self.orders_placed.inc()

    def payment_event(self, event: ProviderEvent, result: EventResult) -> None:
        """An event of the local gateway (its outcome is known here)."""
        applied = result is EventResult.APPLIED and event.intent is not None
        outcome = str(event.intent.outcome.value) if applied and event.intent else result.value
        self.business.payment_event("local", outcome)

    def webhook(self, outcome: str) -> None:
        """A Stripe webhook: the result of applying it, `invalid` or `unavailable`."""
        self.business.payment_event("stripe", outcome)

    def job_run(self, job: str, *, ok: bool) -> None:
        self.job_runs.labels(job, "ok" if ok else "failed").inc()

    def exposition(self) -> bytes:
        """This app's metrics; under `hexmart serve --workers N`, summed over every
        process (entrypoints/metrics.py)."""
        return exposition(self.registry)


def metrics_of(state: State) -> ShopMetrics:
    metrics: ShopMetrics = state[METRICS_KEY]
    return metrics


def counting_payment_events(
    apply_event: Callable[[ProviderEvent], Awaitable[EventResult]], metrics: ShopMetrics
) -> Callable[[ProviderEvent], Awaitable[EventResult]]:
    """`apply_event` that also counts each event's outcome."""

    async def apply(event: ProviderEvent) -> EventResult:
        result = await apply_event(event)
        metrics.payment_event(event, result)
        return result

    return apply


class RequestMetricsMiddleware(ASGIMiddleware):
    """Counts and times every routed request by its route template (never the raw path,
    whose ids would make a series per order)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: ShopMetrics) -> None:
        self._metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500  # if the app fails before it answers

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_and_note_status)
        finally:
            self._metrics.observe_request(
                scope["method"],
                scope.get("path_template") or "unmatched",
                status,
                time.perf_counter() - started,
            )


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]

    @get(
        "/",
        media_type=TEXT_FORMAT,
        description="Prometheus text format: requests and their latency by route and "
        "status, orders placed, payment events by outcome, background job runs.",
        summary="Metrics for Prometheus",
    )
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus scrapes this."""
        return Response(
            metrics_of(request.app.state).exposition(),
            media_type=TEXT_FORMAT,
        )
