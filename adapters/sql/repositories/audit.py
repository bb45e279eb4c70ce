"""The audit trail: one row per administrative action or order status change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, or_, select

from adapters.sql.keyset import Keyset, SortValue
from adapters.sql.tables import audit_log
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import AuditEntry, AuditQuery, Page

_NEWEST_FIRST = Keyset(audit_log.c.at, audit_log.c.id, SortValue.TIMESTAMP, descending=True)


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor_user_id=row.actor_user_id,
        actor_api_key_id=row.actor_api_key_id,
        actor_operator=row.actor_operator,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        summary=dict(row.summary),
        request_id=row.request_id,
    )


class SqlAuditRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, entry: AuditEntry) -> None:
        await self._tx.execute(
            audit_log.insert().values(
                id=entry.id,
                at=entry.at,
                actor_user_id=entry.actor_user_id,
                actor_api_key_id=entry.actor_api_key_id,
                actor_operator=entry.actor_operator,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                summary=entry.summary,
                request_id=entry.request_id,
            )
        )

    async def list_page(self, query: AuditQuery) -> Page[AuditEntry]:
        conditions: list[Any] = []
        if query.actor is not None:
            conditions.append(
                or_(
                    audit_log.c.actor_user_id == query.actor,
                    audit_log.c.actor_api_key_id == query.actor,
                    audit_log.c.actor_operator == query.actor,
                )
            )
        if query.target is not None:
            conditions.append(audit_log.c.target_id == query.target)
        if query.since is not None:
            conditions.append(audit_log.c.at >= query.since)
        statement, limit = _NEWEST_FIRST.paginate(select(audit_log).where(*conditions), query.page)
        rows, next_cursor = _NEWEST_FIRST.cut((await self._tx.execute(statement)).all(), limit)
        return Page(items=[_entry(row) for row in rows], next_cursor=next_cursor)

    async def for_target(self, target_type: str, target_id: str) -> list[AuditEntry]:
        statement = (
            select(audit_log)
            .where(audit_log.c.target_type == target_type, audit_log.c.target_id == target_id)
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        return [_entry(row) for row in (await self._tx.execute(statement)).all()]
