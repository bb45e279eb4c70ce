"""Races on real databases, at the repository level: stock is never oversold, opposite
lock orders do not hang, and a row locked for update is changed by one transaction at a
time. PostgreSQL runs them truly in parallel; SQLite queues the writers."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.ports.persistence import ConcurrencyConflict, UnitOfWork, UnitOfWorkFactory
from application.transactions import in_transaction
from domain.orders import OrderStatus
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import (
    a_message,
    a_product,
    a_user,
    an_order,
    at,
    store,
)
from tests.polling import eventually
from tests.sql_fixtures import sql_units_of_work

BUYERS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    chosen: AsyncEngine = request.getfixturevalue(
        "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    )
    return chosen


async def stock(uow: UnitOfWorkFactory, product_id: str) -> int:
    async with uow() as tx:
        product = await tx.products.get(product_id)
    assert product is not None
    return product.inventory_count


async def test_fifty_buyers_of_five_units_exactly_five_succeed(engine: AsyncEngine) -> None:
    uow = sql_units_of_work(engine)
    await store(uow, a_product(1, inventory=5))
    start = asyncio.Event()

    async def buy() -> bool:
        await start.wait()

        async def reserve(tx: UnitOfWork) -> bool:
            return "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(1)})

        return await in_transaction(uow, reserve)

    buyers = [asyncio.create_task(buy()) for _ in range(BUYERS)]
    start.set()
    outcomes = await asyncio.gather(*buyers)
    assert outcomes.count(True) == 5
    assert await stock(uow, "prod-0001") == 0


async def test_opposite_lock_orders_finish_quickly(postgres_engine: AsyncEngine) -> None:
    """Two buyers each take the last unit of two products, in opposite orders. PostgreSQL
    finds the deadlock, one buyer gets ConcurrencyConflict and runs again: it finds the
    stock gone and gives up. Nobody waits for long, nothing is sold twice."""
    uow = sql_units_of_work(postgres_engine)
    await store(uow, a_product(1, inventory=1), a_product(2, inventory=1))
    first_reserved = {"prod-0001": asyncio.Event(), "prod-0002": asyncio.Event()}
    conflicts: list[str] = []

    async def buy(first: str, second: str) -> bool:
        async def take_both(tx: UnitOfWork) -> bool:
            if first not in await tx.products.reserve_lines({first: Quantity(1)}):
                return False
            first_reserved[first].set()
            await first_reserved[second].wait()  # both hold one lock: now cross over
            if second not in await tx.products.reserve_lines({second: Quantity(1)}):
                await tx.rollback()
                return False
            return True

        async def counted(tx: UnitOfWork) -> bool:
            try:
                return await take_both(tx)
            except ConcurrencyConflict:
                conflicts.append(first)
                raise

        return await in_transaction(uow, counted)

    began = time.monotonic()
    outcomes = await asyncio.wait_for(
        asyncio.gather(buy("prod-0001", "prod-0002"), buy("prod-0002", "prod-0001")),
        timeout=15,
    )
    assert time.monotonic() - began < 10
    assert sorted(outcomes) == [False, True]
    assert len(conflicts) == 1
    assert await stock(uow, "prod-0001") == 0
    assert await stock(uow, "prod-0002") == 0


async def test_a_row_locked_for_update_is_changed_once(postgres_engine: AsyncEngine) -> None:
    """Two transactions race to cancel the same order and give its stock back. The
    second waits for the first's lock, then sees the order already cancelled."""
    uow = sql_units_of_work(postgres_engine)
    user, mug = a_user(1), a_product(1, inventory=3)
    order = an_order(user, [(mug, 2)], number=1001)
    await store(uow, user, mug, order)
    first_has_lock = asyncio.Event()
    let_first_finish = asyncio.Event()

    async def cancel(hold: bool) -> bool:
        async with uow() as tx:
            current = await tx.orders.get(order.id, for_update=True)
            assert current is not None
            if hold:
                first_has_lock.set()
                await let_first_finish.wait()
            if current.status is not OrderStatus.PENDING:
                return False
            current.cancel("race", at(50))
            for line in current.lines:
                await tx.products.release_stock(line.product_id, line.quantity)
            await tx.orders.save(current)
            await tx.commit()
            return True

    first = asyncio.create_task(cancel(hold=True))
    await first_has_lock.wait()
    second = asyncio.create_task(cancel(hold=False))
    await eventually(lambda: waiting_on_a_lock(postgres_engine), interval=0.01)
    let_first_finish.set()
    assert sorted(await asyncio.gather(first, second)) == [False, True]
    assert await stock(uow, mug.id) == 5


async def waiting_on_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return bool(waiting.scalar_one())


async def test_two_relays_never_hand_out_the_same_message(postgres_engine: AsyncEngine) -> None:
    uow = sql_units_of_work(postgres_engine)
    async with uow() as tx:
        for n in range(6):
            await tx.outbox.add(a_message(n))
        await tx.commit()
    async with uow() as first, uow() as second:
        taken_first = await first.outbox.list_due(4, enqueued_before=a_message(0).created_at)
        taken_second = await second.outbox.list_due(4, enqueued_before=a_message(0).created_at)
    assert [m.id for m in taken_first] == ["msg-000", "msg-001", "msg-002", "msg-003"]
    assert [m.id for m in taken_second] == ["msg-004", "msg-005"]
