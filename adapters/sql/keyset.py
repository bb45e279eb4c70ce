"""Keyset pagination in SQL, with the cursors of `application.pagination`.

A listing is ordered by (sort column, id), both ascending or both descending; the cursor
holds the last item's (sort value, id), and the next page is the rows strictly after it:
`WHERE (sort, id) > (:value, :id)`, which an index on (sort, id) answers directly.
Timestamps travel in cursors as ISO 8601 strings, as in the in-memory adapter.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, literal, tuple_

from application.pagination import decode_cursor, encode_cursor
from application.ports.persistence import PageRequest
from domain.errors import InvalidValue

_BIGINT_MAX = 2**63 - 1


class SortValue(enum.Enum):
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Keyset:
    column: ColumnElement[Any]
    id_column: ColumnElement[str]
    value: SortValue
    descending: bool = False

    def paginate(self, query: Select[Any], page: PageRequest) -> tuple[Select[Any], int]:
        """`query` ordered, started after the cursor, and cut at one row past the limit
        (that extra row says whether there is a next page). Returns it with the limit."""
        limit = page.limit
        if page.cursor is not None:
            raw_value, after_id = decode_cursor(page.cursor)
            after = tuple_(
                literal(self._from_cursor(raw_value), self.column.type),
                literal(after_id, self.id_column.type),
            )
            position = tuple_(self.column, self.id_column)
            query = query.where(position < after if self.descending else position > after)
        if self.descending:
            query = query.order_by(self.column.desc(), self.id_column.desc())
        else:
            query = query.order_by(self.column.asc(), self.id_column.asc())
        return query.limit(limit + 1), limit

    def cut(self, rows: Sequence[Row[Any]], limit: int) -> tuple[Sequence[Row[Any]], str | None]:
        """The rows of this page, and the cursor of the next one (None on the last)."""
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        value = last._mapping[self.column]
        cursor_value = value.isoformat() if isinstance(value, datetime) else value
        return rows[:limit], encode_cursor(cursor_value, last._mapping[self.id_column])

    def _from_cursor(self, raw: Any) -> Any:
        wrong = InvalidValue("cursor", "does not belong to this listing")
        if self.value is SortValue.INTEGER:
            if not isinstance(raw, int) or isinstance(raw, bool) or abs(raw) > _BIGINT_MAX:
                raise wrong
            return raw
        if not isinstance(raw, str):
            raise wrong
        if self.value is SortValue.TEXT:
            return raw
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise wrong from None
        if moment.tzinfo is None:
            raise wrong
        return moment
