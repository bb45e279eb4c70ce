"""Object storage for product images and uploads (S3 in production)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    content_type: str | None


class FileStorage(Protocol):
    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> PresignedUpload: ...

    async def presign_download(self, key: str, *, expires_in: timedelta) -> str: ...

    async def head(self, key: str) -> StoredObject | None:
        """The object's size and type, or None if nothing was uploaded under `key`."""

    async def delete(self, key: str) -> None: ...

    async def check(self) -> None:
        """Raise `ServiceUnavailable` unless the storage answers and its bucket (or
        folder) exists: a readiness check, and a start-up check of the settings."""
