"""The adapters the persistence contract runs against.

Each contract is a plain class of tests that asks for a `uow` fixture (a unit-of-work
factory over an empty store) and, for property tests that need a clean slate per example,
`empty_store` (a coroutine function that deletes everything). A test class per adapter
mixes one of these in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

import psycopg
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fakes.unit_of_work import InMemoryDatabase, in_memory_unit_of_work_factory
from adapters.sql.tables import include_in_schema, metadata
from adapters.system.clock import SystemClock
from adapters.system.ids import UuidGenerator
from application.ports.persistence import UnitOfWorkFactory
from tests.sql_fixtures import empty_postgres, sql_units_of_work

EmptyStore = Callable[[], Awaitable[None]]


class InMemoryStore:
    @pytest.fixture
    def memory_database(self) -> InMemoryDatabase:
        return InMemoryDatabase()

    @pytest.fixture
    def uow(self, memory_database: InMemoryDatabase) -> UnitOfWorkFactory:
        # A cast, not a fix: InMemoryUnitOfWork types its repositories as the concrete
        # classes, which the protocol's mutable (invariant) attributes do not accept.
        return cast(
            UnitOfWorkFactory,
            in_memory_unit_of_work_factory(
                memory_database, ids=UuidGenerator(), clock=SystemClock()
            ),
        )

    @pytest.fixture
    def empty_store(self, memory_database: InMemoryDatabase) -> EmptyStore:
        async def empty() -> None:
            memory_database.tables.clear()

        return empty


class SqliteStore:
    @pytest.fixture
    def uow(self, sqlite_engine: AsyncEngine) -> UnitOfWorkFactory:
        return sql_units_of_work(sqlite_engine)

    @pytest.fixture
    def empty_store(self, sqlite_engine: AsyncEngine) -> EmptyStore:
        async def empty() -> None:
            async with sqlite_engine.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    if include_in_schema(table, "sqlite") and table.name != "order_number_counter":
                        await connection.execute(delete(table))

        return empty


class PostgresStore:
    @pytest.fixture
    def uow(self, postgres_engine: AsyncEngine) -> UnitOfWorkFactory:
        return sql_units_of_work(postgres_engine)

    @pytest.fixture
    def empty_store(
        self, postgres_engine: AsyncEngine, _postgres_cleaner: psycopg.Connection
    ) -> EmptyStore:
        async def empty() -> None:
            empty_postgres(_postgres_cleaner)

        return empty
