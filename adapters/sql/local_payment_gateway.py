"""The embedded default's payment gateway: no provider, payments complete by themselves.

It behaves like the real flow so the same use cases run: `create_intent` returns a pending
intent that succeeds `completion_delay` later, and the shop is then told through the
subscribed sink (the app wires it to the payment-event use case, as Stripe's webhook
would be). Nothing is charged.

Its intents and refunds are rows in a database, not in a process's memory, so that any
app process or worker sees, completes and refunds every intent, and one that dies
strands none:
- on PostgreSQL, in the shop's own database (tables `local_payment_intents` and
  `local_payment_refunds`, made by the migrations), through a connection pool of its own
  (the shop calls the gateway while holding a connection; sharing one pool could leave
  every request waiting for a second connection that none will give back);
- on SQLite, in a file of its own beside the shop's (`hexmart.db` ->
  `hexmart.local-payments.db`, created on first use): SQLite lets one transaction write
  at a time per file, and the shop calls the gateway from inside its own write
  transactions.

Completion is computed from what is stored: a pending intent whose `deliver_at` has come
has succeeded, whoever looks (retrieving it records that). Telling the shop is at least
once, and the event id is the intent's (`evt_local_<intent id>`), so the shop's
processed-events inbox applies it exactly once: the process that created the intent
delivers it after the delay, and `deliver_due` (run every second by the background loop
or the worker) delivers those whose process died first. A delivery is claimed for
`DELIVERY_RETRY` at a time, so two processes rarely deliver the same event, and a
delivery cut short is tried again after it.

`purge(older_than)` forgets final intents (succeeded or cancelled, the shop told) not
changed for that long, with their refunds: storage stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.engine import async_url, is_sqlite
from adapters.sql.tables import local_payment_intents as intents
from adapters.sql.tables import local_payment_refunds as refunds
from adapters.sql.tables import metadata
from adapters.stripe_documents.events import PAYMENT_SUCCEEDED
from application.ports.errors import InvalidWebhook, PaymentProviderError, ProviderKeyReused
from application.ports.payments import PaymentIntent, ProviderEvent, ProviderRefund
from application.ports.runtime import Clock
from domain.money import Money
from domain.payments import PaymentOutcome

log = logging.getLogger(__name__)

T = TypeVar("T")
EventSink = Callable[[ProviderEvent], Awaitable[object]]

PROVIDER = "local"
DEFAULT_COMPLETION_DELAY = timedelta(seconds=0.2)
# How long a claimed delivery is left to its process before another may try it again.
DELIVERY_RETRY = timedelta(seconds=10)
SUCCEEDED_EVENT = PAYMENT_SUCCEEDED  # named as Stripe names it, as every gateway does
_FINAL = (PaymentOutcome.SUCCEEDED.value, PaymentOutcome.CANCELLED.value)
_PURGE_BATCH = 500
_KEEP_ROWCOUNT = {"preserve_rowcount": True}


def local_payments_database_url(shop_database_url: str) -> str:
    """Where the local gateway keeps its records for a shop on `shop_database_url`: the
    same PostgreSQL database, or a SQLite file beside the shop's."""
    url = async_url(shop_database_url)
    if not is_sqlite(url):
        return url.render_as_string(hide_password=False)
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ValueError("the local payment gateway needs a SQLite file database, not memory")
    path = Path(database)
    own = path.with_name(f"{path.stem}.local-payments{path.suffix or '.db'}")
    return url.set(database=str(own)).render_as_string(hide_password=False)


def succeeded_event_id(intent_id: str) -> str:
    """The one id every delivery of the intent's success carries."""
    return f"evt_local_{intent_id}"


class SqlLocalPaymentGateway:
    """The `PaymentGateway` port, paying by itself, with its state in a database.

    `auto_complete=False` (tests) makes intents wait for `complete(intent_id)`."""

    provider = PROVIDER

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        auto_complete: bool = True,
        completion_delay: timedelta = DEFAULT_COMPLETION_DELAY,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._auto_complete = auto_complete
        self._delay = completion_delay
        self._sink: EventSink | None = None
        self._timers: set[asyncio.Task[None]] = set()
        self._schema_ready = not is_sqlite(engine.url)
        self._schema_lock = asyncio.Lock()

    def subscribe(self, sink: EventSink) -> None:
        """Deliver provider events to `sink` (the stand-in for the webhook endpoint)."""
        self._sink = sink

    # -- the port ------------------------------------------------------------------

    async def create_intent(
        self, *, order_id: str, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        if not amount.is_positive:
            raise PaymentProviderError(f"cannot collect a non-positive amount ({amount})")
        now = self._clock.now()
        intent_id = f"pi_local_{secrets.token_hex(12)}"
        row = {
            "id": intent_id,
            "idempotency_key": idempotency_key,
            "order_id": order_id,
            "amount_amount": amount.amount,
            "amount_currency": amount.currency,
            "refunded_amount": 0,
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "outcome": PaymentOutcome.PENDING.value,
            "created_at": now,
            "updated_at": now,
            "deliver_at": now + self._delay if self._auto_complete else None,
        }

        async def create(connection: AsyncConnection) -> Mapping[str, Any]:
            insert = self._insert(intents).values(row).on_conflict_do_nothing()
            if self._engine.dialect.insert_returning:  # one round trip fewer
                made = (await connection.execute(insert.returning(*intents.c))).mappings()
                if (first := made.first()) is not None:
                    return first
            else:
                await connection.execute(insert)
            # Ours, or the one this key made first (in this process or any other).
            stored = await self._intent_row(
                connection, intents.c.idempotency_key == idempotency_key
            )
            if stored is None:  # its id collided: 96 random bits, never in practice
                raise PaymentProviderError("could not create the payment intent; try again")
            return stored

        stored = await self._transaction(create)
        if stored["order_id"] != order_id or _amount(stored) != amount:
            raise ProviderKeyReused(
                f"idempotency key {idempotency_key!r} was used with other parameters"
            )
        intent = self._snapshot(stored, now)
        if intent.outcome is PaymentOutcome.PENDING and stored["deliver_at"] is not None:
            self._deliver_later(intent.id, stored["deliver_at"])
        return intent

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        async def retrieve(connection: AsyncConnection) -> Mapping[str, Any]:
            return await self._current(connection, intent_id)

        return self._snapshot(await self._transaction(retrieve), self._clock.now())

    async def cancel_intent(self, intent_id: str) -> PaymentIntent:
        now = self._clock.now()

        async def cancel(connection: AsyncConnection) -> Mapping[str, Any]:
            stored = await self._current(connection, intent_id, lock=True)
            if stored["outcome"] == PaymentOutcome.PENDING.value:
                await connection.execute(
                    update(intents)
                    .where(intents.c.id == intent_id)
                    .values(outcome=PaymentOutcome.CANCELLED.value, updated_at=now, deliver_at=None)
                )
                stored = await self._current(connection, intent_id)
            return stored

        # Raised after the commit, so that a completion found on the way is kept.
        stored = await self._transaction(cancel)
        if stored["outcome"] == PaymentOutcome.SUCCEEDED.value:
            raise PaymentProviderError(f"intent {intent_id} has succeeded; refund it instead")
        return self._snapshot(stored, now)

    async def refund(
        self, *, intent_id: str, amount: Money, idempotency_key: str, reason: str | None = None
    ) -> ProviderRefund:
        now = self._clock.now()

        async def make_refund(connection: AsyncConnection) -> Mapping[str, Any]:
            earlier = await self._refund_row(connection, idempotency_key)
            if earlier is not None:
                return earlier
            stored = await self._current(connection, intent_id, lock=True)
            total = _amount(stored)
            if stored["outcome"] != PaymentOutcome.SUCCEEDED.value:
                raise PaymentProviderError(
                    f"intent {intent_id} has not succeeded; nothing to refund"
                )
            if amount.currency != total.currency or not amount.is_positive:
                raise PaymentProviderError(f"cannot refund {amount} of a {total} payment")
            left = total.amount - stored["refunded_amount"]
            if amount.amount > left:
                raise PaymentProviderError(
                    f"refund of {amount} exceeds the {Money(left, total.currency)} left on "
                    f"intent {intent_id}"
                )
            number = await connection.scalar(
                select(func.count()).select_from(refunds).where(refunds.c.intent_id == intent_id)
            )
            row = {
                "id": f"re_local_{secrets.token_hex(12)}",
                "intent_id": intent_id,
                "number": (number or 0) + 1,
                "idempotency_key": idempotency_key,
                "amount_amount": amount.amount,
                "amount_currency": amount.currency,
                "reason": reason,
                "created_at": now,
            }
            inserted = await connection.execute(
                self._insert(refunds).values(row).on_conflict_do_nothing(),
                execution_options=_KEEP_ROWCOUNT,
            )
            if inserted.rowcount != 1:
                # The key was taken meanwhile (by a refund of another intent: one of this
                # intent would have waited for our lock): it answers for the key.
                taken = await self._refund_row(connection, idempotency_key)
                if taken is None:
                    raise PaymentProviderError("could not record the refund; try again")
                return taken
            await connection.execute(
                update(intents)
                .where(intents.c.id == intent_id)
                .values(refunded_amount=intents.c.refunded_amount + amount.amount, updated_at=now)
            )
            return row

        made = await self._transaction(make_refund)
        if (made["intent_id"], _amount(made), made["reason"]) != (intent_id, amount, reason):
            raise ProviderKeyReused(
                f"idempotency key {idempotency_key!r} was used with other parameters"
            )
        return _refund(made)

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        async def listed(connection: AsyncConnection) -> list[ProviderRefund]:
            await self._current(connection, intent_id)
            rows = await connection.execute(
                select(refunds).where(refunds.c.intent_id == intent_id).order_by(refunds.c.number)
            )
            return [_refund(row) for row in rows.mappings()]

        return await self._transaction(listed)

    def parse_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        raise InvalidWebhook("the local payment gateway receives no webhooks")

    # -- completing by itself ------------------------------------------------------

    async def complete(self, intent_id: str) -> ProviderEvent:
        """Mark the intent paid now (what its delay does by itself) and deliver the event
        to the subscribed sink. Raises PaymentProviderError for a cancelled intent."""
        now = self._clock.now()

        async def complete(connection: AsyncConnection) -> Mapping[str, Any]:
            stored = await self._current(connection, intent_id, lock=True)
            if stored["outcome"] == PaymentOutcome.CANCELLED.value:
                raise PaymentProviderError(f"intent {intent_id} was cancelled; it cannot succeed")
            if stored["outcome"] == PaymentOutcome.PENDING.value:
                await connection.execute(
                    update(intents)
                    .where(intents.c.id == intent_id)
                    .values(outcome=PaymentOutcome.SUCCEEDED.value, updated_at=now, deliver_at=now)
                )
            return await self._current(connection, intent_id)

        stored = await self._transaction(complete)
        event = _succeeded_event(self._snapshot(stored, now), stored["updated_at"])
        await self._deliver(intent_id)
        return event

    async def deliver_due(self, limit: int = 100) -> int:
        """Tell the shop of every success not yet delivered whose time has come (an
        intent whose process died before its delay ran out, a delivery that failed);
        returns how many were delivered. Without a subscribed sink, does nothing."""
        if self._sink is None:
            return 0
        now = self._clock.now()

        async def due(connection: AsyncConnection) -> list[str]:
            rows = await connection.execute(
                select(intents.c.id)
                .where(intents.c.deliver_at <= now)
                .order_by(intents.c.deliver_at)
                .limit(limit)
            )
            return list(rows.scalars())

        delivered = 0
        for intent_id in await self._transaction(due):
            try:
                delivered += await self._deliver(intent_id)
            except Exception:  # logged; due again after DELIVERY_RETRY
                log.exception("delivering the local payment of intent %s failed", intent_id)
                break  # the shop (or this store) is failing: the next round tries again
        return delivered

    async def purge(self, older_than: timedelta) -> int:
        """Forget intents final (succeeded or cancelled, the shop told) and not changed
        for `older_than`, with their refunds; returns how many intents went."""
        cutoff = self._clock.now() - older_than

        async def purge_batch(connection: AsyncConnection) -> int:
            rows = await connection.execute(
                select(intents.c.id)
                .where(
                    intents.c.outcome.in_(_FINAL),
                    intents.c.deliver_at.is_(None),
                    intents.c.updated_at < cutoff,
                )
                .limit(_PURGE_BATCH)
                .with_for_update(skip_locked=True)
            )
            ids = list(rows.scalars())
            if ids:
                await connection.execute(delete(refunds).where(refunds.c.intent_id.in_(ids)))
                await connection.execute(delete(intents).where(intents.c.id.in_(ids)))
            return len(ids)

        purged = 0
        while True:
            batch = await self._transaction(purge_batch)
            purged += batch
            if batch < _PURGE_BATCH:
                return purged

    async def close(self) -> None:
        """Stop the delivery timers (what they would have delivered stays due)."""
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    # -- internals -----------------------------------------------------------------

    def _deliver_later(self, intent_id: str, at: datetime) -> None:
        if self._sink is None:
            return  # `deliver_due` delivers it, in whichever process runs it
        delay = max(0.0, (at - self._clock.now()).total_seconds())
        task = asyncio.create_task(self._deliver_after(intent_id, delay))
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _deliver_after(self, intent_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            # Due by our own count, whatever the clock says (a test's may stand still).
            await self._deliver(intent_id, due_now=True)
        except Exception:  # logged; `deliver_due` tries again after DELIVERY_RETRY
            log.exception("delivering the local payment of intent %s failed", intent_id)

    async def _deliver(self, intent_id: str, *, due_now: bool = False) -> bool:
        """Claim the intent's due delivery, hand its success event to the sink and mark it
        delivered. False if there was nothing to claim (not due, or claimed elsewhere).
        A failure raises, and leaves the delivery due again after `DELIVERY_RETRY`.
        `due_now`: any delivery still to make is due (its timer ran out)."""
        sink = self._sink
        if sink is None:
            return False
        now = self._clock.now()
        retry_at = now + DELIVERY_RETRY
        pending = intents.c.outcome == PaymentOutcome.PENDING.value
        due = intents.c.deliver_at <= now
        if due_now:  # a pending intent completes; a delivery claimed elsewhere stays theirs
            due = or_(due, and_(pending, intents.c.deliver_at.is_not(None)))

        async def claim(connection: AsyncConnection) -> Mapping[str, Any] | None:
            statement = (
                update(intents)
                .where(intents.c.id == intent_id, due)
                .values(
                    outcome=case(
                        (pending, PaymentOutcome.SUCCEEDED.value), else_=intents.c.outcome
                    ),
                    updated_at=case((pending, now), else_=intents.c.updated_at),
                    deliver_at=retry_at,
                )
            )
            if self._engine.dialect.update_returning:  # one round trip fewer
                claimed = await connection.execute(statement.returning(*intents.c))
                return claimed.mappings().first()
            result = await connection.execute(statement, execution_options=_KEEP_ROWCOUNT)
            if result.rowcount != 1:
                return None
            return await self._intent_row(connection, intents.c.id == intent_id)

        async def delivered(connection: AsyncConnection) -> None:
            await connection.execute(
                update(intents)
                .where(intents.c.id == intent_id, intents.c.deliver_at == retry_at)
                .values(deliver_at=None)
            )

        stored = await self._transaction(claim)
        if stored is None:
            return False
        await sink(_succeeded_event(self._snapshot(stored, now), stored["updated_at"]))
        await self._transaction(delivered)
        return True

    async def _current(
        self, connection: AsyncConnection, intent_id: str, *, lock: bool = False
    ) -> Mapping[str, Any]:
        """The intent's row, with a completion whose time has come recorded first."""
        now = self._clock.now()
        await connection.execute(
            update(intents)
            .where(
                intents.c.id == intent_id,
                intents.c.outcome == PaymentOutcome.PENDING.value,
                intents.c.deliver_at <= now,
            )
            .values(outcome=PaymentOutcome.SUCCEEDED.value, updated_at=now)
        )
        stored = await self._intent_row(connection, intents.c.id == intent_id, lock=lock)
        if stored is None:
            raise PaymentProviderError(f"no such payment intent: {intent_id}")
        return stored

    async def _intent_row(
        self, connection: AsyncConnection, condition: Any, *, lock: bool = False
    ) -> Mapping[str, Any] | None:
        statement = select(intents).where(condition)
        if lock:
            statement = statement.with_for_update()
        return (await connection.execute(statement)).mappings().first()

    async def _refund_row(
        self, connection: AsyncConnection, idempotency_key: str
    ) -> Mapping[str, Any] | None:
        rows = await connection.execute(
            select(refunds).where(refunds.c.idempotency_key == idempotency_key)
        )
        return rows.mappings().first()

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        if is_sqlite(self._engine.url):
            return sqlite.insert(table)
        return postgresql.insert(table)

    def _snapshot(self, stored: Mapping[str, Any], now: datetime) -> PaymentIntent:
        outcome = PaymentOutcome(stored["outcome"])
        if (
            outcome is PaymentOutcome.PENDING
            and stored["deliver_at"] is not None
            and stored["deliver_at"] <= now
        ):
            outcome = PaymentOutcome.SUCCEEDED
        return PaymentIntent(
            id=stored["id"],
            client_secret=stored["client_secret"],
            amount=_amount(stored),
            outcome=outcome,
            order_id=stored["order_id"],
        )

    async def _transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one transaction; a storage failure is the provider failing."""
        try:
            await self._ensure_schema()
            async with self._engine.begin() as connection:
                return await work(connection)
        except SQLAlchemyError as error:
            raise PaymentProviderError(
                f"the local payment gateway's storage failed: {error}"
            ) from error

    async def _ensure_schema(self) -> None:
        """On SQLite, the gateway's own file gets its tables on first use."""
        if self._schema_ready:
            return
        async with self._schema_lock:
            if not self._schema_ready:
                async with self._engine.begin() as connection:
                    await connection.run_sync(
                        metadata.create_all, tables=[intents, refunds], checkfirst=True
                    )
                self._schema_ready = True


def _amount(row: Mapping[str, Any]) -> Money:
    return Money(row["amount_amount"], row["amount_currency"])


def _refund(row: Mapping[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        id=row["id"],
        amount=_amount(row),
        failed=False,
        idempotency_key=row["idempotency_key"],
        reason=row["reason"],
    )


def _succeeded_event(intent: PaymentIntent, at: datetime) -> ProviderEvent:
    return ProviderEvent(
        id=succeeded_event_id(intent.id), type=SUCCEEDED_EVENT, created_at=at, intent=intent
    )
