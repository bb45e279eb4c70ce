"""The money side of an order's life: starting its payment, and cancelling it (by a
customer or staff, or by expiry when unpaid in time), which gives back what was paid
through `Refunds` and cancels the open intent.

The intent carries an idempotency key derived from the order (`order:<id>`) and is created
while the payment row is locked, so retries and races never charge twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from application.audit import record_audit
from application.catalog import announce_catalog_change
from application.ports.errors import PaymentProviderError
from application.ports.payments import PaymentGateway
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Cache, Clock, IdGenerator
from application.principal import Principal
from application.refunds import Refunds
from application.transactions import in_transaction
from domain.errors import NotFound
from domain.orders import Order, OrderStatus
from domain.payments import Payment, PaymentOutcome, PaymentStatus

log = logging.getLogger(__name__)


def intent_idempotency_key(order_id: str) -> str:
    return f"order:{order_id}"


class PaymentFlow:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        refunds: Refunds,
        clock: Clock,
        ids: IdGenerator,
        cache: Cache | None = None,
    ) -> None:
        """`refunds`: gives back what a cancelled order had paid. `cache`: where cached
        catalog answers are invalidated when stock is released."""
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._refunds = refunds
        self._clock = clock
        self._ids = ids
        self._cache = cache

    @property
    def provider(self) -> str:
        return self._gateway.provider

    async def start_payment(self, order_id: str) -> Payment:
        """Make sure a pending order's payment has its intent at the provider (once).

        Raises PaymentProviderError if the provider is down; the order stays pending and
        a later call (a client retry, or the reconciliation job) creates the intent.
        """

        async def start(uow: UnitOfWork) -> Payment:
            payment = await uow.payments.get_for_order(order_id, for_update=True)
            if payment is None:
                raise NotFound("payment for order", order_id)
            if payment.intent_id is not None or payment.status is not PaymentStatus.PENDING:
                return payment
            order = await uow.orders.get(order_id)
            if order is None or order.status is not OrderStatus.PENDING:
                return payment
            intent = await self._gateway.create_intent(
                order_id=order_id,
                amount=payment.amount,
                idempotency_key=intent_idempotency_key(order_id),
            )
            payment.attach_intent(intent.id, intent.client_secret, self._clock.now())
            await uow.payments.save(payment)
            return payment

        return await in_transaction(self._uow_factory, start)

    async def cancel(
        self,
        order_id: str,
        *,
        reason: str,
        allowed: Callable[[Order], bool],
        actor: Principal | None = None,
    ) -> Order:
        """Cancel a pending or paid order: release its stock, refund what was paid, and
        cancel its open intent. Raises NotFound when `allowed(order)` is False."""

        async def cancel(uow: UnitOfWork) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or not allowed(order):
                raise NotFound("order", order_id)
            await self._cancel_locked(uow, order, reason, actor, "order.cancelled")
            return order

        order = await in_transaction(self._uow_factory, cancel)
        await announce_catalog_change(self._cache)  # its stock came back
        await self._cancel_open_intent(order_id)
        return order

    async def expire(self, order_id: str) -> bool:
        """Cancel the order if it is still pending (unpaid in time); False otherwise."""

        async def expire(uow: UnitOfWork) -> bool:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.status is not OrderStatus.PENDING:
                return False
            await self._cancel_locked(
                uow, order, "payment not received in time", None, "order.expired"
            )
            return True

        expired = await in_transaction(self._uow_factory, expire)
        if expired:
            await announce_catalog_change(self._cache)  # its stock came back
            await self._cancel_open_intent(order_id)
        return expired

    async def _cancel_locked(
        self,
        uow: UnitOfWork,
        order: Order,
        reason: str,
        actor: Principal | None,
        action: str,
    ) -> None:
        """Cancel the locked order, recording `action` by `actor` (None: the shop)."""
        order.cancel(reason, self._clock.now())
        for line in sorted(order.lines, key=lambda line: line.product_id):
            await uow.products.release_stock(line.product_id, line.quantity)
        if order.refundable_amount.is_positive:
            await self._refunds.refund_locked(
                uow, order, order.refundable_amount, reason, everything_left=True
            )
        await uow.orders.save(order)
        await record_audit(
            uow,
            self._ids,
            self._clock,
            actor,
            action,
            ("order", order.id),
            {
                "status": order.status.value,
                "reason": reason,
                "refunded": str(order.refunded_amount),
            },
        )

    async def _cancel_open_intent(self, order_id: str) -> None:
        """Best effort: an intent left open after cancelling is harmless, because a late
        success for a cancelled order is refunded when its event arrives."""

        async def cancel_intent(uow: UnitOfWork) -> None:
            payment = await uow.payments.get_for_order(order_id, for_update=True)
            if payment is None or payment.status not in (
                PaymentStatus.PENDING,
                PaymentStatus.FAILED,
            ):
                return
            if payment.intent_id is not None:
                await self._gateway.cancel_intent(payment.intent_id)
            payment.apply_outcome(PaymentOutcome.CANCELLED, self._clock.now())
            await uow.payments.save(payment)

        try:
            await in_transaction(self._uow_factory, cancel_intent)
        except PaymentProviderError:
            log.warning("could not cancel the payment intent of order %s; left open", order_id)
