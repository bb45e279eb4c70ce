"""Idempotency records: a client's `Idempotency-Key` and the order its request placed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from adapters.sql.tables import idempotency_records
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord, IdempotencyRecord


class SqlIdempotencyRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        query = select(idempotency_records).where(
            idempotency_records.c.user_id == user_id, idempotency_records.c.key == key
        )
        row = (await self._tx.execute(query)).first()
        if row is None:
            return None
        return IdempotencyRecord(
            user_id=row.user_id,
            key=row.key,
            request_fingerprint=row.request_fingerprint,
            order_id=row.order_id,
            created_at=row.created_at,
        )

    async def add(self, record: IdempotencyRecord) -> None:
        """INSERT ... ON CONFLICT DO NOTHING: a concurrent writer of the same key makes
        this wait until it commits (PostgreSQL) and then raise DuplicateRecord, and the
        transaction stays usable either way."""
        if not await self._tx.insert_new(
            idempotency_records,
            dict(
                user_id=record.user_id,
                key=record.key,
                request_fingerprint=record.request_fingerprint,
                order_id=record.order_id,
                created_at=record.created_at,
            ),
        ):
            raise DuplicateRecord("idempotency_records")

    async def purge_before(self, cutoff: datetime) -> int:
        statement = delete(idempotency_records).where(idempotency_records.c.created_at < cutoff)
        return (await self._tx.execute(statement)).rowcount
