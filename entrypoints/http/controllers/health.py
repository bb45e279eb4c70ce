"""/health: liveness and readiness, for load balancers and orchestrators. Readiness needs
the database, and Redis when it is configured (sessions and the task queue need it). The
S3 bucket and the read replica, when configured, are checked and reported too, but do
not fail readiness: only uploads and product images need the bucket, only catalog listings
the replica, and taking every app process out of the load balancer for them would stop
checkout as well; the answer is then 200 with status "degraded" and `checks.files` or
`checks.database_replica` "failed", for monitoring to alert on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import text

from domain.users import Role
from entrypoints.container import Container
from entrypoints.http.errors import PROBLEM_JSON, PROBLEM_TYPE_PREFIX
from entrypoints.http.state import container_of

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
# Checked and reported, but the app serves its other routes without them.
NOT_NEEDED_FOR_READINESS = frozenset({"files", "database_replica"})
REDIS_TIMEOUT_SECONDS = 1.0


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


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
    engine = container.database_replica_engine()
    assert engine is not None
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(container: Container) -> None:
    await asyncio.wait_for(container.redis_client().ping(), REDIS_TIMEOUT_SECONDS)


async def _redis_cache(container: Container) -> None:
    await asyncio.wait_for(container.redis_cache_client().ping(), REDIS_TIMEOUT_SECONDS)


async def _files(container: Container) -> None:
    await container.file_storage().check()


def readiness_checks(container: Container) -> dict[str, Callable[[Container], Awaitable[None]]]:
    checks = {"database": _database}
    if container.settings().database_replica_url is not None:
        checks["database_replica"] = _database_replica
    if container.settings().redis_url is not None:
        checks["redis"] = _redis
        settings = container.settings()
        if settings.redis_url_for("cache") != settings.redis_url_for("live"):
            checks["redis_cache"] = _redis_cache
    if container.settings().s3_bucket is not None:
        checks["files"] = _files
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
        not); 503 naming the ones that do not."""
        container = container_of(request.app)
        checks: dict[str, str] = {}
        for name, check in readiness_checks(container).items():
            try:
                await asyncio.wait_for(check(container), CHECK_TIMEOUT_SECONDS)
                checks[name] = "ok"
            except Exception:  # any failure means "not ready"; the cause goes to the log
                log.exception("readiness check %s failed", name)
                checks[name] = "failed"
        failing = [name for name, outcome in checks.items() if outcome != "ok"]
        blocking = [name for name in failing if name not in NOT_NEEDED_FOR_READINESS]
        if not blocking:
            return Response(Health(status="degraded" if failing else "ok", checks=checks))
        body = NotReady(
            type=PROBLEM_TYPE_PREFIX + "not-ready",
            title="Service unavailable",
            status=503,
            detail=f"not ready: {', '.join(blocking)} failed",
            instance=request.url.path,
            checks=checks,
        )
        return Response(body, status_code=503, media_type=PROBLEM_JSON)  # type: ignore[arg-type]
