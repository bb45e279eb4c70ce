"""`hexmart outbox status/show/retry` and `hexmart workers status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from application.ports.persistence import OutboxMessage
from entrypoints.container import Container
from tests.cli.conftest import Hexmart, Scene, one_line_error


async def _unsent(container: Container) -> list[OutboxMessage]:
    async with container.unit_of_work()() as uow:
        return await uow.outbox.list_unsent(100)


def test_status_show_and_retry(hexmart: Hexmart, shop: Scene) -> None:
    assert "nothing waiting" in hexmart("outbox", "status").stdout
    hexmart("users", "create", "--email", "c@example.com", "--role", "customer")

    async def ask_for_a_reset(container: Container) -> None:
        await container.authentication().request_password_reset("c@example.com")

    shop(ask_for_a_reset)

    status = json.loads(hexmart("outbox", "status", "--json").stdout)
    assert sum(kind["unsent"] for kind in status) == 2
    assert all(kind["oldest_age"].endswith("s") for kind in status)
    assert "unsent" in hexmart("outbox", "status").stdout

    [reset] = [m for m in shop(_unsent) if m.name == "password_reset_requested"]
    shown = json.loads(hexmart("outbox", "show", reset.id, "--json").stdout)
    # The event holds no token, only a digest of the password hash: shown redacted all
    # the same, like any field named after a password or a token.
    assert shown["payload"]["password_fingerprint"] == "[redacted]"
    fingerprint = reset.payload["password_fingerprint"]
    assert fingerprint not in hexmart("outbox", "show", reset.id).stdout
    assert shown["payload"]["user_id"] == reset.payload["user_id"]
    assert shown["sent_at"] is None

    async def relay(container: Container) -> None:
        async with container.unit_of_work()() as uow:
            await uow.outbox.mark_sent([reset.id], datetime.now(UTC))
            await uow.commit()

    shop(relay)
    assert json.loads(hexmart("outbox", "show", reset.id, "--json").stdout)["sent_at"]
    assert hexmart("outbox", "retry", "--id", reset.id).exit_code == 0
    assert reset.id in [m.id for m in shop(_unsent)]
    assert json.loads(hexmart("audit", "list", "--json").stdout)[0]["action"] == "outbox.retry"

    for args in (["show", "nope"], ["retry", "--id", "nope"]):
        missing = hexmart("outbox", *args)
        assert missing.exit_code == 1
        assert "not found" in one_line_error(missing)


def test_workers_status_needs_redis_and_reports_the_queue(hexmart: Hexmart) -> None:
    without = hexmart("workers", "status")
    assert without.exit_code == 2
    assert "HEXMART_REDIS_URL" in one_line_error(without)

    result = hexmart("workers", "status", "--json", HEXMART_REDIS_URL="redis://127.0.0.1:6379/9")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["jobs_waiting"] >= 0
