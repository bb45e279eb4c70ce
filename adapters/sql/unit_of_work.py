"""The SQL unit of work: one connection and one transaction per `async with`.

The transaction begins with the first statement (on SQLite, with BEGIN IMMEDIATE; see
engine.py) and ends at `commit()`, `rollback()` or the end of the block, which rolls back
whatever was not committed. After `commit()` the unit of work stays usable: the next
statement begins a new transaction.

Errors: a database that cannot be reached (refused, lost or closed connections, no free
pooled connection within the pool timeout) raises `ServiceUnavailable`, from `async with`
itself or any statement. A serialization failure, deadlock or busy database raises
`ConcurrencyConflict`
(from the statement that hit it, or from `commit()`); run the work again in a new unit of
work (`application.transactions.in_transaction` does). Every `add` that can meet a
duplicate is an `INSERT ... ON CONFLICT DO NOTHING` that raises `DuplicateRecord` when
nothing was inserted, so the transaction stays usable afterwards; any other statement that
fails leaves a PostgreSQL transaction aborted, and the caller must leave the block (which
rolls back).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.errors import translate, unavailable_if_connection_error
from adapters.sql.repositories.audit import SqlAuditRepository
from adapters.sql.repositories.carts import SqlCartRepository
from adapters.sql.repositories.idempotency import SqlIdempotencyRepository
from adapters.sql.repositories.orders import SqlOrderRepository
from adapters.sql.repositories.outbox import SqlOutboxRepository
from adapters.sql.repositories.payments import SqlPaymentRepository
from adapters.sql.repositories.processed_events import SqlProcessedEventRepository
from adapters.sql.repositories.products import SqlProductRepository
from adapters.sql.repositories.uploads import SqlUploadRepository
from adapters.sql.repositories.users import SqlApiKeyRepository, SqlUserRepository
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import (
    ApiKeyRepository,
    AuditRepository,
    CartRepository,
    IdempotencyRepository,
    OrderRepository,
    OutboxRepository,
    PaymentRepository,
    ProcessedEventRepository,
    ProductRepository,
    UploadRepository,
    UserRepository,
)
from application.ports.runtime import Clock, IdGenerator
from domain.events import DomainEvent


class SqlUnitOfWork:
    """`read_engine`, when given, serves `products.list_page` only (catalog listings that
    tolerate replica lag); everything else, `products.get` included, reads the primary so
    that a use case always sees its own writes and never saves a stale copy. `ids` and
    `clock` name and date the outbox messages its commit writes."""

    # Typed as the ports: the protocol's attributes are mutable, hence invariant.
    users: UserRepository
    api_keys: ApiKeyRepository
    products: ProductRepository
    carts: CartRepository
    orders: OrderRepository
    payments: PaymentRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    processed_events: ProcessedEventRepository
    uploads: UploadRepository
    audit: AuditRepository

    def __init__(
        self,
        engine: AsyncEngine,
        read_engine: AsyncEngine | None = None,
        *,
        ids: IdGenerator,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._read_engine = read_engine
        self._ids = ids
        self._clock = clock
        self._connection: AsyncConnection | None = None
        self._tx: SqlTransaction | None = None

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use; create a new one")
        try:
            self._connection = await self._engine.connect()
        except (SQLAlchemyError, OSError) as error:
            raise _unavailable_or_same(error) from error
        self._open_repositories(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            try:
                if connection.in_transaction():
                    await connection.rollback()
            finally:
                await connection.close()
        except (SQLAlchemyError, OSError) as error:
            # The connection died with the transaction (the pool drops it). An error
            # already on its way out says more than this one.
            if exc is None:
                raise _unavailable_or_same(error) from error

    async def commit(self) -> None:
        """Write the new events of the aggregates handed out to the outbox, and make every
        change durable; raises ConcurrencyConflict if the store aborted it."""
        connection = self._require_connection()
        events = self._require_transaction().events
        await events.write(self.outbox, self._ids, self._clock)
        if not connection.in_transaction():
            return
        try:
            await connection.commit()
        except DBAPIError as error:
            translated = translate(error)
            if translated is None:
                raise
            raise translated from error
        except (SQLAlchemyError, OSError) as error:
            raise _unavailable_or_same(error) from error
        events.committed()

    async def rollback(self) -> None:
        connection = self._require_connection()
        try:
            if connection.in_transaction():
                await connection.rollback()
        except (SQLAlchemyError, OSError) as error:
            raise _unavailable_or_same(error) from error
        # What the repositories remember of the rolled-back transaction no longer holds.
        self._open_repositories(connection)

    def record(self, event: DomainEvent) -> None:
        self._require_transaction().events.record(event)

    def _open_repositories(self, connection: AsyncConnection) -> None:
        tx = self._tx = SqlTransaction(connection, self._read_engine)
        self.users = SqlUserRepository(tx)
        self.api_keys = SqlApiKeyRepository(tx)
        self.products = SqlProductRepository(tx)
        self.carts = SqlCartRepository(tx)
        self.orders = SqlOrderRepository(tx)
        self.payments = SqlPaymentRepository(tx)
        self.outbox = SqlOutboxRepository(tx)
        self.idempotency = SqlIdempotencyRepository(tx)
        self.processed_events = SqlProcessedEventRepository(tx)
        self.uploads = SqlUploadRepository(tx)
        self.audit = SqlAuditRepository(tx)

    def _require_connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._connection

    def _require_transaction(self) -> SqlTransaction:
        if self._connection is None or self._tx is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._tx


def _unavailable_or_same(error: SQLAlchemyError | OSError) -> BaseException:
    return unavailable_if_connection_error(error) or error


def sql_unit_of_work_factory(
    engine: AsyncEngine,
    read_engine: AsyncEngine | None = None,
    *,
    ids: IdGenerator,
    clock: Clock,
) -> Callable[[], SqlUnitOfWork]:
    """What the use cases get as their `UnitOfWorkFactory`."""
    return lambda: SqlUnitOfWork(engine, read_engine, ids=ids, clock=clock)
