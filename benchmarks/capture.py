"""The SQL one `POST /orders` issues, captured from the app itself, and the same SQL as a
pgbench script.

One order is placed in process through the real container (authentication of the access
token, then the place-order use case) with a `before_cursor_execute` listener on the
engine. Each captured statement is rendered with literal values, except the values that
must differ per transaction, which become pgbench variables: the new ids (order, payment,
outbox message, intent), the idempotency key, the user (one per pgbench client, like one
per HTTP connection: `pgu-1`, ...), the order number (from the captured `nextval`, via
`\\gset`) and the products (random picks over the catalog, or the hot product)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event

from application.principal import Principal
from benchmarks.seed import HOT_PRODUCT
from domain.users import Role
from domain.values import Address
from entrypoints.container import Container

ADDRESS = Address(
    name="Bench Shopper", line1="1 Load St", city="Springfield", postal_code="12345", country="US"
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INSERT_ORDER = re.compile(r'INSERT INTO "?orders"? ')
_FRESH_NAMES = {"intent_id", "client_secret", "key"}


_MARKERS = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass(frozen=True)
class Captured:
    """What went to the database, in order: statements (SQL with %(name)s placeholders,
    their parameters) and the transaction markers BEGIN / COMMIT / ROLLBACK (None)."""

    sent: list[tuple[str, Any]]
    authentication_ends: int  # sent[:authentication_ends] authenticated the token
    user_id: str
    product_ids: list[str]

    @property
    def statements(self) -> list[tuple[str, Any]]:
        return [(sql, params) for sql, params in self.sent if sql not in _MARKERS]

    @property
    def use_case_statements(self) -> int:
        """What the statement-count test counts: place order alone, no BEGIN/COMMIT."""
        return sum(1 for sql, _ in self.sent[self.authentication_ends :] if sql not in _MARKERS)

    @property
    def round_trips(self) -> int:
        """Per request: every statement and transaction marker (psycopg sends BEGIN as a
        command of its own; an executemany counts once)."""
        return len(self.sent)


async def capture_place_order(
    container: Container, user_id: str, product_ids: list[str]
) -> Captured:
    engine = container.database_engine()
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    def begin(_conn: Any) -> None:
        seen.append(("BEGIN", None))

    def commit(_conn: Any) -> None:
        seen.append(("COMMIT", None))

    def rollback(_conn: Any) -> None:
        seen.append(("ROLLBACK", None))

    markers = {"begin": begin, "commit": commit, "rollback": rollback}
    token = container.token_issuer().issue_access_token(subject=user_id, role="customer")
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    for name, listener in markers.items():
        event.listen(engine.sync_engine, name, listener)
    try:
        actor = await container.authentication().authenticate_access_token(token.token)
        authenticated = len(seen)
        await container.orders().place_order(
            actor, idempotency_key="capture", shipping_address=ADDRESS
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        for name, listener in markers.items():
            event.remove(engine.sync_engine, name, listener)
    assert actor == Principal.user(user_id, Role.CUSTOMER)
    return Captured(seen, authenticated, user_id, product_ids)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if hasattr(value, "obj"):  # psycopg's Jsonb wrapper
        value = json.dumps(value.obj, default=str)
    text = str(value).replace("'", "''")
    return f"'{text}'"


def pgbench_script(captured: Captured, *, catalog_size: int, hot: bool) -> str:
    """A pgbench script (simple query mode: variables are substituted as text, inside
    literals too) replaying `captured` once per transaction."""
    fresh: dict[str, str] = {}

    def fresh_token(value: str) -> str:
        if value not in fresh:
            fresh[value] = f"b-:client_id-:txn-{len(fresh)}"
        return fresh[value]

    lines = ["\\set txn random(1, 1000000000000)", "\\set uid :client_id + 1"]
    for k in range(len(captured.product_ids)):
        first = HOT_PRODUCT if hot and k == 0 else 2
        last = HOT_PRODUCT if hot and k == 0 else catalog_size
        lines.append(f"\\set p{k} random({first}, {last})")
    for statement, params in captured.sent:
        if statement in _MARKERS:
            lines.append(f"{statement};")
            continue
        rows = params if isinstance(params, list | tuple) else [params]
        for row in rows:
            lines.append(_render(statement, row or {}, captured, fresh_token))
    return "\n".join(lines) + "\n"


def _render(statement: str, row: dict[str, Any], captured: Captured, fresh_token: Any) -> str:
    def value_for(match: re.Match[str]) -> str:
        name = match.group(1)
        value = row[name]
        if name == "number" and _INSERT_ORDER.search(statement):
            return ":next_value_1"
        if isinstance(value, str) and name in _FRESH_NAMES:
            return f"'{fresh_token(value)}'"
        return _literal(value)

    sql = _PLACEHOLDER.sub(value_for, statement)
    for uuid in _UUID.findall(sql):
        sql = sql.replace(uuid, fresh_token(uuid))
    for quote in ("'", '"'):
        sql = sql.replace(f"{quote}{captured.user_id}{quote}", f"{quote}pgu-:uid{quote}")
        for k, pid in enumerate(captured.product_ids):
            sql = sql.replace(f"{quote}{pid}{quote}", f"{quote}bp-:p{k}{quote}")
    sql = " ".join(sql.split())
    return sql + " \\gset" if "nextval(" in sql else sql + ";"
