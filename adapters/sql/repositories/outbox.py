"""The outbox: domain events written in the transaction that raised them, relayed later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update

from adapters.sql.tables import outbox
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord, OutboxKindStatus, OutboxMessage


class SqlOutboxRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, message: OutboxMessage) -> None:
        if not await self._tx.insert_new(
            outbox,
            dict(
                id=message.id,
                name=message.name,
                payload=message.payload,
                created_at=message.created_at,
                attempts=message.attempts,
                enqueued_at=None,
                handled_at=None,
                context=message.context,
            ),
        ):
            raise DuplicateRecord("outbox.id")

    async def get(
        self, message_id: str
    ) -> tuple[OutboxMessage, datetime | None, datetime | None] | None:
        row = (await self._tx.execute(select(outbox).where(outbox.c.id == message_id))).first()
        if row is None:
            return None
        message = OutboxMessage(
            id=row.id,
            name=row.name,
            payload=row.payload,
            created_at=row.created_at,
            attempts=row.attempts,
            context=row.context,
        )
        return message, row.enqueued_at, row.handled_at

    async def status(self) -> list[OutboxKindStatus]:
        query = (
            select(
                outbox.c.name,
                func.count().label("unhandled"),
                func.min(outbox.c.created_at).label("oldest"),
                func.max(outbox.c.attempts).label("most_attempts"),
            )
            .where(outbox.c.handled_at.is_(None))
            .group_by(outbox.c.name)
            .order_by(outbox.c.name)
        )
        return [
            OutboxKindStatus(
                name=row.name,
                unhandled=row.unhandled,
                oldest_unhandled_at=row.oldest,
                most_attempts=row.most_attempts,
            )
            for row in (await self._tx.execute(query)).all()
        ]

    async def mark_unhandled(self, message_id: str) -> bool:
        statement = (
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(enqueued_at=None, handled_at=None)
        )
        return (await self._tx.execute(statement)).rowcount == 1

    async def list_unsent(self, limit: int) -> list[OutboxMessage]:
        query = (
            select(outbox)
            .where(outbox.c.enqueued_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        return await self._messages(query)

    async def list_due(self, limit: int, enqueued_before: datetime) -> list[OutboxMessage]:
        """On PostgreSQL the rows stay locked until the unit of work ends and rows another
        relay holds are skipped (FOR UPDATE SKIP LOCKED), so relays running side by side
        never hand out the same message; SQLite runs one at a time anyway."""
        query = (
            select(outbox)
            .where(
                outbox.c.handled_at.is_(None),
                or_(outbox.c.enqueued_at.is_(None), outbox.c.enqueued_at < enqueued_before),
            )
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._messages(query)

    async def _messages(self, query: Select[Any]) -> list[OutboxMessage]:
        return [
            OutboxMessage(
                id=row.id,
                name=row.name,
                payload=row.payload,
                created_at=row.created_at,
                attempts=row.attempts,
                context=row.context,
            )
            for row in (await self._tx.execute(query)).all()
        ]

    async def mark_enqueued(self, message_ids: list[str], at: datetime) -> None:
        if message_ids:
            await self._tx.execute(
                update(outbox)
                .where(outbox.c.id.in_(message_ids))
                .values(enqueued_at=at, attempts=outbox.c.attempts + 1)
            )

    async def mark_handled(self, message_id: str, at: datetime) -> None:
        await self._tx.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.handled_at.is_(None))
            .values(handled_at=at)
        )

    async def is_handled(self, message_id: str) -> bool:
        query = select(outbox.c.handled_at).where(outbox.c.id == message_id)
        return (await self._tx.execute(query)).scalar() is not None

    async def oldest_unhandled(self) -> datetime | None:
        query = select(func.min(outbox.c.created_at)).where(outbox.c.handled_at.is_(None))
        oldest: datetime | None = (await self._tx.execute(query)).scalar()
        return oldest

    async def purge_handled_before(self, cutoff: datetime) -> int:
        statement = delete(outbox).where(
            outbox.c.handled_at.is_not(None), outbox.c.handled_at < cutoff
        )
        return (await self._tx.execute(statement)).rowcount
