"""What the repositories of one unit of work share: its connection, what it has read, and
the aggregates it handed out (whose events its commit writes to the outbox).

Every statement goes through `SqlTransaction.execute`, which turns driver errors into the
port's `ConcurrencyConflict` / `DuplicateRecord`, and a database out of reach into
`ServiceUnavailable` (see errors.py).

Lost updates. `get(..., for_update=True)` locks a row until the transaction ends. For the
reads that do not lock, the transaction remembers the `version` of each aggregate it read,
and `save()` only updates the row if it still has that version; if another transaction
changed it meanwhile (a stock reservation, a concurrent edit), `save()` raises
`ConcurrencyConflict` and `application.transactions.in_transaction` runs the work again on
fresh data. So an edit made on a stale copy can never overwrite stock that was reserved
since, and two requests emptying the same cart cannot both place an order from it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import CTE, Table, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import TextClause

from adapters.sql.errors import translate, unavailable_if_connection_error
from application.collected_events import CollectedEvents
from application.ports.persistence import ConcurrencyConflict


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""Marks an aggregate this transaction looked for and did not find."""

T = TypeVar("T")
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
Executor = Callable[[Executable], Awaitable[CursorResult[Any]]]

# Without it, an INSERT's rowcount is lost (psycopg) before `on_conflict_do_nothing` callers
# can ask whether a row went in.
_KEEP_ROWCOUNT = {"preserve_rowcount": True}


@functools.lru_cache(maxsize=128)
def _insert_ignoring_conflicts(table: Table, columns: tuple[str, ...]) -> TextClause:
    """`INSERT ... ON CONFLICT DO NOTHING` (the same on PostgreSQL and SQLite) with each
    value bound through its column's type. Names come from the table, never from input."""
    names = ", ".join(f'"{name}"' for name in columns)
    binds = ", ".join(f":{name}" for name in columns)
    sql = (
        f'INSERT INTO "{table.name}" ({names}) VALUES ({binds}) '  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


class SqlTransaction:
    def __init__(self, connection: AsyncConnection, read_engine: AsyncEngine | None) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._read_engine = read_engine
        self._versions: dict[tuple[str, str], int | _Absent] = {}
        self.events = CollectedEvents()

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def execute(
        self, statement: Executable, parameters: Parameters = None
    ) -> CursorResult[Any]:
        """Run one statement in this transaction (a list of parameter sets: executemany)."""
        try:
            return await self.connection.execute(
                statement, parameters, execution_options=_KEEP_ROWCOUNT
            )
        except DBAPIError as error:
            translated = translate(error)
            if translated is None:
                raise
            raise translated from error
        except (SQLAlchemyError, OSError) as error:
            # Not a driver error: the pool timing out, or a connection already closed.
            raise unavailable_if_connection_error(error) or error from error

    async def on_replica(self, work: Callable[[Executor], Awaitable[T]]) -> T:
        """Run read-only `work` on the read replica when one is configured (outside this
        transaction: it may lag, and never sees this transaction's own writes), else
        here. `work` gets the function to execute its statements with."""
        if self._read_engine is None:
            return await work(self.execute)
        try:
            async with self._read_engine.connect() as connection:

                async def execute(statement: Executable) -> CursorResult[Any]:
                    return await connection.execute(statement)

                return await work(execute)
        except (SQLAlchemyError, OSError) as error:
            raise unavailable_if_connection_error(error) or error from error

    async def insert_new(self, table: Table, row: Mapping[str, Any]) -> bool:
        """INSERT `row` unless it collides with a unique key (ON CONFLICT DO NOTHING, the
        transaction stays usable); True if it went in.

        Written as text SQL, built once per table and set of columns: SQLAlchemy cannot
        cache the dialects' own INSERT constructs (`on_conflict_do_nothing`) and would
        compile one anew on every call, a tenth of the CPU an order placement costs."""
        statement = _insert_ignoring_conflicts(table, tuple(row))
        return (await self.execute(statement, row)).rowcount == 1

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT with this dialect's `on_conflict_do_nothing` / `_do_update`."""
        if self.is_postgres:
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def update_aggregate(
        self,
        table: Table,
        kind: str,
        key: str,
        values: Mapping[str, Any],
        *,
        along: CTE | None = None,
    ) -> None:
        """UPDATE the row of aggregate `key` (its primary key is `table`'s first column) to
        `values`, which include its new `version`.

        If this transaction read the aggregate, the row must still have the version it
        read: otherwise someone changed it since, and this raises ConcurrencyConflict.
        Saving an aggregate that was never added raises LookupError (a bug in the caller).
        `along`: a data-modifying CTE (PostgreSQL) run in the same statement.
        """
        key_column = next(iter(table.primary_key.columns))
        seen = self._versions.get((kind, key))
        statement = update(table).where(key_column == key).values(values)
        if isinstance(seen, int):
            statement = statement.where(table.c.version == seen)
        if along is not None:
            statement = statement.add_cte(along)
        result = await self.execute(statement)
        if result.rowcount != 1:
            if isinstance(seen, int):
                raise ConcurrencyConflict(f"{kind} {key} was changed by another transaction")
            raise LookupError(f"{kind} {key} does not exist: add it before saving it")
        self._versions[(kind, key)] = values["version"]

    def seen_version(self, kind: str, key: str) -> int | _Absent | None:
        """The version this transaction last read or wrote, ABSENT if it found nothing, or
        None if it never looked."""
        return self._versions.get((kind, key))

    def remember(self, kind: str, key: str, version: int | _Absent) -> None:
        self._versions[(kind, key)] = version

    def bump_if_seen(self, kind: str, key: str) -> None:
        """Our own statement changed the row's version (a stock reservation): keep up."""
        seen = self._versions.get((kind, key))
        if isinstance(seen, int):
            self._versions[(kind, key)] = seen + 1
