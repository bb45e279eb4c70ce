"""SQL persistence: the unit of work and repositories on PostgreSQL or SQLite.

One code base serves PostgreSQL through psycopg 3 (production) and SQLite through
aiosqlite (the embedded default). What the composition root needs:

- `adapters.sql.engine.create_engine(url, ...)` builds the async engine (dispose it at
  shutdown);
- `adapters.sql.unit_of_work.sql_unit_of_work_factory(engine, read_engine=None, *, ids,
  clock)` is the use cases' `UnitOfWorkFactory` (`ids` and `clock` stamp the outbox
  messages its commits write);
- `adapters.sql.migrate.ensure_database(url)` creates and migrates the database at start-up.
"""
