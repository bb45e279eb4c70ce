"""PaymentRepository contract: one payment per order, with its refunds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.ports.persistence import DuplicateRecord, UnitOfWorkFactory
from domain.money import Money
from domain.orders import Order
from domain.payments import Payment, PaymentOutcome, PaymentStatus, Refund
from tests.contract.persistence.persistence_builders import (
    a_payment,
    a_product,
    a_user,
    an_order,
    at,
    snapshot,
    store,
)
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


async def placed_orders(uow: UnitOfWorkFactory, count: int) -> list[Order]:
    user, mug = a_user(1), a_product(1, price=2500)
    orders = [an_order(user, [(mug, 2)], number=n, created_at=at(n)) for n in range(1, count + 1)]
    await store(uow, user, mug, *orders)
    return orders


def a_refund(n: int, amount: int) -> Refund:
    return Refund(
        id=f"refund-{n}",
        amount=Money(amount, "USD"),
        reason=None if n % 2 else f"reason {n}",
        provider_refund_id=f"re_{n}",
        created_at=at(50 + n),
    )


class PaymentRepositoryContract:
    async def test_a_payment_round_trips_by_order_and_intent(self, uow: UnitOfWorkFactory) -> None:
        (order,) = await placed_orders(uow, 1)
        payment = a_payment(order)
        await store(uow, payment)
        async with uow() as tx:
            found = [
                await tx.payments.get_for_order(order.id),
                await tx.payments.get_for_order(order.id, for_update=True),
                await tx.payments.get_by_intent(f"pi_{order.id}"),
                await tx.payments.get_by_intent(f"pi_{order.id}", for_update=True),
            ]
            assert await tx.payments.get_for_order("nope") is None
            assert await tx.payments.get_by_intent("pi_nope") is None
        for each in found:
            assert each is not None
            assert snapshot(each) == snapshot(payment)

    async def test_a_payment_without_an_intent_round_trips(self, uow: UnitOfWorkFactory) -> None:
        (order,) = await placed_orders(uow, 1)
        payment = a_payment(order, intent=False)
        await store(uow, payment)
        async with uow() as tx:
            found = await tx.payments.get_for_order(order.id)
        assert found is not None
        assert found.intent_id is None
        assert found.client_secret is None
        assert snapshot(found) == snapshot(payment)

    async def test_an_order_has_one_payment(self, uow: UnitOfWorkFactory) -> None:
        (order,) = await placed_orders(uow, 1)
        await store(uow, a_payment(order))
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.payments.add(a_payment(order, payment_id="another", intent=False))

    async def test_a_payment_id_or_intent_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        first, second, third = await placed_orders(uow, 3)
        payment = a_payment(first)
        await store(uow, payment)
        same_id = a_payment(second, payment_id=payment.id, intent=False)
        same_intent = a_payment(third, intent=False)
        same_intent.attach_intent(f"pi_{first.id}", "another secret", at(5))
        async with uow() as tx:
            for again in (same_id, same_intent):
                with pytest.raises(DuplicateRecord):
                    await tx.payments.add(again)
            await tx.commit()
        async with uow() as tx:
            assert await tx.payments.get_for_order(second.id) is None
            assert await tx.payments.get_for_order(third.id) is None
            found = await tx.payments.get_by_intent(f"pi_{first.id}")
        assert found is not None
        assert snapshot(found) == snapshot(payment)

    async def test_outcomes_and_refunds_round_trip(self, uow: UnitOfWorkFactory) -> None:
        (order,) = await placed_orders(uow, 1)
        await store(uow, a_payment(order))
        changes: list[Callable[[Payment], object]] = [
            lambda p: p.apply_outcome(PaymentOutcome.SUCCEEDED, at(10)),
            lambda p: p.add_refund(a_refund(1, 1000), at(11)),
            lambda p: p.add_refund(a_refund(2, 4000), at(12)),
        ]
        found: Payment | None = None
        for change in changes:
            async with uow() as tx:
                payment = await tx.payments.get_for_order(order.id, for_update=True)
                assert payment is not None
                change(payment)
                await tx.payments.save(payment)
                await tx.commit()
            async with uow() as tx:
                found = await tx.payments.get_for_order(order.id)
            assert found is not None
            assert snapshot(found) == snapshot(payment)
        assert found is not None
        assert found.status is PaymentStatus.REFUNDED
        assert [r.id for r in found.refunds] == ["refund-1", "refund-2"]

    async def test_pending_payments_created_before_a_cutoff_oldest_first(
        self, uow: UnitOfWorkFactory
    ) -> None:
        orders = await placed_orders(uow, 5)
        payments = [a_payment(order) for order in orders]
        payments[1].apply_outcome(PaymentOutcome.SUCCEEDED, at(30))
        await store(uow, *reversed(payments))
        async with uow() as tx:
            due = await tx.payments.list_pending_created_before(at(4), limit=10)
            first = await tx.payments.list_pending_created_before(at(100), limit=1)
        assert [p.id for p in due] == [payments[0].id, payments[2].id]
        assert [snapshot(p) for p in first] == [snapshot(payments[0])]


class TestPaymentsInMemory(InMemoryStore, PaymentRepositoryContract):
    pass


class TestPaymentsSqlite(SqliteStore, PaymentRepositoryContract):
    pass


class TestPaymentsPostgres(PostgresStore, PaymentRepositoryContract):
    pass
