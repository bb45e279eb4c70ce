"""Building the async engine for PostgreSQL (psycopg 3) or SQLite (aiosqlite).

Nothing here runs at import time; the DI container calls `create_engine` once and
disposes of the engine at shutdown.

SQLite is the embedded default, a single file. Each connection is put in WAL mode (readers
do not block the writer), with foreign keys on and a busy timeout, and every transaction
starts with `BEGIN IMMEDIATE`: SQLite allows one writer at a time, and taking the write
lock up front makes concurrent writers queue for it (up to the busy timeout) instead of
failing half-way with "database is locked" when a reader tries to become a writer. This is
SQLAlchemy's documented recipe for taking over BEGIN from the driver (see "Serializable
isolation / Savepoints / Transactional DDL" in its SQLite dialect notes). The price is that
units of work on SQLite run one at a time, reads included; that is what the embedded
default is for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 10
DEFAULT_POOL_TIMEOUT = 30.0
DEFAULT_SQLITE_BUSY_TIMEOUT = 30.0
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5

# The URL schemes people write, mapped to the async driver we use for each.
_ASYNC_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
# psycopg 3 serves both; SQLite's synchronous driver is the standard library's sqlite3.
_SYNC_DRIVERS = {"postgresql+psycopg": "postgresql+psycopg", "sqlite+aiosqlite": "sqlite"}


def async_url(url: str | URL) -> URL:
    """The URL with the async driver hexmart uses: `postgresql://` → psycopg 3,
    `sqlite:///file.db` → aiosqlite. Raises ValueError for any other database."""
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}; "
            "use postgresql+psycopg://... or sqlite+aiosqlite:///path/to/file.db"
        )
    return parsed.set(drivername=driver)


def sync_url(url: str | URL) -> URL:
    """The same database through a synchronous driver (used by migrations)."""
    parsed = async_url(url)
    return parsed.set(drivername=_SYNC_DRIVERS[parsed.drivername])


def is_sqlite(url: str | URL) -> bool:
    return async_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = async_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    url: str | URL,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    echo: bool = False,
    sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
) -> AsyncEngine:
    """An async engine for `url` (PostgreSQL or SQLite; see `async_url`).

    The pool settings apply to both (SQLite file databases are pooled too). On SQLite a
    unit of work waits up to `sqlite_busy_timeout` seconds for the write lock before
    giving up with ConcurrencyConflict. For SQLite the file's folder is created if
    missing; the schema itself is `migrate.ensure_database`'s job.
    """
    parsed = async_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout,
    }
    if parsed.get_backend_name() != "sqlite":
        # A connection the server dropped (restart, failover) is replaced, not handed out.
        # A server that does not answer at all (a dead host) fails the connect in
        # seconds instead of the TCP timeout's minutes: the request gets its 503 quickly.
        engine = create_async_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
            **options,
        )
        return engine
    path = sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **options)
    configure_sqlite(engine.sync_engine, busy_timeout=sqlite_busy_timeout)
    return engine


def configure_sqlite(
    sync_engine: Any,
    *,
    foreign_keys: bool = True,
    busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
) -> None:
    """Install the SQLite connection settings and the BEGIN IMMEDIATE hook on an engine
    (the async engine's `sync_engine`, or a plain synchronous engine). Migrations turn
    `foreign_keys` off: rebuilding a table in batch mode would otherwise cascade."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own (deferred) BEGIN; `_on_begin` does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database (a readiness check); raises if it does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
