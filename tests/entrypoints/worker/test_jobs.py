"""The worker's job functions, called as arq calls them, over an in-memory shop (no Redis)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from arq import Retry

from adapters.arq_queue.serialization import deserialize, serialize
from application.outbox import HANDLE_EVENT_JOB
from application.ports.errors import PaymentProviderError, ServiceUnavailable
from domain.orders import OrderStatus
from entrypoints.container import Container, stop_services
from entrypoints.testing import in_memory_container, settings_for_tests
from entrypoints.worker import MAX_TRIES, _schedule, handle_event, retry_delay
from tests.application.shopping import clock, deliver_jobs, gateway, mailer, task_queue
from tests.entrypoints.worker.support import place_an_order, sign_up


def scheduled(name: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """The cron job arq runs under `name`."""
    [job] = [job for job in _schedule("", 1) if job.name == name]
    return job.coroutine


relay_outbox = scheduled("relay_outbox")
deliver_local_payments = scheduled("deliver_local_payments")
reconcile_payments = scheduled("reconcile_payments")
expire_unpaid_orders = scheduled("expire_unpaid_orders")
purge_old_records = scheduled("purge_old_records")


@pytest.fixture
def shop() -> Container:
    return in_memory_container()


def ctx(shop: Container, **job: Any) -> dict[str, Any]:
    return {"container": shop, "job_try": 1, **job}


async def test_relay_outbox_hands_waiting_events_to_the_queue(shop: Container) -> None:
    await sign_up(shop, "ann@example.com", "Ann Archer")
    assert await relay_outbox(ctx(shop)) == 1
    assert [job.name for job in task_queue(shop).jobs] == [HANDLE_EVENT_JOB]


async def test_expire_unpaid_orders_cancels_orders_unpaid_past_the_timeout(
    shop: Container,
) -> None:
    placed = await place_an_order(shop, await sign_up(shop, "ann@example.com", "Ann"))
    assert await expire_unpaid_orders(ctx(shop)) == 0
    clock(shop).advance(timedelta(minutes=31))  # the settings' timeout is 30 minutes
    assert await expire_unpaid_orders(ctx(shop)) == 1
    async with shop.unit_of_work()() as uow:
        order = await uow.orders.get(placed.order.id)
    assert order is not None
    assert order.status is OrderStatus.CANCELLED


async def test_reconcile_payments_applies_what_the_provider_says(shop: Container) -> None:
    placed = await place_an_order(shop, await sign_up(shop, "ann@example.com", "Ann"))
    assert placed.payment.intent_id is not None
    gateway(shop).succeed(placed.payment.intent_id)  # ... and its webhook never arrives
    clock(shop).advance(timedelta(minutes=6))
    assert await reconcile_payments(ctx(shop)) == 1
    async with shop.unit_of_work()() as uow:
        order = await uow.orders.get(placed.order.id)
    assert order is not None
    assert order.status is OrderStatus.PAID


async def test_purge_old_records_reports_what_it_removed(shop: Container) -> None:
    ann = await sign_up(shop, "ann@example.com", "Ann Archer")
    await deliver_jobs(shop)  # handled: a message only enqueued is never purged
    await shop.uploads().request_upload(ann.principal, "never-sent.png", "image/png", 10)
    clock(shop).advance(timedelta(days=8))
    assert await purge_old_records(ctx(shop)) == {
        "idempotency_records": 0,
        "processed_events": 1,  # the welcome email's ledger entry
        "handled_outbox_messages": 1,
        "abandoned_uploads": 1,
        "local_payment_intents": 0,  # payments go through another gateway here
    }


def local_payments_shop(folder: Path) -> Container:
    """In memory, but paying through the local gateway (a SQLite file of its own)."""
    shop = in_memory_container(
        settings_for_tests(
            local_payments_auto_complete=True,
            database_url=f"sqlite+aiosqlite:///{folder / 'shop.db'}",
        )
    )
    shop.payment_gateway.reset_override()
    return shop


async def test_deliver_local_payments_tells_the_shop_what_a_dead_app_process_left(
    tmp_path: Path,
) -> None:
    """An app process placed the order, its intent's delay had not run out when it died;
    the worker (same database) completes the payment and tells the shop."""
    shop = local_payments_shop(tmp_path)
    placed = await place_an_order(shop, await sign_up(shop, "ann@example.com", "Ann"))
    await shop.payment_gateway().close()  # the app process dies: its timer with it
    assert await deliver_local_payments(ctx(shop)) == 0  # not paid yet

    clock(shop).advance(timedelta(seconds=1))

    assert await deliver_local_payments(ctx(shop)) == 1
    assert await deliver_local_payments(ctx(shop)) == 0
    async with shop.unit_of_work()() as uow:
        order = await uow.orders.get(placed.order.id)
    assert order is not None
    assert order.status is OrderStatus.PAID
    await stop_services(shop)


async def test_purge_old_records_forgets_local_payments_past_their_retention(
    tmp_path: Path,
) -> None:
    shop = local_payments_shop(tmp_path)
    placed = await place_an_order(shop, await sign_up(shop, "ann@example.com", "Ann"))
    clock(shop).advance(timedelta(seconds=1))
    assert await deliver_local_payments(ctx(shop)) == 1
    assert placed.payment.intent_id is not None

    clock(shop).advance(timedelta(days=89))
    assert (await purge_old_records(ctx(shop)))["local_payment_intents"] == 0
    clock(shop).advance(timedelta(days=1, seconds=1))  # the settings keep them 90 days
    assert (await purge_old_records(ctx(shop)))["local_payment_intents"] == 1

    with pytest.raises(PaymentProviderError):
        await shop.payment_gateway().retrieve_intent(placed.payment.intent_id)
    await stop_services(shop)


async def _one_event(shop: Container) -> dict[str, Any]:
    await sign_up(shop, "ann@example.com", "Ann Archer")
    await relay_outbox(ctx(shop))
    [job] = task_queue(shop).jobs
    # Exactly what the worker receives: the payload after a trip through JSON.
    payload: dict[str, Any] = deserialize(serialize(job.payload))
    return payload


async def test_handle_event_sends_the_email_once(shop: Container) -> None:
    payload = await _one_event(shop)
    assert await handle_event(ctx(shop), payload) is True
    assert await handle_event(ctx(shop), payload) is False
    assert len(mailer(shop).sent) == 1


async def test_a_mail_outage_is_retried_later_with_a_growing_delay(shop: Container) -> None:
    payload = await _one_event(shop)
    mailer(shop).go_down()
    with pytest.raises(Retry) as first:
        await handle_event(ctx(shop, job_try=1), payload)
    with pytest.raises(Retry) as third:
        await handle_event(ctx(shop, job_try=3), payload)
    assert first.value.defer_score == 5_000
    assert third.value.defer_score == 20_000
    mailer(shop).come_back()
    assert await handle_event(ctx(shop, job_try=4), payload) is True


async def test_the_last_try_fails_for_good_and_logs_the_payload(
    shop: Container, caplog: pytest.LogCaptureFixture
) -> None:
    payload = await _one_event(shop)
    mailer(shop).go_down()
    with pytest.raises(ServiceUnavailable):
        await handle_event(ctx(shop, job_try=MAX_TRIES), payload)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert payload["message_id"] in record.getMessage()
    assert "ann@example.com" in record.getMessage()


def test_retry_delays_double_up_to_a_ceiling() -> None:
    assert [retry_delay(n) for n in range(1, 12)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        900,
        900,
        900,
    ]
    assert sum(retry_delay(n) for n in range(1, MAX_TRIES)) > 3600  # an hour of outage
