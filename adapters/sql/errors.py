"""Turning driver errors into the persistence port's exceptions.

- A serialization failure (SQLSTATE 40001), a deadlock (40P01) or a lock wait that timed
  out (55P03) on PostgreSQL, and a busy or locked database on SQLite, mean "the store
  aborted this transaction; run it again": `ConcurrencyConflict`.
- A unique violation (23505 on PostgreSQL, SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY on
  SQLite) means another row already holds the key: `DuplicateRecord`.

Anything else (a foreign key or CHECK violation, a lost connection) is a bug or an outage
and propagates unchanged.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from application.ports.persistence import ConcurrencyConflict, DuplicateRecord

_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_UNIQUE_SQLSTATE = "23505"
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


def translate(error: DBAPIError) -> Exception | None:
    """The port exception `error` stands for, or None if it is none of ours."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
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
