"""PostgreSQL and SQLite databases for the SQL adapter's own tests."""

from tests.sql_fixtures import (  # noqa: F401 (fixtures)
    _postgres_cleaner,
    _sqlite_template,
    clean_postgres_url,
    postgres_engine,
    postgres_url,
    sqlite_engine,
    sqlite_url,
)
