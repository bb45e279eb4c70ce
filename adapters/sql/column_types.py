"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String, TypeDecorator
from sqlalchemy.types import TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time: timezone-aware UTC in, timezone-aware UTC out, on every dialect.

    PostgreSQL stores `timestamptz`. SQLite has no time type: SQLAlchemy stores a
    fixed-width `YYYY-MM-DD HH:MM:SS.ffffff` string, which we always write in UTC so that
    comparing and sorting the strings compares the instants. A naive datetime is refused
    rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store naive datetime {value!r}; pass it in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def code_point_string(length: int | None = None) -> TypeEngine[str]:
    """A string that sorts and compares by code point, like Python's `str`.

    SQLite's default BINARY collation already does (UTF-8 bytes sort in code point order);
    PostgreSQL needs the "C" collation, whatever locale the database was created with.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")
