"""Running the Alembic migrations from code (start-up, the admin CLI, tests).

The functions are synchronous: migrations use the synchronous side of the same drivers
(psycopg 3, and the standard library's sqlite3). From async code, run them in a thread:
`await asyncio.to_thread(ensure_database, url)`. Alembic keeps the state of a run in
module globals, so within one process runs take turns (a lock); across processes env.py
serialises them in the database.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from adapters.sql.engine import sync_url
from adapters.sql.errors import unavailable_if_connection_error

MIGRATIONS = Path(__file__).parent / "migrations"

_ONE_RUN_AT_A_TIME = threading.Lock()


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration for `url`, built in code (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Handed to env.py as an object, so that no "%" in a password meets ConfigParser.
    config.attributes["url"] = sync_url(url)
    return config


def upgrade_to_head(url: str | URL) -> None:
    """Apply every migration not yet applied (safe to run from several processes at
    once: env.py serialises them)."""
    with _ONE_RUN_AT_A_TIME:
        command.upgrade(alembic_config(url), "head")


def downgrade(url: str | URL, revision: str) -> None:
    """Revert migrations down to `revision` ("base" reverts them all)."""
    with _ONE_RUN_AT_A_TIME:
        command.downgrade(alembic_config(url), revision)


def ensure_database(url: str | URL) -> None:
    """Make the database ready at start-up: for the embedded SQLite default, create the
    file (and its folder) on first start; on any database, migrate to head. Raises
    ServiceUnavailable when the database cannot be reached (the caller may wait)."""
    try:
        upgrade_to_head(url)
    except DBAPIError as error:
        unavailable = unavailable_if_connection_error(error)
        if unavailable is None:
            raise
        raise unavailable from error


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
