"""Uploads: what users announced they would send to file storage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update

from adapters.sql.tables import uploads
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord
from domain.uploads import Upload


def _upload(row: Row[Any]) -> Upload:
    return Upload(
        id=row.id,
        owner_id=row.owner_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        storage_key=row.storage_key,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


class SqlUploadRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, upload: Upload) -> None:
        row = dict(
            id=upload.id,
            owner_id=upload.owner_id,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            storage_key=upload.storage_key,
            created_at=upload.created_at,
            completed_at=upload.completed_at,
        )
        if not await self._tx.insert_new(uploads, row):
            raise DuplicateRecord("uploads.id")

    async def get(self, upload_id: str) -> Upload | None:
        row = (await self._tx.execute(select(uploads).where(uploads.c.id == upload_id))).first()
        return None if row is None else _upload(row)

    async def save(self, upload: Upload) -> None:
        """Only completion changes an upload once it is recorded."""
        await self._tx.execute(
            update(uploads)
            .where(uploads.c.id == upload.id)
            .values(completed_at=upload.completed_at)
        )

    async def incomplete_before(self, cutoff: datetime, limit: int) -> list[Upload]:
        result = await self._tx.execute(
            select(uploads)
            .where(uploads.c.completed_at.is_(None), uploads.c.created_at < cutoff)
            .order_by(uploads.c.created_at, uploads.c.id)
            .limit(limit)
        )
        return [_upload(row) for row in result]

    async def delete_incomplete(self, upload_id: str) -> bool:
        result = await self._tx.execute(
            delete(uploads).where(uploads.c.id == upload_id, uploads.c.completed_at.is_(None))
        )
        return bool(result.rowcount)
