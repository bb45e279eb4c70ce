"""Outbox, idempotency-record and processed-event contracts."""

from __future__ import annotations

import dataclasses

import pytest

from application.ports.persistence import (
    DuplicateRecord,
    OutboxKindStatus,
    UnitOfWorkFactory,
    outbox_message,
)
from domain.events import OrderShipped, event_from_record
from tests.contract.persistence.persistence_builders import a_message, a_record, at
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


class OutboxRepositoryContract:
    async def test_messages_wait_oldest_first_until_enqueued(self, uow: UnitOfWorkFactory) -> None:
        messages = [a_message(n, seconds=n // 2) for n in range(1, 6)]
        async with uow() as tx:
            for message in reversed(messages):
                await tx.outbox.add(message)
            await tx.commit()
        async with uow() as tx:
            unsent = await tx.outbox.list_unsent(limit=10)
            assert unsent == sorted(messages, key=lambda m: (m.created_at, m.id))
            assert await tx.outbox.list_unsent(limit=2) == unsent[:2]
            assert await tx.outbox.list_due(10, enqueued_before=at(0)) == unsent
            await tx.outbox.mark_enqueued([unsent[0].id, unsent[2].id], at(60))
            await tx.commit()
        async with uow() as tx:
            left = await tx.outbox.list_unsent(limit=10)
            due = await tx.outbox.list_due(10, enqueued_before=at(60))
        assert [m.id for m in left] == [unsent[1].id, unsent[3].id, unsent[4].id]
        assert due == left

    async def test_a_message_id_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        first = a_message(1)
        async with uow() as tx:
            await tx.outbox.add(first)
            await tx.commit()
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.outbox.add(dataclasses.replace(a_message(2), id=first.id))
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.list_unsent(limit=10) == [first]

    async def test_an_enqueued_message_is_due_again_after_the_cutoff_until_handled(
        self, uow: UnitOfWorkFactory
    ) -> None:
        async with uow() as tx:
            await tx.outbox.add(a_message(1))
            await tx.outbox.add(a_message(2))
            await tx.outbox.mark_enqueued(["msg-001", "msg-002"], at(10))
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.list_due(10, enqueued_before=at(10)) == []
            due = await tx.outbox.list_due(10, enqueued_before=at(11))
            assert [(m.id, m.attempts) for m in due] == [("msg-001", 1), ("msg-002", 1)]
            await tx.outbox.mark_enqueued(["msg-001"], at(20))
            await tx.outbox.mark_handled("msg-002", at(30))
            await tx.commit()
        async with uow() as tx:
            due = await tx.outbox.list_due(10, enqueued_before=at(21))
            assert [(m.id, m.attempts) for m in due] == [("msg-001", 2)]
            assert await tx.outbox.is_handled("msg-002")
            assert not await tx.outbox.is_handled("msg-001")
            assert not await tx.outbox.is_handled("msg-999")

    async def test_the_backlog_is_the_oldest_unhandled_message(
        self, uow: UnitOfWorkFactory
    ) -> None:
        async with uow() as tx:
            assert await tx.outbox.oldest_unhandled() is None
            for n in range(1, 4):
                await tx.outbox.add(a_message(n, seconds=n))
            await tx.outbox.mark_enqueued(["msg-001", "msg-002"], at(5))
            await tx.outbox.mark_handled("msg-001", at(6))
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.oldest_unhandled() == at(2)
            await tx.outbox.mark_handled("msg-002", at(7))
            await tx.outbox.mark_handled("msg-003", at(7))
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.oldest_unhandled() is None

    async def test_status_counts_the_unhandled_messages_of_each_kind(
        self, uow: UnitOfWorkFactory
    ) -> None:
        messages = [
            a_message(1, seconds=5),
            dataclasses.replace(a_message(2, seconds=3), name="payment_failed"),
            a_message(3, seconds=1),
            a_message(4, seconds=0),
        ]
        async with uow() as tx:
            assert await tx.outbox.status() == []
            for message in messages:
                await tx.outbox.add(message)
            await tx.commit()
        async with uow() as tx:
            await tx.outbox.mark_enqueued(["msg-001", "msg-001", "msg-003"], at(10))
            await tx.outbox.mark_enqueued(["msg-001"], at(11))
            await tx.outbox.mark_handled("msg-004", at(12))
            await tx.commit()
        async with uow() as tx:
            status = await tx.outbox.status()
        assert status == [
            OutboxKindStatus("order_shipped", 2, at(1), 2),
            OutboxKindStatus("payment_failed", 1, at(3), 0),
        ]

    async def test_a_message_is_read_with_its_delivery_marks_and_can_be_redelivered(
        self, uow: UnitOfWorkFactory
    ) -> None:
        message = a_message(1)
        async with uow() as tx:
            await tx.outbox.add(message)
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.get("msg-001") == (message, None, None)
            assert await tx.outbox.get("msg-999") is None
            await tx.outbox.mark_enqueued(["msg-001"], at(10))
            await tx.outbox.mark_handled("msg-001", at(11))
            await tx.commit()
        async with uow() as tx:
            tried = dataclasses.replace(message, attempts=1)
            assert await tx.outbox.get("msg-001") == (tried, at(10), at(11))
            assert await tx.outbox.mark_unhandled("msg-001") is True
            assert await tx.outbox.mark_unhandled("msg-999") is False
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.get("msg-001") == (tried, None, None)
            assert await tx.outbox.list_unsent(limit=10) == [tried]
            assert not await tx.outbox.is_handled("msg-001")

    async def test_a_message_payload_rebuilds_its_event(self, uow: UnitOfWorkFactory) -> None:
        event = OrderShipped(order_id="o-1", order_number=1001, user_id="u-1", tracking_number=None)
        async with uow() as tx:
            await tx.outbox.add(outbox_message(event, "msg-1", at(1)))
            await tx.commit()
        async with uow() as tx:
            (message,) = await tx.outbox.list_unsent(limit=1)
        assert message.attempts == 0
        assert event_from_record(message.name, message.payload) == event

    async def test_purging_removes_only_messages_handled_before_the_cutoff(
        self, uow: UnitOfWorkFactory
    ) -> None:
        async with uow() as tx:
            for n in range(1, 5):
                await tx.outbox.add(a_message(n))
            await tx.outbox.mark_enqueued(["msg-001", "msg-002", "msg-003"], at(5))
            await tx.outbox.mark_handled("msg-001", at(10))
            await tx.outbox.mark_handled("msg-002", at(20))
            # Handled once: a later run of its job does not move the date.
            await tx.outbox.mark_handled("msg-001", at(30))
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.purge_handled_before(at(15)) == 1
            await tx.commit()
        async with uow() as tx:
            assert await tx.outbox.purge_handled_before(at(15)) == 0
            assert await tx.outbox.purge_handled_before(at(99)) == 1
            await tx.commit()
        async with uow() as tx:
            due = await tx.outbox.list_due(10, enqueued_before=at(99))
        # Enqueued or not, a message not handled is never purged, however old.
        assert [m.id for m in due] == ["msg-003", "msg-004"]


class IdempotencyRepositoryContract:
    async def test_a_record_round_trips(self, uow: UnitOfWorkFactory) -> None:
        record = a_record("key-1", seconds=3)
        async with uow() as tx:
            assert await tx.idempotency.get("user-0001", "key-1") is None
            await tx.idempotency.add(record)
            await tx.commit()
        async with uow() as tx:
            assert await tx.idempotency.get("user-0001", "key-1") == record
            assert await tx.idempotency.get("user-0002", "key-1") is None

    async def test_a_key_is_used_once_per_user(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            await tx.idempotency.add(a_record("key-1"))
            await tx.commit()
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.idempotency.add(a_record("key-1"))
            await tx.idempotency.add(a_record("key-1", user_id="user-0002"))
            await tx.commit()
        async with uow() as tx:
            assert await tx.idempotency.get("user-0002", "key-1") is not None

    async def test_purging_removes_records_older_than_the_cutoff(
        self, uow: UnitOfWorkFactory
    ) -> None:
        async with uow() as tx:
            for n in range(4):
                await tx.idempotency.add(a_record(f"key-{n}", seconds=n * 10))
            await tx.commit()
        async with uow() as tx:
            assert await tx.idempotency.purge_before(at(15)) == 2
            await tx.commit()
        async with uow() as tx:
            assert await tx.idempotency.get("user-0001", "key-1") is None
            assert await tx.idempotency.get("user-0001", "key-2") is not None
            await tx.idempotency.add(a_record("key-1", seconds=99))
            await tx.commit()


class ProcessedEventRepositoryContract:
    async def test_an_event_is_recorded_once(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            assert await tx.processed_events.add("stripe", "evt_1", at(1))
            assert not await tx.processed_events.add("stripe", "evt_1", at(2))
            await tx.commit()
        async with uow() as tx:
            assert not await tx.processed_events.add("stripe", "evt_1", at(3))
            assert await tx.processed_events.add("local", "evt_1", at(3))
            assert await tx.processed_events.add("stripe", "evt_2", at(3))

    async def test_an_uncommitted_event_was_not_processed(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            assert await tx.processed_events.add("stripe", "evt_1", at(1))
        async with uow() as tx:
            assert await tx.processed_events.add("stripe", "evt_1", at(1))

    async def test_purging_forgets_old_events(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            for n in range(4):
                await tx.processed_events.add("stripe", f"evt_{n}", at(n * 10))
            await tx.commit()
        async with uow() as tx:
            assert await tx.processed_events.purge_before(at(25)) == 3
            await tx.commit()
        async with uow() as tx:
            assert await tx.processed_events.add("stripe", "evt_0", at(40))
            assert not await tx.processed_events.add("stripe", "evt_3", at(40))


class TestOutboxInMemory(InMemoryStore, OutboxRepositoryContract):
    pass


class TestOutboxSqlite(SqliteStore, OutboxRepositoryContract):
    pass


class TestOutboxPostgres(PostgresStore, OutboxRepositoryContract):
    pass


class TestIdempotencyInMemory(InMemoryStore, IdempotencyRepositoryContract):
    pass


class TestIdempotencySqlite(SqliteStore, IdempotencyRepositoryContract):
    pass


class TestIdempotencyPostgres(PostgresStore, IdempotencyRepositoryContract):
    pass


class TestProcessedEventsInMemory(InMemoryStore, ProcessedEventRepositoryContract):
    pass


class TestProcessedEventsSqlite(SqliteStore, ProcessedEventRepositoryContract):
    pass


class TestProcessedEventsPostgres(PostgresStore, ProcessedEventRepositoryContract):
    pass
