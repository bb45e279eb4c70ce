"""UnitOfWork contract, events: the commit writes the new events of every aggregate the
repositories handed out or took in to the outbox, in the same transaction, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.ports.persistence import (
    OrderQuery,
    OutboxMessage,
    PageRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.events import PasswordResetRequested
from domain.orders import Order
from domain.payments import PaymentOutcome
from tests.contract.persistence.persistence_builders import (
    a_payment,
    a_product,
    a_user,
    an_order,
    at,
    store,
)
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore

USER = a_user(1)
PRODUCT = a_product(1)


async def outbox(uow: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow() as tx:
        return await tx.outbox.list_unsent(100)


async def kinds(uow: UnitOfWorkFactory) -> list[tuple[str, str]]:
    """(event name, order id) of every message, in the order the relay hands them on."""
    return [(m.name, m.payload["order_id"]) for m in await outbox(uow)]


async def placed(uow: UnitOfWorkFactory, number: int = 1) -> Order:
    """An order stored (its OrderPlaced written), with its payment."""
    order = an_order(USER, [(PRODUCT, 1)], number=number)
    await store(uow, order, a_payment(order))
    return order


async def locked(tx: UnitOfWork, order_id: str) -> Order:
    order = await tx.orders.get(order_id, for_update=True)
    assert order is not None
    return order


class UnitOfWorkEventsContract:
    async def test_an_added_aggregates_events_reach_the_outbox_on_commit(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = an_order(USER, [(PRODUCT, 2)], number=7)
        before = datetime.now(UTC)
        async with uow() as tx:
            await tx.orders.add(order)
            assert await tx.outbox.list_unsent(100) == []  # not before the commit
            await tx.commit()
        [message] = await outbox(uow)
        assert message.name == "order_placed"
        assert message.payload == {
            "order_id": order.id,
            "order_number": 7,
            "user_id": USER.id,
            "total_amount": order.total_amount.amount,
            "currency": order.currency,
        }
        assert before - timedelta(seconds=1) <= message.created_at <= datetime.now(UTC)
        assert order.pending_events == ()  # taken off the aggregate once durable

    async def test_a_fetched_aggregates_new_events_reach_the_outbox_on_commit(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            fetched.mark_paid(fetched.total_amount, at(100))
            await tx.orders.save(fetched)
            fetched.ship("T-1", at(101))
            await tx.orders.save(fetched)
            await tx.commit()
        assert await kinds(uow) == [
            ("order_placed", order.id),
            ("order_paid", order.id),
            ("order_shipped", order.id),
        ]

    async def test_leaving_without_commit_writes_no_event(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            fetched.cancel("changed my mind", at(100))
            await tx.orders.save(fetched)
            await tx.orders.add(an_order(USER, [(PRODUCT, 1)], number=2))
        assert await kinds(uow) == [("order_placed", order.id)]

    async def test_rollback_drops_the_events_of_what_it_rolled_back(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            fetched.cancel("changed my mind", at(100))
            await tx.orders.save(fetched)
            await tx.rollback()
            second = an_order(USER, [(PRODUCT, 1)], number=2)
            await tx.orders.add(second)
            await tx.commit()
        assert await kinds(uow) == [("order_placed", order.id), ("order_placed", second.id)]

    async def test_an_aggregate_fetched_twice_has_its_events_written_once(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            fetched.mark_paid(fetched.total_amount, at(100))
            await tx.orders.save(fetched)
            await tx.orders.save(fetched)
            again = await locked(tx, order.id)
            assert again is not fetched
            assert again.pending_events == ()
            await tx.orders.list_page(OrderQuery())
            await tx.commit()
        assert await kinds(uow) == [("order_placed", order.id), ("order_paid", order.id)]

    async def test_committing_twice_writes_each_event_once(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            fetched.mark_paid(fetched.total_amount, at(100))
            await tx.orders.save(fetched)
            await tx.commit()
            await tx.commit()
            fetched.ship(None, at(101))
            await tx.orders.save(fetched)
            await tx.commit()
        assert await kinds(uow) == [
            ("order_placed", order.id),
            ("order_paid", order.id),
            ("order_shipped", order.id),
        ]

    async def test_an_aggregate_keeps_its_events_until_a_commit_writes_them(
        self, uow: UnitOfWorkFactory
    ) -> None:
        """What a retried transaction relies on: work that ran in a unit of work that did
        not commit, run again with the same aggregate, writes its events then."""
        await store(uow, USER, PRODUCT)
        order = an_order(USER, [(PRODUCT, 1)], number=3)
        async with uow() as tx:
            await tx.orders.add(order)
        async with uow() as tx:
            await tx.orders.add(order)
            await tx.commit()
        assert await kinds(uow) == [("order_placed", order.id)]

    async def test_a_payment_moved_to_failed_writes_payment_failed(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            payment = await tx.payments.get_for_order(order.id, for_update=True)
            assert payment is not None
            assert payment.apply_outcome(PaymentOutcome.FAILED, at(100))
            await tx.payments.save(payment)
            await tx.commit()
        [_, failed] = await outbox(uow)
        assert (failed.name, failed.payload) == (
            "payment_failed",
            {"order_id": order.id, "payment_id": payment.id, "user_id": USER.id},
        )

    async def test_events_recorded_on_the_unit_of_work_are_written_in_turn(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        reset = PasswordResetRequested(
            user_id=USER.id, expires_at=at(3600).isoformat(), password_fingerprint="f"
        )
        async with uow() as tx:
            fetched = await locked(tx, order.id)
            tx.record(reset)
            fetched.cancel("changed my mind", at(100))
            await tx.orders.save(fetched)
            await tx.commit()
        async with uow() as tx:
            tx.record(reset)  # not committed: not written
        messages = await outbox(uow)
        assert [m.name for m in messages] == [
            "order_placed",
            "order_cancelled",  # the order was handed out first
            "password_reset_requested",
        ]
        assert messages[2].payload == {
            "user_id": USER.id,
            "expires_at": at(3600).isoformat(),
            "password_fingerprint": "f",
        }

    async def test_users_and_payments_listed_are_tracked_too(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, USER, PRODUCT)
        order = await placed(uow)
        async with uow() as tx:
            [payment] = await tx.payments.list_pending_created_before(at(10_000), 10)
            payment.apply_outcome(PaymentOutcome.FAILED, at(100))
            await tx.payments.save(payment)
            page = await tx.users.list_page(PageRequest())
            assert [user.id for user in page.items] == [USER.id]
            await tx.commit()
        assert await kinds(uow) == [("order_placed", order.id), ("payment_failed", order.id)]


class TestUnitOfWorkEventsInMemory(InMemoryStore, UnitOfWorkEventsContract):
    pass


class TestUnitOfWorkEventsSqlite(SqliteStore, UnitOfWorkEventsContract):
    pass


class TestUnitOfWorkEventsPostgres(PostgresStore, UnitOfWorkEventsContract):
    pass
