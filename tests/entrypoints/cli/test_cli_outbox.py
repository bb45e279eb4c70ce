"""`hexmart outbox status/show/retry` and `hexmart workers status`."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from application.ports.persistence import OutboxMessage
from application.workers import WorkerIdentity, Workers
from entrypoints.container import Container, start_services, stop_services
from entrypoints.settings import Settings
from entrypoints.testing import container_for_tests
from tests.entrypoints.cli.conftest import Hexmart, Scene, one_line_error


async def _waiting(container: Container) -> list[OutboxMessage]:
    async with container.unit_of_work()() as uow:
        return await uow.outbox.list_unsent(100)


def test_status_show_and_retry(hexmart: Hexmart, shop: Scene) -> None:
    assert "nothing waiting" in hexmart("outbox", "status").stdout
    hexmart("users", "create", "--email", "c@example.com", "--role", "customer")

    async def ask_for_a_reset(container: Container) -> None:
        await container.authentication().request_password_reset("c@example.com")

    shop(ask_for_a_reset)

    status = json.loads(hexmart("outbox", "status", "--json").stdout)
    assert sum(kind["unhandled"] for kind in status) == 2
    assert all(kind["oldest_age"].endswith("s") for kind in status)
    assert "unhandled" in hexmart("outbox", "status").stdout

    [reset] = [m for m in shop(_waiting) if m.name == "password_reset_requested"]
    shown = json.loads(hexmart("outbox", "show", reset.id, "--json").stdout)
    # The event holds no token, only a digest of the password hash: shown redacted all
    # the same, like any field named after a password or a token.
    assert shown["payload"]["password_fingerprint"] == "[redacted]"
    fingerprint = reset.payload["password_fingerprint"]
    assert fingerprint not in hexmart("outbox", "show", reset.id).stdout
    assert shown["payload"]["user_id"] == reset.payload["user_id"]
    assert shown["enqueued_at"] is None
    assert shown["handled_at"] is None

    async def handle(container: Container) -> None:
        async with container.unit_of_work()() as uow:
            await uow.outbox.mark_enqueued([reset.id], datetime.now(UTC))
            await uow.outbox.mark_handled(reset.id, datetime.now(UTC))
            await uow.commit()

    shop(handle)
    handled = json.loads(hexmart("outbox", "show", reset.id, "--json").stdout)
    assert handled["enqueued_at"]
    assert handled["handled_at"]
    waiting = json.loads(hexmart("outbox", "status", "--json").stdout)
    assert "password_reset_requested" not in [kind["kind"] for kind in waiting]
    assert hexmart("outbox", "retry", "--id", reset.id).exit_code == 0
    assert reset.id in [m.id for m in shop(_waiting)]
    assert json.loads(hexmart("audit", "list", "--json").stdout)[0]["action"] == "outbox.retry"

    for args in (["show", "nope"], ["retry", "--id", "nope"]):
        missing = hexmart("outbox", *args)
        assert missing.exit_code == 1
        assert "not found" in one_line_error(missing)


def test_retry_failed_hands_on_every_message_enqueued_but_not_handled(
    hexmart: Hexmart, shop: Scene
) -> None:
    hexmart("users", "create", "--email", "c@example.com", "--role", "customer")

    async def ask_for_a_reset(container: Container) -> None:
        await container.authentication().request_password_reset("c@example.com")

    shop(ask_for_a_reset)
    first, second = shop(_waiting)

    async def enqueue_both_handle_one(container: Container) -> None:
        async with container.unit_of_work()() as uow:
            await uow.outbox.mark_enqueued([first.id, second.id], datetime.now(UTC))
            await uow.outbox.mark_handled(first.id, datetime.now(UTC))
            await uow.commit()

    shop(enqueue_both_handle_one)
    assert shop(_waiting) == []

    result = hexmart("outbox", "retry", "--failed")

    assert result.exit_code == 0, result.stderr
    assert "1 failed outbox message(s)" in result.stdout
    assert [m.id for m in shop(_waiting)] == [second.id]
    handled = json.loads(hexmart("outbox", "show", first.id, "--json").stdout)
    assert handled["handled_at"]
    assert json.loads(hexmart("audit", "list", "--json").stdout)[0]["action"] == (
        "outbox.retry_failed"
    )
    assert "0 failed" in hexmart("outbox", "retry", "--failed").stdout


def test_retry_wants_exactly_one_of_id_and_failed(hexmart: Hexmart) -> None:
    for args in ([], ["--failed", "--id", "x"]):
        result = hexmart("outbox", "retry", *args)
        assert result.exit_code == 2
        assert "exactly one of --id ID and --failed" in one_line_error(result)


def test_workers_status_needs_redis_and_reports_the_queue(hexmart: Hexmart) -> None:
    without = hexmart("workers", "status")
    assert without.exit_code == 2
    assert "HEXMART_REDIS_URL" in one_line_error(without)

    result = hexmart("workers", "status", "--json", HEXMART_REDIS_URL="redis://127.0.0.1:6379/9")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["jobs_waiting"] >= 0


def test_workers_status_lists_the_workers_alive_by_their_heartbeats(
    hexmart: Hexmart, env: dict[str, str]
) -> None:
    redis = {"HEXMART_REDIS_URL": "redis://127.0.0.1:6379/9"}
    worker = WorkerIdentity(
        worker_id=f"cli-test-{uuid.uuid4().hex[:8]}",
        host="box-7",
        pid=4242,
        started_at=datetime.now(UTC),
    )

    async def with_workers(work: Callable[[Workers], Awaitable[None]]) -> None:
        container = container_for_tests(Settings.from_mapping(env | redis))
        await start_services(container)
        try:
            await work(container.workers())
        finally:
            await stop_services(container)

    def listed() -> list[dict[str, Any]]:
        result = hexmart("workers", "status", "--json", **redis)
        assert result.exit_code == 0, result.stderr
        return [
            w for w in json.loads(result.stdout)["workers"] if w["worker_id"] == worker.worker_id
        ]

    asyncio.run(with_workers(lambda workers: workers.beat(worker, jobs_done=3)))
    try:
        [shown] = listed()
        assert (shown["host"], shown["pid"], shown["jobs_done"]) == ("box-7", 4242, 3)
        assert worker.worker_id in hexmart("workers", "status", **redis).stdout
    finally:
        asyncio.run(with_workers(lambda workers: workers.stopped(worker)))
    assert listed() == []
