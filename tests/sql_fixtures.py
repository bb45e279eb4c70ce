"""Database fixtures for the tests of the SQL adapters, on PostgreSQL and SQLite.

PostgreSQL (127.0.0.1:5432, trust auth, user `postgres`; HEXMART_TEST_POSTGRES_URL
overrides it) is a requirement, never an option: when it cannot be reached these fixtures
fail the tests that need it instead of skipping them.

- `postgres_url`: one database per test session, `hexmart_test_<random>`, migrated to head
  with Alembic and dropped at the end. No test ever touches another database.
- `postgres_engine`: an async engine on it, after every table was emptied, so tests can
  run in any order.
- `sqlite_url` / `sqlite_engine`: a fresh, migrated SQLite file per test (a copy of one
  migrated once per session).
- `sql_units_of_work(engine)`: a unit-of-work factory for tests that build no container
  (its outbox messages get UUIDs and the system clock's time).

Import the fixtures into a conftest.py (`from tests.sql_fixtures import ...`) or list
this module in `pytest_plugins` of the root conftest.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from dependency_injector import providers
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade_to_head
from adapters.sql.tables import include_in_schema, metadata
from adapters.sql.unit_of_work import SqlUnitOfWork, sql_unit_of_work_factory
from adapters.system.clock import SystemClock
from adapters.system.ids import UuidGenerator
from entrypoints.container import Container

POSTGRES_SERVER_URL = os.environ.get(
    "HEXMART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)


def postgres_dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for talking to the server with plain psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _connect_to_server() -> psycopg.Connection:
    try:
        return psycopg.connect(
            postgres_dsn(POSTGRES_SERVER_URL), autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_SERVER_URL}: {error}\n{START_HINT}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"hexmart_test_{secrets.token_hex(6)}"
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with _connect_to_server() as server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            upgrade_to_head(url)
            yield url
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_cleaner(postgres_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres_dsn(postgres_url), autocommit=True) as connection:
        # A test that leaks an open transaction would make the next one hang: fail instead.
        connection.execute("SET lock_timeout = '10s'")
        yield connection


def empty_postgres(connection: psycopg.Connection) -> None:
    tables = ", ".join(
        f'"{table.name}"'
        for table in metadata.sorted_tables
        if include_in_schema(table, "postgresql")
    )
    connection.execute(f"TRUNCATE {tables} CASCADE")


@pytest.fixture
def clean_postgres_url(postgres_url: str, _postgres_cleaner: psycopg.Connection) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    empty_postgres(_postgres_cleaner)
    return postgres_url


@pytest.fixture
async def postgres_engine(clean_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(clean_postgres_url, pool_size=5, max_overflow=20)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "hexmart.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database file of this test's own."""
    path = tmp_path / "hexmart.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def sql_units_of_work(
    engine: AsyncEngine, read_engine: AsyncEngine | None = None
) -> Callable[[], SqlUnitOfWork]:
    """What a container would build over `engine`, for tests that build none."""
    return sql_unit_of_work_factory(engine, read_engine, ids=UuidGenerator(), clock=SystemClock())


def use_sql(shop: Container, engine: AsyncEngine) -> None:
    """Point `shop`'s unit of work at `engine`; the outbox messages its commits write get
    the shop's own ids and clock (a test that steers the clock steers them too)."""
    shop.unit_of_work.override(
        providers.Object(sql_unit_of_work_factory(engine, ids=shop.ids(), clock=shop.clock()))
    )
