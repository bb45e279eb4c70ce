"""A worker killed outright (SIGKILL) in the middle of sending an email: once a worker
runs again, the email arrives, exactly once. The worker processes and this test share a
SQLite file database (the email sent-ledger lives there) and the shared Redis."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.sql.engine import create_engine
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from tests.entrypoints.worker.support import (
    Queue,
    WorkerProcess,
    migrated_sqlite,
    sign_up,
    subjects,
)
from tests.polling import eventually
from tests.real_services import RecordingSmtpServer
from tests.sql_fixtures import use_sql

pytestmark = pytest.mark.integration

# arq holds a job a dead worker had started for job_timeout + 10 s; keep that short here.
JOB_TIMEOUT_SECONDS = 2


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path)


@pytest.fixture
async def app(database_url: str, queue: Queue) -> AsyncIterator[Container]:
    """The app process: it registers the user and relays the outbox to arq."""
    engine = create_engine(database_url)
    shop = in_memory_container()
    use_sql(shop, engine)
    task_queue, connection = queue.task_queue()
    shop.task_queue.override(providers.Object(task_queue))
    yield shop
    await connection.aclose()
    await engine.dispose()


async def test_a_worker_killed_mid_email_and_restarted_delivers_it_exactly_once(
    app: Container,
    queue: Queue,
    smtp_server: RecordingSmtpServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    await sign_up(app, "ann@example.com", "Ann Archer")
    assert await app.outbox_relay().relay_all() == 1
    settings = {"HEXMART_DATABASE_URL": database_url, "HEXMART_SMTP_URL": smtp_server.url}

    smtp_server.hold_recipients()  # the email will be under way, not yet accepted
    first = WorkerProcess(tmp_path, queue, settings, job_timeout=JOB_TIMEOUT_SECONDS)
    try:
        await eventually(
            smtp_server.recipient_held.is_set, message="the worker never started sending"
        )
    finally:
        first.kill()
    smtp_server.release_recipients()
    assert smtp_server.received == []

    second = WorkerProcess(tmp_path, queue, settings, job_timeout=JOB_TIMEOUT_SECONDS)
    try:
        await smtp_server.wait_for(1, within=JOB_TIMEOUT_SECONDS + 30)
        await smtp_server.wait_for(2, within=2.0)  # time for a duplicate to show up
    finally:
        assert second.terminate() == 0, second.log

    assert subjects(smtp_server.received_by("ann@example.com")) == ["Welcome to hexmart"]
    assert len(smtp_server.received) == 1, second.log
    # The job the killed worker had started, run again (its second try) by the new one.
    assert re.search(r":handle_event\(.*\) try=2", second.log), second.log
