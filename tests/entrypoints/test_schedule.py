"""One schedule, run by the worker's arq cron and the app's in-process loop alike, in one
order: payments are reconciled before unpaid orders expire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.orders import OrderStatus
from entrypoints.background import SCHEDULE, BackgroundLoop, Every
from entrypoints.testing import in_memory_container
from entrypoints.worker import HOURLY_AT_MINUTE, _schedule
from tests.application.shopping import clock, gateway
from tests.entrypoints.worker.support import place_an_order, sign_up

NAMES = [job.name for job in SCHEDULE]


def test_reconciliation_comes_before_expiry_in_the_schedule() -> None:
    assert NAMES.index("reconcile_payments") < NAMES.index("expire_unpaid_orders")


def test_the_cron_schedules_every_job_of_the_table_and_nothing_else() -> None:
    cron_jobs = _schedule("hexmart:", 1)

    assert [job.name for job in cron_jobs] == [f"hexmart:{name}" for name in NAMES]
    assert [job.coroutine.__name__ for job in cron_jobs] == NAMES


def test_the_cron_reconciles_payments_before_it_expires_orders_each_minute() -> None:
    cron = {job.name: job for job in _schedule("", 1)}
    reconcile, expire = cron["reconcile_payments"], cron["expire_unpaid_orders"]

    assert (reconcile.second, expire.second) == (0, 30)
    assert reconcile.minute is expire.minute is None  # every minute
    assert not reconcile.run_at_startup
    assert not expire.run_at_startup


@pytest.mark.parametrize("every_seconds", [1, 5, 30])
def test_the_cron_runs_the_round_jobs_every_round_and_at_start(every_seconds: int) -> None:
    cron = {job.name: job for job in _schedule("", every_seconds)}

    for job in SCHEDULE:
        if job.every is Every.ROUND:
            assert cron[job.name].second == set(range(0, 60, every_seconds))
            assert cron[job.name].run_at_startup


def test_the_cron_runs_the_hourly_jobs_once_an_hour() -> None:
    cron = {job.name: job for job in _schedule("", 1)}

    assert (cron["purge_old_records"].minute, cron["purge_old_records"].second) == (
        HOURLY_AT_MINUTE,
        0,
    )


async def test_the_loop_runs_the_table_in_its_order() -> None:
    runs: list[str] = []
    two_rounds = asyncio.Event()

    def ran(job: str, ok: bool) -> None:
        runs.append(job)
        if len(runs) >= len(SCHEDULE) + 2:
            two_rounds.set()

    loop = BackgroundLoop(in_memory_container(), relay_interval=0.01, on_job_run=ran)
    loop.start()
    try:
        await asyncio.wait_for(two_rounds.wait(), 5)
    finally:
        await loop.stop()

    # The first round runs every job, in the table's order; the next only the round's.
    assert runs[: len(SCHEDULE)] == NAMES
    rounds = [job.name for job in SCHEDULE if job.every is Every.ROUND]
    assert runs[len(SCHEDULE) : len(SCHEDULE) + 2] == rounds


async def test_a_payment_that_arrived_saves_its_order_from_expiry() -> None:
    """Its webhook was lost, and the order's payment time is over: one round of the
    schedule reconciles the payment first, so the order is paid, not cancelled."""
    shop = in_memory_container()
    placed = await place_an_order(shop, await sign_up(shop, "ann@example.com", "Ann"))
    assert placed.payment.intent_id is not None
    gateway(shop).succeed(placed.payment.intent_id)
    clock(shop).advance(timedelta(minutes=shop.settings().payments.order_timeout_minutes + 1))

    await BackgroundLoop(shop).run_once()

    async with shop.unit_of_work()() as uow:
        order = await uow.orders.get(placed.order.id)
    assert order is not None
    assert order.status is OrderStatus.PAID
