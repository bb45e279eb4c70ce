"""An in-memory unit of work: the whole store behind one lock, writes kept aside until commit.

Transactions run one at a time (the lock is held from `__aenter__` to `__aexit__`), which
makes every read-then-write trivially atomic. Repositories hand out deep copies, so a
caller changing an aggregate without `save()` and `commit()` changes nothing stored; the
copies they hand out are tracked, and `commit()` writes their new events to the outbox.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from adapters.fakes.repositories import (
    InMemoryApiKeys,
    InMemoryAudit,
    InMemoryCarts,
    InMemoryIdempotency,
    InMemoryOrders,
    InMemoryOutbox,
    InMemoryPayments,
    InMemoryProcessedEvents,
    InMemoryProducts,
    InMemoryUploads,
    InMemoryUsers,
)
from application.collected_events import CollectedEvents
from application.ports.runtime import Clock, IdGenerator
from domain.events import DomainEvent, EventSource

_DELETED = object()


@dataclass
class InMemoryDatabase:
    """The committed state. Share one between unit-of-work instances to share data."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)
    order_numbers: int = 1000
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables.setdefault(name, {})


class Transaction:
    """Reads see committed rows overlaid with this transaction's own writes."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._writes: dict[tuple[str, Any], Any] = {}
        self.events = CollectedEvents()

    def _current(self, table: str, key: Any) -> Any | None:
        row = self._writes.get((table, key))
        if row is None:
            row = self._database.table(table).get(key)
        return None if row is _DELETED else row

    def read(self, table: str, key: Any) -> Any | None:
        return copy.deepcopy(self._current(table, key))

    def keys(self, table: str) -> list[Any]:
        """Keys of the live rows of `table`, this transaction's writes included."""
        keys = dict.fromkeys(self._database.table(table))
        keys.update(dict.fromkeys(key for (name, key) in self._writes if name == table))
        return [key for key in keys if self._current(table, key) is not None]

    def rows(self, table: str) -> Iterator[Any]:
        for key in self.keys(table):
            row = self.read(table, key)
            if row is not None:
                yield row

    def write(self, table: str, key: Any, row: Any) -> None:
        stored = copy.deepcopy(row)
        if isinstance(stored, EventSource):
            # Like a database row, a stored aggregate keeps no pending events: the object
            # the caller holds (tracked in `events`) takes them to the outbox at commit.
            stored.pull_events()
        self._writes[(table, key)] = stored

    def delete(self, table: str, key: Any) -> None:
        self._writes[(table, key)] = _DELETED

    def next_order_number(self) -> int:
        self._database.order_numbers += 1
        return self._database.order_numbers

    def apply(self) -> None:
        for (table, key), row in self._writes.items():
            if row is _DELETED:
                self._database.table(table).pop(key, None)
            else:
                self._database.table(table)[key] = row
        self._writes.clear()

    def discard(self) -> None:
        self._writes.clear()
        self.events.forget()


class InMemoryUnitOfWork:
    """`ids` and `clock` name and date the outbox messages its commit writes."""

    def __init__(self, database: InMemoryDatabase, ids: IdGenerator, clock: Clock) -> None:
        self._database = database
        self._ids = ids
        self._clock = clock
        self._tx = Transaction(database)
        self.users = InMemoryUsers(self._tx)
        self.api_keys = InMemoryApiKeys(self._tx)
        self.products = InMemoryProducts(self._tx)
        self.carts = InMemoryCarts(self._tx)
        self.orders = InMemoryOrders(self._tx)
        self.payments = InMemoryPayments(self._tx)
        self.outbox = InMemoryOutbox(self._tx)
        self.idempotency = InMemoryIdempotency(self._tx)
        self.processed_events = InMemoryProcessedEvents(self._tx)
        self.uploads = InMemoryUploads(self._tx)
        self.audit = InMemoryAudit(self._tx)

    async def __aenter__(self) -> Self:
        await self._database.lock.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._tx.discard()
        finally:
            self._database.lock.release()

    async def commit(self) -> None:
        await self._tx.events.write(self.outbox, self._ids, self._clock)
        self._tx.apply()
        self._tx.events.committed()

    async def rollback(self) -> None:
        self._tx.discard()

    def record(self, event: DomainEvent) -> None:
        self._tx.events.record(event)


def in_memory_unit_of_work_factory(
    database: InMemoryDatabase | None = None, *, ids: IdGenerator, clock: Clock
) -> Callable[[], InMemoryUnitOfWork]:
    db = database if database is not None else InMemoryDatabase()
    return lambda: InMemoryUnitOfWork(db, ids, clock)
