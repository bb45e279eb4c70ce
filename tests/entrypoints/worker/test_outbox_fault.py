"""Fault injection: orders are placed and paid continuously on PostgreSQL while a worker
handles their events through a Redis that keeps nothing on disk. Right after the relay
hands Redis a batch of events, Redis is SIGKILLed and restarted empty: the jobs it held
are gone. The outbox knows those messages were enqueued but never handled and enqueues
them again, so every paid order still gets exactly one confirmation and one payment
email. Afterwards, every key left in Redis expires on its own, job results within
seconds.

Run it alone with `pytest -m fault`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from redis.asyncio import Redis

from adapters.fakes.mailer import InMemoryMailer
from adapters.fakes.payment_gateway import FakePaymentGateway
from application.catalog import NewProduct
from application.outbox import OutboxRelay
from application.payment_events import EventResult
from domain.money import Money
from entrypoints.container import Container, start_services, stop_services
from entrypoints.testing import container_for_tests, settings_for_tests
from entrypoints.worker import RESULT_KEPT, _schedule
from tests.application.shopping import PASSWORD, Account, an_address, sign_in
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    running_worker,
    sign_up,
)
from tests.polling import eventually
from tests.real_services import PrivateRedis

log = logging.getLogger(__name__)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fault,
    pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL),
]

REDELIVER_AFTER_SECONDS = 2
# What a batch must hold when Redis is killed: more than a worker takes at once (arq's
# max_jobs, 10), so some of it is certainly still waiting on the queue.
BATCH = 24
# What PTTL answers for a key that no longer exists (-1: one that never expires).
KEY_GONE = -2


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, persistent=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def shop(clean_postgres_url: str, private_redis: PrivateRedis) -> AsyncIterator[Container]:
    """The shop as deployed: PostgreSQL, Redis for the queue, cache, sessions and
    heartbeats; only the mail server and the payment provider are fakes to inspect."""
    shop = container_for_tests(
        settings_for_tests(
            database_url=clean_postgres_url,
            redis_url=private_redis.url,
            outbox_redeliver_after_seconds=REDELIVER_AFTER_SECONDS,
        )
    )
    shop.mailer.override(providers.Singleton(InMemoryMailer))
    shop.payment_gateway.override(providers.Singleton(FakePaymentGateway, shop.clock))
    await start_services(shop)
    yield shop
    await stop_services(shop)


class Shopper:
    """Places an order and pays for it, again and again, until stopped."""

    def __init__(self, shop: Container, buyer: Account, product_id: str) -> None:
        self.shop = shop
        self.buyer = buyer
        self.product_id = product_id
        self.paid: list[int] = []
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        gateway: FakePaymentGateway = self.shop.payment_gateway()
        while not self.stopping.is_set():
            await self.shop.carts().set_item(self.buyer.principal, self.product_id, 1)
            placed = await self.shop.orders().place_order(
                self.buyer.principal,
                idempotency_key=f"order-{len(self.paid)}",
                shipping_address=an_address(),
            )
            assert placed.payment.intent_id is not None
            event = gateway.succeed(placed.payment.intent_id)
            assert await self.shop.payment_events().apply_event(event) is EventResult.APPLIED
            self.paid.append(placed.order.number)
            # A steady stream (tens of orders a second), not a flood.
            await asyncio.sleep(0.02)


class Relay:
    """The outbox relay, run every 100 ms while on (in production the worker's cron
    job); the test turns it off to let a batch build up."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay
        self.on = asyncio.Event()
        self.on.set()

    async def run(self) -> None:
        while True:
            await self.on.wait()
            await self.relay.relay_all()
            await asyncio.sleep(0.1)


async def _unhandled(shop: Container) -> int:
    """Outbox messages not handled yet, whoever holds them: counted, not listed as the relay
    lists them (it skips rows another relay has locked, which would hide them here)."""
    async with shop.unit_of_work()() as uow:
        return sum(kind.unhandled for kind in await uow.outbox.status())


async def _never_enqueued(shop: Container) -> int:
    async with shop.unit_of_work()() as uow:
        return len(
            await uow.outbox.list_due(10_000, enqueued_before=datetime.min.replace(tzinfo=UTC))
        )


def _scheduled(job_key: bytes) -> bool:
    """A scheduled job's (the worker's cron: relaying, delivering local payments, ...):
    one runs every second, so only event jobs can be waited for to be gone."""
    return any(f":{job.name}:".encode() in job_key for job in _schedule("", 1))


async def _jobs_in_redis(redis: Redis, queue: Queue) -> list[object]:
    """The event jobs arq still holds: queued (with their scores) or in progress."""
    queued = await redis.zrange(queue.name, 0, -1, withscores=True)
    in_progress = await redis.keys("arq:in-progress:*")
    return [
        *(job for job in queued if not _scheduled(b":" + job[0])),
        *(key for key in in_progress if not _scheduled(key)),
    ]


async def _keys_by_kind(redis: Redis) -> dict[str, list[int]]:
    """Every key in Redis by kind (its name without ids), with each one's TTL in ms."""
    kinds: dict[str, list[int]] = {}
    for key in await redis.keys("*"):
        name = key.decode()
        kind = re.sub(r"(:[0-9a-f]{12,}|:cron:.*|:[0-9a-f-]{36}.*)$", ":<id>", name)
        ttl = await redis.pttl(name)
        if ttl != KEY_GONE:  # expired between the listing and now: bounded indeed
            kinds.setdefault(kind, []).append(ttl)
    return kinds


async def test_every_paid_order_gets_its_two_emails_once_when_redis_loses_its_queue(
    shop: Container, private_redis: PrivateRedis
) -> None:
    redis = Redis.from_url(private_redis.url)
    queue = Queue(redis, "hexmart:", private_redis.url)  # hexmart's own queue and job ids
    mailer: InMemoryMailer = shop.mailer()
    await shop.user_accounts().ensure_first_admin(email="root@example.com", password=PASSWORD)
    admin = await sign_in(shop, "root@example.com")
    mug = await shop.catalog().create_product(
        admin.principal, NewProduct("Mug", "A mug for tea", Money(1200, "USD"), 100_000, "k")
    )
    shopper = Shopper(shop, await sign_up(shop, "ann@example.com", "Ann Archer"), mug.id)
    relay = Relay(shop.outbox_relay())

    async with (
        running_worker(
            shop,
            queue,
            relay_every_seconds=30,  # the test relays, and chooses when
            heartbeat_every_seconds=0.2,
            heartbeat_ttl_seconds=2,
        ) as worker,
        _running(shopper.run()) as shopping,
        _running(relay.run()),
    ):
        await eventually(lambda: _count(mailer.sent), lambda sent: sent >= 10)

        # The fault: the relay hands Redis a batch, and Redis dies with it.
        relay.on.clear()
        await eventually(lambda: _never_enqueued(shop), lambda waiting: waiting >= BATCH)
        handed_over = (await shop.outbox_relay().relay_batch(100)).relayed
        private_redis.kill()
        lost = await _unhandled(shop) - await _never_enqueued(shop)
        private_redis.start()
        relay.on.set()
        paid_at_restart = len(shopper.paid)

        # Orders keep coming, and go through the new Redis.
        await eventually(lambda: _count(shopper.paid), lambda n: n >= paid_at_restart + 20)
        shopper.stopping.set()
        await asyncio.wait_for(shopping, 10)  # the order in hand is paid
        await eventually(lambda: _unhandled(shop), lambda waiting: waiting == 0)
        await eventually(lambda: _jobs_in_redis(redis, queue), lambda jobs: jobs == [])
        [heartbeat] = await shop.workers().alive()

    subjects = Counter(email.subject for email in mailer.sent_to("ann@example.com"))
    confirmations = {n: subjects[f"Order #{n} received"] for n in shopper.paid}
    payments = {n: subjects[f"Payment received for order #{n}"] for n in shopper.paid}
    keys = await _keys_by_kind(redis)
    log.info(
        "%d orders paid, %d events lost with Redis and handled after redelivery; "
        "Redis keys after the jobs, by kind: %s",
        len(shopper.paid),
        lost,
        {kind: len(ttls) for kind, ttls in keys.items()},
    )
    # arq's queue itself (a sorted set of job ids) has no expiry: it is bounded by the jobs
    # it holds, by now only scheduled ones (one a second), whose job keys expire.
    still_queued = await redis.zrange(queue.name, 0, -1)
    await redis.aclose()
    assert all(_scheduled(b":" + job) for job in still_queued), still_queued
    keys.pop(queue.name, None)

    assert handed_over >= BATCH
    assert worker.stop_reason == "SIGTERM"  # it rode out the restart; only the test stopped it
    assert lost > 0, "Redis was killed after the worker had taken the whole batch"
    assert {n: sent for n, sent in confirmations.items() if sent != 1} == {}
    assert {n: sent for n, sent in payments.items() if sent != 1} == {}
    assert sum(subjects.values()) == 2 * len(shopper.paid) + 1  # + Ann's welcome
    assert (heartbeat.pid, heartbeat.host) == (os.getpid(), os.uname().nodename)
    assert heartbeat.jobs_done > 0
    assert await shop.workers().alive() == []  # withdrawn as the worker stopped
    # Nothing hexmart or arq left in Redis lives for ever; job results only seconds.
    assert all(ttl > 0 for ttls in keys.values() for ttl in ttls), keys
    results = keys.get("arq:result:hexmart:<id>", [])
    assert all(ttl <= RESULT_KEPT / timedelta(milliseconds=1) for ttl in results), keys


async def _count(items: Sequence[object]) -> int:
    return len(items)


@contextlib.asynccontextmanager
async def _running(work: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(work)
    try:
        yield task
    finally:
        if task.done():
            task.result()  # a shopper or relay that crashed fails the test
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
