"""OrderRepository contract: numbers, round trips, listings newest first, expiry queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.pagination import encode_cursor
from application.ports.persistence import (
    DuplicateRecord,
    OrderQuery,
    PageRequest,
    UnitOfWorkFactory,
)
from domain.errors import InvalidValue
from domain.money import Money
from domain.orders import Order, OrderLine, OrderStatus
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import (
    a_product,
    a_user,
    an_address,
    an_order,
    at,
    snapshot,
    store,
)
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


class OrderRepositoryContract:
    async def test_order_numbers_are_unique_and_increasing(self, uow: UnitOfWorkFactory) -> None:
        numbers = []
        for _ in range(3):
            async with uow() as tx:
                numbers.append(await tx.orders.next_number())
                numbers.append(await tx.orders.next_number())
                await tx.commit()
        assert numbers == sorted(set(numbers))
        assert len(numbers) == 6

    async def test_an_order_round_trips_with_lines_address_and_amounts(
        self, uow: UnitOfWorkFactory
    ) -> None:
        user = a_user(1)
        mug, lamp = a_product(1, name="Mug", price=1250), a_product(2, name="Lamp", price=4999)
        order = an_order(user, [(lamp, 1), (mug, 3)], number=1001)
        await store(uow, user, mug, lamp, order)
        async with uow() as tx:
            found = await tx.orders.get(order.id)
            locked = await tx.orders.get(order.id, for_update=True)
            assert await tx.orders.get("nope") is None
        assert found is not None
        assert locked is not None
        assert snapshot(found) == snapshot(order)
        assert snapshot(locked) == snapshot(order)
        assert found.lines == (
            OrderLine("prod-0002", "Lamp", Money(4999, "USD"), Quantity(1)),
            OrderLine("prod-0001", "Mug", Money(1250, "USD"), Quantity(3)),
        )
        assert found.total_amount == Money(8749, "USD")
        assert found.shipping_address == an_address()

    async def test_lines_keep_the_name_and_price_they_were_sold_at(
        self, uow: UnitOfWorkFactory
    ) -> None:
        user, mug = a_user(1), a_product(1, name="Mug", price=1250)
        order = an_order(user, [(mug, 1)], number=1001)
        await store(uow, user, mug, order)
        async with uow() as tx:
            product = await tx.products.get(mug.id)
            assert product is not None
            product.change_details(at(9), name="Big Mug", price=Money(9999, "USD"))
            await tx.products.save(product)
            await tx.commit()
        async with uow() as tx:
            found = await tx.orders.get(order.id)
        assert found is not None
        assert found.lines[0].name == "Mug"
        assert found.lines[0].unit_price == Money(1250, "USD")

    async def test_an_order_id_or_number_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        user, mug = a_user(1), a_product(1)
        order = an_order(user, [(mug, 1)], number=1001)
        await store(uow, user, mug, order)
        same_id = an_order(user, [(mug, 2)], number=1002, order_id=order.id)
        same_number = an_order(user, [(mug, 3)], number=1001, order_id="order-other")
        async with uow() as tx:
            for again in (same_id, same_number):
                with pytest.raises(DuplicateRecord):
                    await tx.orders.add(again)
            await tx.commit()
        async with uow() as tx:
            found = await tx.orders.get(order.id)
            assert await tx.orders.get("order-other") is None
            assert await tx.orders.get_id_by_number(1001) == order.id
            assert await tx.orders.get_id_by_number(1002) is None
        assert found is not None
        assert snapshot(found) == snapshot(order)

    async def test_the_life_of_an_order_round_trips(self, uow: UnitOfWorkFactory) -> None:
        user, mug = a_user(1), a_product(1, price=1000)
        order = an_order(user, [(mug, 2)], number=1001)
        await store(uow, user, mug, order)
        steps: list[Callable[[Order], object]] = [
            lambda o: o.mark_paid(Money(2000, "USD"), at(10)),
            lambda o: o.ship("TRACK-123", at(11)),
            lambda o: o.record_refund("refund-1", Money(500, "USD"), at(12)),
            lambda o: o.deliver(at(13)),
        ]
        expected: Order | None = None
        found: Order | None = None
        for step in steps:
            async with uow() as tx:
                current = await tx.orders.get(order.id, for_update=True)
                assert current is not None
                step(current)
                await tx.orders.save(current)
                await tx.commit()
                expected = current
            async with uow() as tx:
                found = await tx.orders.get(order.id)
            assert found is not None
            assert expected is not None
            assert snapshot(found) == snapshot(expected)
        assert found is not None
        assert found.status is OrderStatus.DELIVERED
        assert found.refunded_amount == Money(500, "USD")
        assert found.tracking_number == "TRACK-123"

    async def test_orders_list_newest_first_with_filters(self, uow: UnitOfWorkFactory) -> None:
        ada, bob, mug = a_user(1), a_user(2), a_product(1)
        orders = [
            an_order(ada if n % 2 else bob, [(mug, 1)], number=n, created_at=at(n // 2))
            for n in range(1, 10)
        ]
        orders[0].cancel("changed my mind", at(30))
        await store(uow, ada, bob, mug, *orders)

        async def walk(query: OrderQuery) -> list[str]:
            ids: list[str] = []
            cursor = None
            async with uow() as tx:
                while True:
                    page = await tx.orders.list_page(
                        OrderQuery(query.user_id, query.status, PageRequest(2, cursor))
                    )
                    assert len(page.items) <= 2
                    ids.extend(o.id for o in page.items)
                    if page.next_cursor is None:
                        return ids
                    cursor = page.next_cursor

        def newest_first(selected: list[Order]) -> list[str]:
            return [
                o.id for o in sorted(selected, key=lambda o: (o.created_at, o.id), reverse=True)
            ]

        assert await walk(OrderQuery()) == newest_first(orders)
        assert await walk(OrderQuery(user_id=ada.id)) == newest_first(orders[0::2])
        assert await walk(OrderQuery(status=OrderStatus.CANCELLED)) == [orders[0].id]
        assert await walk(OrderQuery(user_id=bob.id, status=OrderStatus.PENDING)) == newest_first(
            orders[1::2]
        )
        async with uow() as tx:
            page = await tx.orders.list_page(OrderQuery(page=PageRequest(limit=3)))
        assert [len(o.lines) for o in page.items] == [1, 1, 1]

    async def test_a_bad_order_cursor_is_invalid(self, uow: UnitOfWorkFactory) -> None:
        user, mug = a_user(1), a_product(1)
        await store(uow, user, mug, an_order(user, [(mug, 1)], number=1))
        async with uow() as tx:
            with pytest.raises(InvalidValue):
                await tx.orders.list_page(OrderQuery(page=PageRequest(cursor="garbage!")))
            with pytest.raises(InvalidValue):
                await tx.orders.list_page(
                    OrderQuery(page=PageRequest(cursor=encode_cursor(42, "order-000001")))
                )

    async def test_pending_orders_placed_before_a_cutoff_oldest_first(
        self, uow: UnitOfWorkFactory
    ) -> None:
        user, mug = a_user(1), a_product(1, price=100)
        orders = [an_order(user, [(mug, 1)], number=n, created_at=at(n)) for n in range(1, 7)]
        orders[1].mark_paid(Money(100, "USD"), at(20))
        orders[2].cancel("expired", at(20))
        await store(uow, user, mug, *reversed(orders))
        async with uow() as tx:
            due = await tx.orders.list_pending_placed_before(at(5), limit=10)
            first_two = await tx.orders.list_pending_placed_before(at(100), limit=2)
            assert await tx.orders.list_pending_placed_before(at(1), limit=10) == []
        assert due == [orders[0].id, orders[3].id]
        assert first_two == [orders[0].id, orders[3].id]


class TestOrdersInMemory(InMemoryStore, OrderRepositoryContract):
    pass


class TestOrdersSqlite(SqliteStore, OrderRepositoryContract):
    pass


class TestOrdersPostgres(PostgresStore, OrderRepositoryContract):
    pass
