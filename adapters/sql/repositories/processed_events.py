"""The processed_events table: the payment provider's events applied once, and the email
ledger (provider "email") that makes each email go out once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from adapters.sql.tables import processed_events
from adapters.sql.transaction import SqlTransaction


class SqlProcessedEventRepository:
    """One table, two uses: provider events (provider: the gateway's name) and the email
    ledger (provider "email", event id "<outbox message id>:<email kind>")."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, provider: str, event_id: str, at: datetime) -> bool:
        """True if recorded now; False if it was recorded before (or by a concurrent
        transaction that committed: the insert waits for it on PostgreSQL)."""
        row = {"provider": provider, "event_id": event_id, "processed_at": at}
        return await self._tx.insert_new(processed_events, row)

    async def purge_before(self, cutoff: datetime) -> int:
        statement = delete(processed_events).where(processed_events.c.processed_at < cutoff)
        return (await self._tx.execute(statement)).rowcount
