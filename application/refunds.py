"""Giving money back: an admin's refund, the rest of a cancelled order's payment, and a
payment that succeeded after its order was cancelled.

Every refund carries an idempotency key derived from the order (`refund:<order id>:<n>`
for the n-th refund), and runs while the order and payment rows are locked, so retries
and races never refund twice.

A refund whose answer was lost (a timeout, or our commit failing afterwards) is made at
the provider but not recorded here, and the provider forgets idempotency keys after a
day. So before each refund the provider's refunds of the payment are listed, and any not
recorded here (also one made in the provider's dashboard) is recorded first: a refund is
never made twice, however late the retry. A caller who wanted everything left then gets
what is left refunded; an admin who asked for an explicit amount and finds that amount
among the recovered is done; one who asked for another amount gets
`EarlierRefundRecovered` once the recovered refunds are committed, and may ask again.
"""

from __future__ import annotations

import logging

from application.audit import record_audit
from application.ports.errors import PaymentProviderError, ProviderKeyReused
from application.ports.payments import PaymentGateway, ProviderRefund
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, Principal
from application.transactions import in_transaction
from domain.errors import EarlierRefundRecovered, InvalidValue, NotFound, RefundExceedsPayment
from domain.money import Money, sum_money
from domain.orders import Order
from domain.payments import Payment, Refund

log = logging.getLogger(__name__)


def refund_idempotency_key(order_id: str, number: int) -> str:
    """The key of the order's `number`-th refund (counting from 1)."""
    return f"refund:{order_id}:{number}"


class Refunds:
    """Refunds of paid orders at the provider, recorded on the payment and the order.

    `refund_order` is the admin's use case, in a transaction of its own; `refund_late_payment`
    and `refund_locked` run inside a caller's transaction with the order locked (a payment
    event, a cancellation)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._clock = clock
        self._ids = ids

    async def refund_order(
        self,
        actor: Principal,
        order_id: str,
        amount: Money | None = None,
        reason: str | None = None,
    ) -> Order:
        """An admin refunds `amount` (default: everything left) of a paid, shipped,
        delivered or cancelled order. Raises RefundExceedsPayment past what was paid.

        If an earlier refund whose answer was lost turns up instead (see the module), it
        is recorded; without `amount` the rest is then refunded too. With an `amount`
        other than the recovered one's, nothing more is refunded and
        EarlierRefundRecovered is raised once the recovered refund is committed."""
        actor.require(ADMIN_ONLY)
        if reason is not None and len(reason) > 500:
            raise InvalidValue("reason", "must be at most 500 characters")

        async def refund(uow: UnitOfWork) -> tuple[Order, Money | None]:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound("order", order_id)
            if amount is not None and amount.currency != order.currency:
                # A bad request, not a rule of the order's: name the field to fix.
                raise InvalidValue(
                    "amount.currency",
                    f"must be {order.currency}, the currency the order was paid in",
                )
            wanted = amount if amount is not None else order.refundable_amount
            if amount is None and order.paid_amount.is_positive and not wanted.is_positive:
                raise RefundExceedsPayment("nothing is left to refund")
            order.check_refund(wanted)
            refunded_before = order.refunded_amount
            recovered = await self.refund_locked(
                uow, order, wanted, reason, everything_left=amount is None
            )
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "order.refunded",
                ("order", order_id),
                {
                    "status": order.status.value,
                    "amount": str(order.refunded_amount - refunded_before),
                    "reason": reason,
                },
            )
            return order, recovered

        # Raised after the commit: raising inside would roll the recovered refund back.
        order, recovered = await in_transaction(self._uow_factory, refund)
        if recovered is not None:
            raise EarlierRefundRecovered(recovered, order.refundable_amount)
        return order

    async def refund_late_payment(self, uow: UnitOfWork, order: Order, amount: Money) -> None:
        """Inside the caller's transaction, with the order locked: give back a payment
        that succeeded after its order was cancelled."""
        order.accept_late_payment(amount, self._clock.now())
        reason = "payment arrived after the order was cancelled"
        await self.refund_locked(uow, order, amount, reason, everything_left=True)
        await record_audit(
            uow,
            self._ids,
            self._clock,
            None,
            "order.refunded",
            ("order", order.id),
            {"status": order.status.value, "amount": str(amount), "reason": reason},
        )

    async def refund_locked(
        self,
        uow: UnitOfWork,
        order: Order,
        amount: Money,
        reason: str | None,
        *,
        everything_left: bool,
    ) -> Money | None:
        """With the order row locked: refund at the provider, then record it on the payment
        and the order (the caller commits).

        First, any refund the provider holds for the payment that is not recorded here (an
        answer lost, whether or not the provider still remembers its key; a refund made
        in the provider's dashboard) is recorded. If there was one and the caller wants
        `everything_left` (`amount` was what was left), what is left now is refunded and
        None is returned. If the caller asked for an explicit `amount`, nothing more is
        refunded: None if one recovered refund was for `amount` (this request's own
        retry), else the total recovered, for the caller to report.

        The refund's key is `refund:<order>:<n>`, n counting the provider's refunds of
        the payment (an attempt whose answer is lost and that the provider has not
        finished yet is therefore retried under its own key). A key
        the provider refuses as used with other parameters means an attempt under it is
        in flight or ended in an error the provider keeps: the refunds are looked at once
        more (an attempt in flight may have finished), else the provider error stands."""
        payment = await uow.payments.get_for_order(order.id, for_update=True)
        if payment is None or payment.intent_id is None:
            raise NotFound("payment for order", order.id)
        looked_again = False
        while True:
            listed = await self._gateway.list_refunds(payment.intent_id)
            recovered = await self._record_unrecorded_refunds(uow, order, payment, listed)
            if recovered:
                if not everything_left:
                    if any(refund.amount == amount for refund in recovered):
                        return None
                    return sum_money([refund.amount for refund in recovered], amount.currency)
                amount = order.refundable_amount
                if not amount.is_positive:
                    return None
            # Every refund at the provider (failed ones too) used up a key.
            key = refund_idempotency_key(order.id, len(listed) + 1)
            try:
                made = await self._gateway.refund(
                    intent_id=payment.intent_id,
                    amount=amount,
                    idempotency_key=key,
                    reason=reason,
                )
            except ProviderKeyReused as refused:
                if looked_again:
                    raise PaymentProviderError(
                        f"the payment provider still holds an earlier attempt under refund "
                        f"key {key} (in progress, or an error it keeps for a day); try again "
                        "later, or with the amount and reason of that attempt"
                    ) from refused
                looked_again = True
                continue
            await self._record_refund(uow, order, payment, amount, reason, made.id)
            return None

    async def _record_unrecorded_refunds(
        self, uow: UnitOfWork, order: Order, payment: Payment, listed: list[ProviderRefund]
    ) -> list[Refund]:
        """Record each refund the provider made of the payment that is not recorded here,
        oldest first; refunds that failed or were cancelled gave nothing back and are
        left out."""
        known = {refund.provider_refund_id for refund in payment.refunds}
        recovered = []
        for found in listed:
            if found.id in known or found.failed:
                continue
            log.warning(
                "refund %s (%s, key %s) of order %s was made at the provider but not "
                "recorded (an answer lost, or made outside the shop); recording it",
                found.id,
                found.amount,
                found.idempotency_key,
                order.id,
            )
            recovered.append(
                await self._record_refund(uow, order, payment, found.amount, found.reason, found.id)
            )
        return recovered

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
        return refund
