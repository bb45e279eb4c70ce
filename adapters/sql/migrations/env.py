"""Alembic environment for hexmart.

The database URL comes from the config's `url` attribute (set by adapters/sql/migrate.py),
else `sqlalchemy.url` in an alembic.ini, else the HEXMART_DATABASE_URL environment variable.
Migrations run through the synchronous drivers, in one transaction: on PostgreSQL under an
advisory lock, on SQLite after BEGIN IMMEDIATE, so that processes starting together
migrate one after the other instead of racing.
"""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL

from adapters.sql.engine import configure_sqlite, sqlite_file, sync_url
from adapters.sql.tables import include_in_schema, metadata

# Any constant shared by every hexmart process; "hexmart" in ASCII.
MIGRATION_LOCK_KEY = 0x6865786D617274


def database_url() -> URL:
    configured: Any = (
        context.config.attributes.get("url")
        or context.config.get_main_option("sqlalchemy.url")
        or os.environ.get("HEXMART_DATABASE_URL")
    )
    if not configured:
        raise RuntimeError("no database URL: set HEXMART_DATABASE_URL or use adapters.sql.migrate")
    return sync_url(configured)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return include_in_schema(obj, context.get_context().dialect.name)


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        include_object=include_object,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = database_url()
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # the embedded default's first start
    engine = create_engine(url, poolclass=pool.NullPool)
    if sqlite:
        configure_sqlite(engine, foreign_keys=False)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                include_object=include_object,
                compare_type=True,
                render_as_batch=sqlite,
                # SQLite can roll DDL back too: all migrations or none.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
