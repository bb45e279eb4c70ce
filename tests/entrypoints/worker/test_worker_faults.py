"""Faults a running worker must ride out, and stops it must obey, each with real processes:
`hexmart worker` (run_worker) in a subprocess, a redis-server of the test's own that the
test stops and starts (never the shared one), a SQLite file database shared with the
test, and a recording SMTP server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers
from redis.asyncio import Redis

from adapters.sql.engine import create_engine
from application.catalog import NewProduct
from application.ports.errors import ServiceUnavailable
from domain.money import Money
from entrypoints.container import Container
from entrypoints.testing import in_memory_container, settings_for_tests
from entrypoints.worker import worker_options
from entrypoints.worker_process import CLOSE_SECONDS, HexmartWorker
from tests.application.shopping import PASSWORD, an_address, sign_in
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    WorkerProcess,
    migrated_sqlite,
    sign_up,
)
from tests.polling import eventually
from tests.real_services import (
    PrivatePostgres,
    PrivateRedis,
    RecordingSmtpServer,
    free_port,
    unique_prefix,
)
from tests.sql_fixtures import use_sql

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fault,
    pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL),
]

OUTAGE = "is unreachable"
RECOVERY = "answers again"
# The jobs' grace given to the workers here; the process must be gone CLOSE_SECONDS later.
JOBS_GRACE_SECONDS = 1
EXIT_WITHIN_SECONDS = JOBS_GRACE_SECONDS + CLOSE_SECONDS


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def private_queue(private_redis: PrivateRedis) -> AsyncIterator[Queue]:
    redis = Redis.from_url(private_redis.url, socket_connect_timeout=1, socket_timeout=2)
    yield Queue(redis, unique_prefix(), private_redis.url)
    await redis.aclose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path)


@pytest.fixture
async def app(database_url: str, private_queue: Queue) -> AsyncIterator[Container]:
    """The app process: it registers users and relays the outbox to the private Redis."""
    engine = create_engine(database_url)
    shop = in_memory_container()
    use_sql(shop, engine)
    task_queue, connection = private_queue.task_queue()
    shop.task_queue.override(providers.Object(task_queue))
    yield shop
    await connection.aclose()
    await engine.dispose()


def start_worker(
    tmp_path: Path, queue: Queue, database_url: str, smtp_url: str | None = None
) -> WorkerProcess:
    # The private cluster starts empty: the worker migrates it when it comes up.
    settings = {"HEXMART_DATABASE_URL": database_url, "HEXMART_MIGRATE_ON_START": "true"}
    if smtp_url is not None:
        settings["HEXMART_SMTP_URL"] = smtp_url
    return WorkerProcess(
        tmp_path,
        queue,
        settings,
        job_completion_wait=JOBS_GRACE_SECONDS,
        health_check_interval=1,
    )


async def until_logged(worker: WorkerProcess, text: str, times: int = 1) -> None:
    await eventually(
        lambda: worker.log.count(text) >= times or worker.process.poll() is not None,
        message=lambda: f"the worker never logged {text!r} {times} times:\n{worker.log}",
    )
    assert worker.process.poll() is None, f"the worker exited:\n{worker.log}"


async def until_health_recorded(queue: Queue) -> None:
    key = f"{queue.name}:health-check"
    await queue.redis.delete(key)
    await eventually(lambda: queue.redis.exists(key), message="the worker does not poll its queue")


def stop(worker: WorkerProcess, signum: signal.Signals) -> int:
    """Send `signum`; fail unless the process is gone within the grace period."""
    worker.process.send_signal(signum)
    try:
        return worker.process.wait(timeout=EXIT_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()
        raise AssertionError(
            f"still running {EXIT_WITHIN_SECONDS} s after {signum.name}:\n{worker.log}"
        ) from None


def assert_stopped_on(worker: WorkerProcess, exit_code: int, signum: signal.Signals) -> None:
    assert exit_code == 0, worker.log
    assert f"WARNING entrypoints.worker_process: hexmart worker stopped: {signum.name}" in (
        worker.log
    ), worker.log


async def test_a_worker_rides_out_redis_restarts_logging_each_outage_and_recovery_once(
    app: Container,
    private_redis: PrivateRedis,
    private_queue: Queue,
    smtp_server: RecordingSmtpServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    worker = start_worker(tmp_path, private_queue, database_url, smtp_server.url)
    try:
        await until_health_recorded(private_queue)
        for restart in range(1, 4):
            # Work in flight as Redis goes: an email job, the relay, the schedule.
            await sign_up(app, f"user{restart}@example.com", "A Customer")
            await app.outbox_relay().relay_all()
            private_redis.stop()
            await until_logged(worker, OUTAGE, restart)
            private_redis.start()
            await until_logged(worker, RECOVERY, restart)
        await until_health_recorded(private_queue)
        await sign_up(app, "after@example.com", "A Customer")
        await app.outbox_relay().relay_all()
        await eventually(
            lambda: smtp_server.received_by("after@example.com"),
            message=lambda: f"no email after the restarts:\n{worker.log}",
        )
        assert worker.process.poll() is None, worker.log
    finally:
        exit_code = stop(worker, signal.SIGTERM)

    assert_stopped_on(worker, exit_code, signal.SIGTERM)
    assert worker.log.count(OUTAGE) == 3, worker.log
    assert worker.log.count(RECOVERY) == 3, worker.log
    assert "Traceback" not in worker.log


async def test_a_worker_started_before_redis_waits_for_it_then_works(
    private_queue: Queue, private_redis: PrivateRedis, database_url: str, tmp_path: Path
) -> None:
    private_redis.stop()
    worker = start_worker(tmp_path, private_queue, database_url)
    try:
        await until_logged(worker, OUTAGE)
        private_redis.start()
        await until_logged(worker, RECOVERY)
        await until_health_recorded(private_queue)
    finally:
        exit_code = stop(worker, signal.SIGINT)
    assert_stopped_on(worker, exit_code, signal.SIGINT)
    assert worker.log.count(OUTAGE) == 1, worker.log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_worker_that_cannot_reach_redis_at_start_stops_on_a_signal(
    signum: signal.Signals, database_url: str, tmp_path: Path
) -> None:
    closed = Queue(Redis(), unique_prefix(), f"redis://127.0.0.1:{free_port()}/0")
    worker = start_worker(tmp_path, closed, database_url)
    try:
        await until_logged(worker, OUTAGE)
        await asyncio.sleep(0)  # (the worker now retries with back-off)
    finally:
        exit_code = stop(worker, signum)
    assert_stopped_on(worker, exit_code, signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_worker_stops_on_a_signal_while_redis_is_down(
    signum: signal.Signals,
    private_queue: Queue,
    private_redis: PrivateRedis,
    database_url: str,
    tmp_path: Path,
) -> None:
    worker = start_worker(tmp_path, private_queue, database_url)
    try:
        await until_health_recorded(private_queue)
        private_redis.stop()
        await until_logged(worker, OUTAGE)
    finally:
        exit_code = stop(worker, signum)
    assert_stopped_on(worker, exit_code, signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_busy_worker_stops_on_a_signal_and_its_job_goes_back_on_the_queue(
    signum: signal.Signals,
    app: Container,
    private_queue: Queue,
    smtp_server: RecordingSmtpServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    await sign_up(app, "ann@example.com", "Ann Archer")
    assert await app.outbox_relay().relay_all() == 1
    smtp_server.hold_recipients()  # the email job will hang mid-send, past the grace
    worker = start_worker(tmp_path, private_queue, database_url, smtp_server.url)
    try:
        await eventually(
            smtp_server.recipient_held.is_set, message=lambda: f"no email under way:\n{worker.log}"
        )
    finally:
        exit_code = stop(worker, signum)
        smtp_server.release_recipients()
    assert_stopped_on(worker, exit_code, signum)
    assert "cancelled, will be run again" in worker.log
    jobs = await private_queue.redis.zrange(private_queue.name, 0, -1)
    assert [job for job in jobs if b"handle_event" in job or b"relay" not in job]


# --- item: the worker stops only when told to ------------------------------------------


def _in_process_worker(queue: Queue) -> HexmartWorker:
    return HexmartWorker(
        **worker_options(
            settings_for_tests(redis_url=queue.url),
            container=in_memory_container(),
            queue_name=queue.name,
            job_id_prefix=queue.prefix,
            handle_signals=False,
            poll_delay=0.01,
        )
    )


async def _still_polling_a_second_later(worker: HexmartWorker, polls: list[int]) -> None:
    """Well past the two 0.2 s checks after which a stop watch re-cancels."""
    seen, since = len(polls), time.monotonic()
    while time.monotonic() - since < 1.0 or len(polls) < seen + 10:
        assert worker.main_task is not None
        assert not worker.main_task.done(), "the worker stopped by itself"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("swallowed", [False, True], ids=["raised", "swallowed"])
async def test_a_cancellation_nobody_asked_for_does_not_stop_the_worker(
    queue: Queue, swallowed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Python 3.11's timeout machinery can leak a cancellation into the main loop, raised
    or swallowed on the way (leaving it pending). Neither is a stop."""
    worker = _in_process_worker(queue)
    poll_iteration = worker._poll_iteration
    polls: list[int] = []
    parked = asyncio.Event()

    async def iteration() -> None:
        polls.append(1)
        if swallowed and not parked.is_set():
            parked.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
            return
        await poll_iteration()

    worker._poll_iteration = iteration  # type: ignore[method-assign]
    task = asyncio.create_task(worker.async_run())
    try:
        await eventually(lambda: worker.polling, message="the worker never started")
        if swallowed:
            await asyncio.wait_for(parked.wait(), 10)
        assert worker.main_task is not None
        worker.main_task.cancel()  # nobody asked the worker to stop
        await _still_polling_a_second_later(worker, polls)
    finally:
        worker.handle_sig(signal.SIGTERM)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await worker.close()
    if not swallowed:
        assert "cancelled but no stop was asked for" in caplog.text


SOAK_SECONDS = 20


async def test_a_worker_under_mixed_load_with_a_redis_restart_is_alive_at_the_end(
    app: Container,
    private_redis: PrivateRedis,
    private_queue: Queue,
    smtp_server: RecordingSmtpServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    """A bounded soak: sign-ups and orders at several a second for SOAK_SECONDS, the
    schedule running, Redis restarted once half-way; the worker must still be there."""
    worker = start_worker(tmp_path, private_queue, database_url, smtp_server.url)
    await app.user_accounts().ensure_first_admin(email="root@example.com", password=PASSWORD)
    admin = await sign_in(app, "root@example.com")
    mug = await app.catalog().create_product(
        admin.principal, NewProduct("Mug", "A mug", Money(1200, "USD"), 100_000, "kitchen")
    )
    emails = 1  # the admin's welcome
    try:
        await until_health_recorded(private_queue)
        started = time.monotonic()
        restarted = False
        while time.monotonic() - started < SOAK_SECONDS:
            buyer = await sign_up(app, f"buyer{emails}@example.com", "A Buyer")
            await app.carts().set_item(buyer.principal, mug.id, 1)
            await app.orders().place_order(
                buyer.principal, idempotency_key=f"soak-{emails}", shipping_address=an_address()
            )
            emails += 2  # welcome + order received
            with contextlib.suppress(ServiceUnavailable):
                await app.outbox_relay().relay_all()
            if not restarted and time.monotonic() - started > SOAK_SECONDS / 2:
                private_redis.stop()
                await until_logged(worker, OUTAGE)
                private_redis.start()
                restarted = True
            assert worker.process.poll() is None, f"the worker exited:\n{worker.log}"
            await asyncio.sleep(0.1)  # the pace of the load, not a wait for anything
        await app.outbox_relay().relay_all()
        await eventually(
            lambda: len(_not_cancellations(smtp_server)) >= emails,
            message=lambda: f"emails missing:\n{worker.log}",
            within=90,  # a deadline on a busy machine, not a measure of speed
        )
        await smtp_server.wait_for(len(smtp_server.received) + 1, within=1.0)  # duplicates?
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log}"
    finally:
        exit_code = stop(worker, signal.SIGTERM)
    assert_stopped_on(worker, exit_code, signal.SIGTERM)
    delivered = Counter(
        (tuple(email.envelope_to), str(email.mime["Subject"])) for email in smtp_server.received
    )
    assert [item for item, count in delivered.items() if count > 1] == []  # no duplicates
    # The worker's clock is the real one, the app's a fixed day in the past: the unpaid
    # orders it expires (on the minute) add their cancellation emails to the mix.
    assert len(_not_cancellations(smtp_server)) == emails, sorted(delivered)
    assert "Traceback" not in worker.log
    assert " ERROR " not in worker.log
    assert " CRITICAL " not in worker.log


def _not_cancellations(smtp_server: RecordingSmtpServer) -> list[object]:
    return [e for e in smtp_server.received if "cancelled" not in str(e.mime["Subject"])]


@pytest.mark.parametrize("comes_up", [True, False], ids=["database-comes-up", "never"])
async def test_a_worker_started_before_its_database_waits_for_it_and_obeys_a_signal(
    comes_up: bool, private_queue: Queue, tmp_path: Path
) -> None:
    database = PrivatePostgres()  # created, not started yet
    try:
        worker = start_worker(tmp_path, private_queue, database.url)
        try:
            await until_logged(worker, "the database is unavailable at start-up")
            if comes_up:
                database.start()
                await until_logged(worker, "the database answers")
                await until_health_recorded(private_queue)
        finally:
            exit_code = stop(worker, signal.SIGINT)
    finally:
        database.close()
    assert_stopped_on(worker, exit_code, signal.SIGINT)
    assert "Traceback" not in worker.log
