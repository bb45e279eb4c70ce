"""Payments (one per order) and their refunds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select

from adapters.sql.tables import payments, refunds
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord
from domain.money import Money
from domain.payments import Payment, PaymentStatus, Refund


def _payment_values(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.order_id,
        "user_id": payment.user_id,
        "provider": payment.provider,
        "amount_amount": payment.amount.amount,
        "amount_currency": payment.amount.currency,
        "status": payment.status.value,
        "intent_id": payment.intent_id,
        "client_secret": payment.client_secret,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "version": payment.version,
    }


def _refund_rows(payment: Payment) -> list[dict[str, Any]]:
    return [
        {
            "id": refund.id,
            "payment_id": payment.id,
            "position": position,
            "amount_amount": refund.amount.amount,
            "amount_currency": refund.amount.currency,
            "reason": refund.reason,
            "provider_refund_id": refund.provider_refund_id,
            "created_at": refund.created_at,
        }
        for position, refund in enumerate(payment.refunds)
    ]


def _payment(row: Row[Any], refund_list: list[Refund]) -> Payment:
    return Payment(
        id=row.id,
        order_id=row.order_id,
        user_id=row.user_id,
        provider=row.provider,
        amount=Money(row.amount_amount, row.amount_currency),
        status=PaymentStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        intent_id=row.intent_id,
        client_secret=row.client_secret,
        refunds=refund_list,
        version=row.version,
    )


_REFUND_COLUMNS = [
    refunds.c.id.label("refund_id"),
    refunds.c.amount_amount.label("refund_amount"),
    refunds.c.amount_currency.label("refund_currency"),
    refunds.c.reason.label("refund_reason"),
    refunds.c.provider_refund_id.label("refund_provider_id"),
    refunds.c.created_at.label("refund_created_at"),
]


def _refund(row: Row[Any]) -> Refund:
    return Refund(
        id=row.refund_id,
        amount=Money(row.refund_amount, row.refund_currency),
        reason=row.refund_reason,
        provider_refund_id=row.refund_provider_id,
        created_at=row.refund_created_at,
    )


class SqlPaymentRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._refunds_read: dict[str, list[Refund]] = {}

    async def add(self, payment: Payment) -> None:
        """Raises DuplicateRecord if the order already has a payment (or the id or intent
        is taken). The insert is ON CONFLICT DO NOTHING, so the transaction stays usable;
        a concurrent insert for the same order makes this wait for that transaction."""
        if not await self._tx.insert_new(payments, dict(id=payment.id, **_payment_values(payment))):
            raise DuplicateRecord("payments.order_id")
        if payment.refunds:
            await self._tx.execute(refunds.insert(), _refund_rows(payment))
        self._remember(payment)

    async def get_for_order(self, order_id: str, *, for_update: bool = False) -> Payment | None:
        return await self._one(select(payments).where(payments.c.order_id == order_id), for_update)

    async def get_by_intent(self, intent_id: str, *, for_update: bool = False) -> Payment | None:
        query = select(payments).where(payments.c.intent_id == intent_id)
        return await self._one(query, for_update)

    async def save(self, payment: Payment) -> None:
        await self._tx.update_aggregate(payments, "payment", payment.id, _payment_values(payment))
        read = self._refunds_read.get(payment.id)
        if read != payment.refunds:
            rows = _refund_rows(payment)
            if read is not None and payment.refunds[: len(read)] == read:
                rows = rows[len(read) :]  # refunds only ever get added: insert the new ones
            else:
                await self._tx.execute(delete(refunds).where(refunds.c.payment_id == payment.id))
            if rows:
                await self._tx.execute(refunds.insert(), rows)
        self._refunds_read[payment.id] = list(payment.refunds)
        self._tx.events.track(payment)

    async def list_pending_created_before(self, cutoff: datetime, limit: int) -> list[Payment]:
        query = (
            select(payments)
            .where(payments.c.status == PaymentStatus.PENDING.value, payments.c.created_at < cutoff)
            .order_by(payments.c.created_at, payments.c.id)
            .limit(limit)
        )
        found = await self._with_refunds((await self._tx.execute(query)).all())
        self._tx.events.track_all(found)
        return found

    async def _one(self, query: Any, for_update: bool) -> Payment | None:
        """One payment with its refunds, in one statement (an outer join)."""
        query = (
            query.add_columns(*_REFUND_COLUMNS)
            .select_from(payments.outerjoin(refunds))
            .order_by(refunds.c.position)
        )
        if for_update:
            query = query.with_for_update(of=payments)
        rows = (await self._tx.execute(query)).all()
        if not rows:
            return None
        payment = _payment(rows[0], [_refund(row) for row in rows if row.refund_id is not None])
        self._remember(payment)
        return payment

    async def _with_refunds(self, rows: Sequence[Row[Any]]) -> list[Payment]:
        if not rows:
            return []
        query = (
            select(refunds)
            .where(refunds.c.payment_id.in_([row.id for row in rows]))
            .order_by(refunds.c.payment_id, refunds.c.position)
        )
        by_payment: dict[str, list[Refund]] = {row.id: [] for row in rows}
        for refund in (await self._tx.execute(query)).all():
            by_payment[refund.payment_id].append(
                Refund(
                    id=refund.id,
                    amount=Money(refund.amount_amount, refund.amount_currency),
                    reason=refund.reason,
                    provider_refund_id=refund.provider_refund_id,
                    created_at=refund.created_at,
                )
            )
        return [_payment(row, by_payment[row.id]) for row in rows]

    def _remember(self, payment: Payment) -> None:
        """Its version and refunds as read, and the payment itself for its events."""
        self._tx.remember("payment", payment.id, payment.version)
        self._refunds_read[payment.id] = list(payment.refunds)
        self._tx.events.track(payment)
