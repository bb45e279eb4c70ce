"""Turning driver errors into the persistence port's exceptions.

- A serialization failure (SQLSTATE 40001), a deadlock (40P01) or a lock wait that timed
  out (55P03) on PostgreSQL, and a busy or locked database on SQLite, mean "the store
  aborted this transaction; run it again": `ConcurrencyConflict`.
- A unique violation (23505 on PostgreSQL, SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY on
  SQLite) means another row already holds the key: `DuplicateRecord`.
- A connection refused, lost or closed under the statement (the server is down,
  restarting or shutting down: SQLSTATE class 08, 57P01-57P03, or a driver error with no
  SQLSTATE; a SQLite file that cannot be opened or read), and a pool with no free
  connection within its timeout, mean "the database is unavailable; try again later":
  `ServiceUnavailable` (HTTP 503 with `Retry-After`). The pool drops dead connections,
  so service resumes by itself when the server is back.

Anything else (a foreign key or CHECK violation) is a bug and propagates unchanged.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.ports.errors import ServiceUnavailable
from application.ports.persistence import ConcurrencyConflict, DuplicateRecord

_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_UNIQUE_SQLSTATE = "23505"
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
_SQLITE_UNREACHABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR")
# admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
_SERVER_GOING_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def translate(error: DBAPIError) -> Exception | None:
    """The port exception `error` stands for, or None if it is none of ours."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if _is_connection_lost(error, sqlstate):
        return database_unavailable(error)
    if sqlstate is not None:
        if sqlstate in _RETRYABLE_SQLSTATES:
            return ConcurrencyConflict(str(original).strip())
        if sqlstate == _UNIQUE_SQLSTATE:
            diagnostic = getattr(original, "diag", None)
            return DuplicateRecord(getattr(diagnostic, "constraint_name", None) or "unique")
        return None
    sqlite_name = getattr(original, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        if sqlite_name.startswith(_SQLITE_BUSY):
            return ConcurrencyConflict(str(original))
        if sqlite_name in _SQLITE_UNIQUE:
            return DuplicateRecord(str(original))
    return None


def database_unavailable(error: SQLAlchemyError | OSError) -> ServiceUnavailable:
    """The message reaches clients: it names no host or driver (raise it `from error`, so
    the log keeps the cause)."""
    if isinstance(error, PoolTimeout):
        return ServiceUnavailable("the database is busy: no free connection in time")
    return ServiceUnavailable("the database is unavailable")


def _is_connection_lost(error: DBAPIError, sqlstate: str | None) -> bool:
    if error.connection_invalidated:
        return True
    if sqlstate is not None:
        return sqlstate.startswith("08") or sqlstate in _SERVER_GOING_SQLSTATES
    sqlite_name = getattr(error.orig, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        # The file cannot be opened or read (a missing volume, a disk error); busy,
        # constraint and other SQLite errors are not outages.
        return sqlite_name.startswith(_SQLITE_UNREACHABLE)
    # psycopg reports a refused or broken connection without a SQLSTATE.
    return isinstance(error, (OperationalError, InterfaceError))


def unavailable_if_connection_error(error: BaseException) -> ServiceUnavailable | None:
    """`ServiceUnavailable` for a pool timeout or a connection error met outside a
    statement (connecting, committing, closing), else None."""
    if isinstance(error, PoolTimeout):
        return database_unavailable(error)
    if isinstance(error, DBAPIError):
        translated = translate(error)
        return translated if isinstance(translated, ServiceUnavailable) else None
    if isinstance(error, OSError):
        return database_unavailable(error)
    return None
