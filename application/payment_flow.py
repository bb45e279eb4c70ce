"""The money side of an order: starting its payment, cancelling, refunding.

Every provider call that can move money carries an idempotency key derived from the order
(`order:<id>` for the intent, `refund:<order id>:<n>` for the n-th refund), and runs while
the order and payment rows are locked, so retries and races never charge or refund twice.

A refund whose answer was lost (a timeout, or our commit failing afterwards) is made at
the provider but not recorded here. A retry with the same parameters reuses its key and
the provider replays it. A retry with other parameters (an admin's new amount or reason,
or a cancel that refunds everything left) reuses the key, which the provider refuses
(`ProviderKeyReused`): the refund made under that key is then looked up at the provider
(it keeps the key) and recorded. A caller who wanted everything left gets the rest
refunded under the next key; an admin who asked for an explicit amount and finds that
amount refunded is done, one who asked for another amount gets `EarlierRefundRecovered`
once the recovered refund is committed, and may ask again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from application.catalog import announce_catalog_change
from application.outbox import record_events
from application.ports.payments import PaymentGateway, ProviderRefund
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Cache, Clock, IdGenerator
from application.transactions import in_transaction
from domain.errors import (
    EarlierRefundRecovered,
    NotFound,
    PaymentProviderError,
    ProviderKeyReused,
)
from domain.money import Money
from domain.orders import Order, OrderStatus
from domain.payments import Payment, PaymentOutcome, PaymentStatus, Refund

log = logging.getLogger(__name__)


def intent_idempotency_key(order_id: str) -> str:
    return f"order:{order_id}"


def refund_idempotency_key(order_id: str, number: int) -> str:
    """The key of the order's `number`-th refund (counting from 1)."""
    return f"refund:{order_id}:{number}"


class PaymentFlow:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        ids: IdGenerator,
        cache: Cache | None = None,
    ) -> None:
        """`cache`: where cached catalog answers are invalidated when stock is released."""
        self._uow_factory = uow_factory
        self._gateway = gateway
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
        self, order_id: str, *, reason: str, allowed: Callable[[Order], bool]
    ) -> Order:
        """Cancel a pending or paid order: release its stock, refund what was paid, and
        cancel its open intent. Raises NotFound when `allowed(order)` is False."""

        async def cancel(uow: UnitOfWork) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or not allowed(order):
                raise NotFound("order", order_id)
            await self._cancel_locked(uow, order, reason)
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
            await self._cancel_locked(uow, order, "payment not received in time")
            return True

        expired = await in_transaction(self._uow_factory, expire)
        if expired:
            await announce_catalog_change(self._cache)  # its stock came back
            await self._cancel_open_intent(order_id)
        return expired

    async def refund(self, order_id: str, *, amount: Money | None, reason: str | None) -> Order:
        """Refund `amount` (default: everything left) of a paid, shipped, delivered or
        cancelled order. Raises RefundExceedsPayment past what was paid.

        If an earlier refund whose answer was lost turns up instead (see the module), it
        is recorded; without `amount` the rest is then refunded too. With an `amount`
        other than the recovered one's, nothing more is refunded and
        EarlierRefundRecovered is raised once the recovered refund is committed."""

        async def refund(uow: UnitOfWork) -> tuple[Order, Refund | None]:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound("order", order_id)
            wanted = amount if amount is not None else order.refundable_amount
            order.check_refund(wanted)
            recovered = await self._refund_locked(
                uow, order, wanted, reason, everything_left=amount is None
            )
            return order, recovered

        # Raised after the commit: raising inside would roll the recovered refund back.
        order, recovered = await in_transaction(self._uow_factory, refund)
        if recovered is not None:
            raise EarlierRefundRecovered(recovered.amount, order.refundable_amount)
        return order

    async def refund_late_payment(self, uow: UnitOfWork, order: Order, amount: Money) -> None:
        """Inside the caller's transaction, with the order locked: give back a payment
        that succeeded after its order was cancelled."""
        order.accept_late_payment(amount, self._clock.now())
        await self._refund_locked(
            uow,
            order,
            amount,
            "payment arrived after the order was cancelled",
            everything_left=True,
        )

    async def _cancel_locked(self, uow: UnitOfWork, order: Order, reason: str) -> None:
        order.cancel(reason, self._clock.now())
        for line in sorted(order.lines, key=lambda line: line.product_id):
            await uow.products.release_stock(line.product_id, line.quantity.value)
        if order.refundable_amount.is_positive:
            await self._refund_locked(
                uow, order, order.refundable_amount, reason, everything_left=True
            )
        await uow.orders.save(order)
        await record_events(uow, self._ids, self._clock, order.pull_events())

    async def _refund_locked(
        self,
        uow: UnitOfWork,
        order: Order,
        amount: Money,
        reason: str | None,
        *,
        everything_left: bool,
    ) -> Refund | None:
        """With the order row locked: refund at the provider, then record it on the payment
        and the order (the caller commits).

        When the provider refuses the refund's key as used with other parameters, the
        refund made earlier under that key is recorded (if the provider has none, its
        error is raised). Then, if the caller wants `everything_left` (`amount` was what
        was left), the rest is refunded under the next key and None is returned. If not,
        nothing more is refunded: None if the recovered refund was for `amount` (it was
        this request's own retry), else the recovered refund, for the caller to report."""
        payment = await uow.payments.get_for_order(order.id, for_update=True)
        if payment is None or payment.intent_id is None:
            raise NotFound("payment for order", order.id)
        while True:
            key = refund_idempotency_key(order.id, len(payment.refunds) + 1)
            try:
                made = await self._gateway.refund(
                    intent_id=payment.intent_id,
                    amount=amount,
                    idempotency_key=key,
                    reason=reason,
                )
            except ProviderKeyReused:
                earlier = await self._lost_refund(payment.intent_id, key)
                if earlier is None:
                    raise
                recovered = await self._record_refund(
                    uow, order, payment, earlier.amount, earlier.reason, earlier.id
                )
                if not everything_left:
                    return None if recovered.amount == amount else recovered
                amount = order.refundable_amount
                if not amount.is_positive:
                    return None
                continue
            await self._record_refund(uow, order, payment, amount, reason, made.id)
            return None

    async def _lost_refund(self, intent_id: str, idempotency_key: str) -> ProviderRefund | None:
        """The refund the provider made under `idempotency_key`, if any."""
        for refund in await self._gateway.list_refunds(intent_id):
            if refund.idempotency_key == idempotency_key:
                log.warning(
                    "refund %s (%s) went through although its answer was lost; recording it",
                    idempotency_key,
                    refund.amount,
                )
                return refund
        return None

    async def _record_refund(
        self,
        uow: UnitOfWork,
        order: Order,
        payment: Payment,
        amount: Money,
        reason: str | None,
        provider_refund_id: str,
    ) -> Refund:
        """Record a refund the provider made on the payment and the order."""
        now = self._clock.now()
        refund = Refund(
            id=self._ids.new_id(),
            amount=amount,
            reason=reason,
            provider_refund_id=provider_refund_id,
            created_at=now,
        )
        payment.add_refund(refund, now)
        order.record_refund(refund.id, amount, now)
        await uow.payments.save(payment)
        await uow.orders.save(order)
        await record_events(uow, self._ids, self._clock, order.pull_events())
        return refund

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
