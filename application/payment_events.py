"""What the payment provider tells us: webhook events, and the state found when we ask it
ourselves (reconciliation). Both go through `_apply_intent`, which only moves forward."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from application.audit import record_audit
from application.payment_flow import PaymentFlow
from application.ports.errors import PaymentProviderError
from application.ports.payments import PaymentGateway, PaymentIntent, ProviderEvent
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.principal import STAFF_ROLES, Principal
from application.refunds import Refunds
from application.transactions import in_transaction
from domain.errors import NotFound
from domain.orders import OrderStatus
from domain.payments import Payment, PaymentOutcome, PaymentStatus

log = logging.getLogger(__name__)


class EventResult(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event id was processed before
    NO_CHANGE = "no_change"  # stale, out of order, or about something we do not track
    REJECTED = "rejected"  # amount or currency differ from the order: not accepted


class PaymentEvents:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        flow: PaymentFlow,
        refunds: Refunds,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._flow = flow
        self._refunds = refunds
        self._clock = clock
        self._ids = ids

    async def handle_webhook(self, payload: bytes, signature_header: str | None) -> EventResult:
        """Verify and apply a provider webhook (raises InvalidWebhook before touching
        anything if the signature is bad or stale)."""
        event = self._gateway.parse_event(payload, signature_header)
        return await self.apply_event(event)

    async def apply_event(self, event: ProviderEvent) -> EventResult:
        """Apply a verified event at most once: its id is recorded in the same transaction
        as its effect, so a duplicate delivery (even a concurrent one) changes nothing."""
        intent = event.intent

        async def apply(uow: UnitOfWork) -> EventResult:
            if not await uow.processed_events.add(
                self._gateway.provider, event.id, self._clock.now()
            ):
                return EventResult.DUPLICATE
            if intent is None:
                return EventResult.NO_CHANGE
            return await self._apply_intent(uow, intent)

        return await in_transaction(self._uow_factory, apply)

    async def reconcile_pending(self, older_than: timedelta, limit: int = 100) -> int:
        """Ask the provider about payments still pending after `older_than` (and declined
        ones of orders still unpaid), and apply what it says; start the intents that never
        got created. Returns how many changed."""
        cutoff = self._clock.now() - older_than
        async with self._uow_factory() as uow:
            pending = await uow.payments.list_pending_created_before(cutoff, limit)
            # A declined payment may still succeed (the customer retries the same intent),
            # and that success's webhook can be lost too: without this, the order would
            # expire and the customer's money would stay with us until a webhook retry.
            for order_id in await uow.orders.list_pending_placed_before(cutoff, limit):
                payment = await uow.payments.get_for_order(order_id)
                if payment is not None and payment.status is PaymentStatus.FAILED:
                    pending.append(payment)
        changed = 0
        for payment in pending:
            try:
                changed += await self._reconcile(payment)
            except PaymentProviderError:
                log.warning("provider unavailable while reconciling payment %s", payment.id)
                break
        return changed

    async def reconcile_order(self, actor: Principal, order_id: str) -> bool:
        """Ask the provider now about one order's payment and apply what it says (staff,
        the admin CLI); True if something changed."""
        actor.require(STAFF_ROLES)
        async with self._uow_factory() as uow:
            payment = await uow.payments.get_for_order(order_id)
        if payment is None:
            raise NotFound("payment for order", order_id)
        return bool(await self._reconcile(payment))

    async def _reconcile(self, payment: Payment) -> int:
        if payment.intent_id is None:
            started = await self._flow.start_payment(payment.order_id)
            return int(started.intent_id is not None)
        intent = await self._gateway.retrieve_intent(payment.intent_id)

        async def apply(uow: UnitOfWork) -> EventResult:
            return await self._apply_intent(uow, intent)

        return int(await in_transaction(self._uow_factory, apply) is EventResult.APPLIED)

    async def _apply_intent(self, uow: UnitOfWork, intent: PaymentIntent) -> EventResult:
        payment = await uow.payments.get_by_intent(intent.id, for_update=True)
        if payment is None and intent.order_id is not None:
            # The event can overtake the commit that attached the intent; waiting on the
            # order's payment row lets that commit land first.
            payment = await uow.payments.get_for_order(intent.order_id, for_update=True)
            if payment is not None and payment.intent_id not in (None, intent.id):
                payment = None
        if payment is None:
            log.warning("provider event for unknown intent %s ignored", intent.id)
            return EventResult.NO_CHANGE
        if intent.outcome is PaymentOutcome.SUCCEEDED and intent.amount != payment.amount:
            log.error(
                "intent %s reports %s but payment %s is for %s: not accepted",
                intent.id,
                intent.amount,
                payment.id,
                payment.amount,
            )
            return EventResult.REJECTED
        now = self._clock.now()
        attached = payment.intent_id is None
        if attached:
            # The provider created this intent but its answer to us was lost (a timeout):
            # without the id, a payment that succeeds could never be refunded.
            payment.attach_intent(intent.id, intent.client_secret, now)
        if not payment.apply_outcome(intent.outcome, now):
            if attached:
                await uow.payments.save(payment)
            return EventResult.NO_CHANGE
        await uow.payments.save(payment)
        order = await uow.orders.get(payment.order_id, for_update=True)
        if order is None:
            return EventResult.APPLIED
        if intent.outcome is PaymentOutcome.SUCCEEDED:
            if order.status is OrderStatus.PENDING:
                order.mark_paid(intent.amount, now)
                await uow.orders.save(order)
                await record_audit(
                    uow,
                    self._ids,
                    self._clock,
                    None,
                    "order.paid",
                    ("order", order.id),
                    {"status": order.status.value, "amount": str(intent.amount)},
                )
            elif order.status is OrderStatus.CANCELLED:
                await self._refunds.refund_late_payment(uow, order, intent.amount)
        return EventResult.APPLIED
