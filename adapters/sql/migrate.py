"""Running the Alembic migrations from code (start-up, `hexmart migrate`, tests).

The functions are synchronous: migrations use the synchronous side of the same drivers
(psycopg 3, and the standard library's sqlite3). From async code, run them in a thread:
`await asyncio.to_thread(ensure_database, url)`. Alembic keeps the state of a run in
module globals, so within one process runs take turns (a lock); across processes env.py
serialises them in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Revision:
    revision: str
    description: str


class SchemaOutdated(RuntimeError):
    """The database is behind the code's migrations and may not be migrated here."""

    def __init__(self, pending: list[Revision]) -> None:
        super().__init__(
            f"the database schema is {len(pending)} migration(s) behind "
            f"(next: {pending[0].revision} {pending[0].description}); "
            "run `hexmart migrate` first"
        )
        self.pending = pending


def ensure_database(url: str | URL, *, migrate: bool = True) -> None:
    """Make the database ready at start-up: with `migrate`, create the embedded SQLite
    file (and its folder) on first start and migrate to head; without, only check that
    the schema is at head, raising SchemaOutdated if not (`hexmart migrate` is then a
    deploy step). Raises ServiceUnavailable when the database cannot be reached (the
    caller may wait)."""
    try:
        if migrate:
            upgrade_to_head(url)
            return
        pending = pending_revisions(url)
    except DBAPIError as error:
        unavailable = unavailable_if_connection_error(error)
        if unavailable is None:
            raise
        raise unavailable from error
    if pending:
        raise SchemaOutdated(pending)


def pending_revisions(url: str | URL) -> list[Revision]:
    """The migrations not yet applied to the database, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    current = current_revision(url)
    steps = script.iterate_revisions("heads", current or "base")
    return [
        Revision(step.revision, (step.doc or "").strip().splitlines()[0] if step.doc else "")
        for step in reversed(list(steps))
        if step.revision != current
    ]


def upgrade_step_by_step(url: str | URL, applied: Callable[[Revision], None]) -> list[Revision]:
    """Apply the pending migrations one at a time, calling `applied` after each; returns
    them (oldest first)."""
    pending = pending_revisions(url)
    config = alembic_config(url)
    for step in pending:
        with _ONE_RUN_AT_A_TIME:
            command.upgrade(config, step.revision)
        applied(step)
    return pending


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
