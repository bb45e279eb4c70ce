"""What the app does when it starts and stops: connect the local payment gateway to the
payment-event use case, create the first admin, run the background loop (embedded
default), and on the way out stop the loop, finish queued jobs and close what is open."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar

from adapters.inprocess.task_runner import InProcessTaskQueue
from application.outbox import HANDLE_EVENT_JOB
from domain.errors import EmailAlreadyRegistered
from entrypoints.background import BackgroundLoop
from entrypoints.container import (
    Container,
    connect_local_payments,
    start_services,
    stop_services,
)
from entrypoints.http.metrics import ShopMetrics, counting_payment_events
from entrypoints.log_redaction import redact_credentials_in_logs
from entrypoints.logs import continuing
from entrypoints.tracing import span, trace_sql

log = logging.getLogger(__name__)

StartupTask = Callable[[Container], Awaitable[object]]
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def app_lifespan(
    container: Container,
    *,
    background_jobs: bool,
    startup_tasks: Sequence[StartupTask],
    metrics: ShopMetrics,
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        # The server configured its logging before starting the app (uvicorn's access log
        # prints every path with its query string, a WebSocket's token included).
        redact_credentials_in_logs()
        await start_services(container)
        _connect_local_payments(container, metrics)
        uncount = _count_handled_events(container, metrics)
        engines = {"primary": container.database_engine()}
        if (replica := container.database_replica_engine()) is not None:
            engines["replica"] = replica
        metrics.health.attach(engines)
        for engine in engines.values():
            trace_sql(engine)
        await ensure_first_admin(container)
        for task in startup_tasks:
            await task(container)
        loop = (
            BackgroundLoop(container, on_job_run=lambda job, ok: metrics.job_run(job, ok=ok))
            if background_jobs
            else None
        )
        if loop is not None:
            loop.start()
        try:
            yield
        finally:
            if loop is not None:
                await loop.stop()
            metrics.health.detach()
            uncount()
            await stop_services(container)

    return lifespan


def _connect_local_payments(container: Container, metrics: ShopMetrics) -> None:
    """The local gateway "delivers webhooks" by calling the payment-event use case."""
    connect_local_payments(
        container, counting_payment_events(container.payment_events().apply_event, metrics)
    )


def _count_handled_events(container: Container, metrics: ShopMetrics) -> Callable[[], None]:
    """On the embedded default the app handles the outbox's events itself (in-process
    queue): count each one handled (orders, revenue, refunds). With Redis the worker
    handles and counts them."""
    queue = container.task_queue()
    if not isinstance(queue, InProcessTaskQueue):
        return lambda: None
    handle = queue.handler(HANDLE_EVENT_JOB)

    async def handle_and_count(payload: dict[str, Any]) -> None:
        carried = payload.get("context")
        with continuing(carried), span("job handle_event", parent=carried):
            await handle(payload)
        metrics.business.event_handled(payload["name"], payload["payload"])

    queue.register(HANDLE_EVENT_JOB, handle_and_count)
    return lambda: queue.register(HANDLE_EVENT_JOB, handle)


async def ensure_first_admin(container: Container) -> None:
    settings = container.settings()
    if settings.auth.admin_email is None or settings.auth.admin_password is None:
        return
    try:
        admin = await container.user_accounts().ensure_first_admin(
            email=settings.auth.admin_email, password=settings.auth.admin_password
        )
    except EmailAlreadyRegistered:
        return  # another app process created it at the same moment
    if admin is not None:
        log.info("first administrator %s is ready", admin.email)
