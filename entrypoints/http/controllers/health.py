"""/health: liveness and readiness, for load balancers and orchestrators. Readiness needs
the database, and Redis when it is configured (sessions and the task queue need it).

Checked and reported too, without failing readiness (taking every app process out of the
load balancer for them would stop checkout as well): the S3 bucket, when configured (only
uploads and product images need it); the read replica, when configured (only catalog
listings read from it); the outbox backlog, "degraded" once its oldest unhandled message
is older than HEXMART_OUTBOX_BACKLOG_ALERT_SECONDS; and, with Redis configured, the
workers, "degraded" when none has a fresh heartbeat (emails and live updates then wait).
The answer is then 200 with status "degraded", the check named in `checks` and what is
wrong in `details`, for monitoring to alert on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from application.workers import HEARTBEAT_TTL_SECONDS
from domain.users import Role
from entrypoints.container import Container
from entrypoints.http.errors import PROBLEM_JSON, PROBLEM_TYPE_PREFIX
from entrypoints.http.state import container_from_app

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
# Checked and reported, but the app serves its other routes without them.
NOT_NEEDED_FOR_READINESS = frozenset({"files", "database_replica", "outbox", "worker"})
REDIS_TIMEOUT_SECONDS = 1.0


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)
    # What is wrong with each "degraded" check, in words; absent when nothing is.
    details: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


# A check returns None when all is well, or what is wrong (the check is then "degraded");
# it raises when it cannot tell ("failed").
Check = Callable[[Container], Awaitable[str | None]]


class NotReady(msgspec.Struct, kw_only=True):
    """A problem-details body that also names each check and its outcome."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    checks: dict[str, str]


async def _database(container: Container) -> None:
    async with container.unit_of_work()() as uow:
        await uow.users.any_with_role(Role.ADMIN)


async def _database_replica(container: Container) -> None:
    await container.database_replica_ping()


async def _redis(container: Container) -> None:
    await asyncio.wait_for(container.redis_client().ping(), REDIS_TIMEOUT_SECONDS)


async def _redis_cache(container: Container) -> None:
    await asyncio.wait_for(container.redis_cache_client().ping(), REDIS_TIMEOUT_SECONDS)


async def _files(container: Container) -> None:
    await container.file_storage().check()


async def _outbox(container: Container) -> str | None:
    age = await container.outbox_relay().oldest_unhandled_age()
    alert_after = container.settings().outbox.backlog_alert_seconds
    if age is None or age.total_seconds() <= alert_after:
        return None
    return (
        f"the oldest unhandled outbox message is {int(age.total_seconds())} s old "
        f"(alert after {alert_after} s)"
    )


async def _worker(container: Container) -> str | None:
    if await container.workers().alive():
        return None
    return f"no worker heartbeat in the last {HEARTBEAT_TTL_SECONDS} s"


def readiness_checks(container: Container) -> dict[str, Check]:
    checks: dict[str, Check] = {"database": _database}
    if container.settings().database.replica_url is not None:
        checks["database_replica"] = _database_replica
    if container.settings().redis.url is not None:
        checks["redis"] = _redis
        settings = container.settings()
        if settings.redis.url_for("cache") != settings.redis.url_for("live"):
            checks["redis_cache"] = _redis_cache
    if container.settings().files.s3_bucket is not None:
        checks["files"] = _files
    checks["outbox"] = _outbox
    if container.settings().redis.url is not None:
        checks["worker"] = _worker
    return checks


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]

    @get("/live")
    async def live(self) -> Health:
        """200 while the process runs."""
        return Health(status="ok")

    @get(
        "/ready",
        responses={
            503: ResponseSpec(
                data_container=NotReady,
                media_type=PROBLEM_JSON,
                description="A backing service does not answer; `checks` names it",
                generate_examples=False,
            )
        },
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Health]:
        """200 when every backing service answers ("degraded" when only file storage does
        not, or the outbox backlog or the workers need attention); 503 naming the ones
        that do not."""
        container = container_from_app(request.app)
        checks: dict[str, str] = {}
        details: dict[str, str] = {}
        for name, check in readiness_checks(container).items():
            try:
                problem = await asyncio.wait_for(check(container), CHECK_TIMEOUT_SECONDS)
            except Exception:  # any failure means "not ready"; the cause goes to the log
                log.exception("readiness check %s failed", name)
                checks[name] = "failed"
                continue
            checks[name] = "ok" if problem is None else "degraded"
            if problem is not None:
                details[name] = problem
        failing = [name for name, outcome in checks.items() if outcome != "ok"]
        blocking = [name for name in failing if name not in NOT_NEEDED_FOR_READINESS]
        if not blocking:
            return Response(
                Health(
                    status="degraded" if failing else "ok",
                    checks=checks,
                    details=details or msgspec.UNSET,
                )
            )
        body = NotReady(
            type=PROBLEM_TYPE_PREFIX + "not-ready",
            title="Service unavailable",
            status=503,
            detail=f"not ready: {', '.join(blocking)} failed",
            instance=request.url.path,
            checks=checks,
        )
        return Response(body, status_code=503, media_type=PROBLEM_JSON)  # type: ignore[arg-type]
