"""The embedded default's payment gateway: no provider, payments complete by themselves.

It behaves like the real flow so the same use cases run: `create_intent` returns a pending
intent, and a moment later a `payment_intent.succeeded` event is delivered to whoever
subscribed (the app wires it to the payment-event use case). Nothing is charged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace

from application.ports.payments import PaymentIntent, ProviderEvent, ProviderRefund
from application.ports.runtime import Clock
from domain.errors import InvalidWebhook, PaymentProviderError, ProviderKeyReused
from domain.money import Money
from domain.payments import PaymentOutcome

log = logging.getLogger(__name__)

EventSink = Callable[[ProviderEvent], Awaitable[object]]


class LocalPaymentGateway:
    provider = "local"

    def __init__(
        self, clock: Clock, *, auto_complete: bool = True, completion_delay_seconds: float = 0.2
    ) -> None:
        self._clock = clock
        self._auto_complete = auto_complete
        self._delay = completion_delay_seconds
        self._intents: dict[str, PaymentIntent] = {}
        self._by_key: dict[str, str] = {}
        self._refunds: dict[str, ProviderRefund] = {}
        self._refunds_of_intent: dict[str, list[ProviderRefund]] = {}
        self._refunded: dict[str, int] = {}
        self._sink: EventSink | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def subscribe(self, sink: EventSink) -> None:
        """Deliver provider events to `sink` (the stand-in for the webhook endpoint)."""
        self._sink = sink

    async def create_intent(
        self, *, order_id: str, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        if idempotency_key in self._by_key:
            intent = self._intents[self._by_key[idempotency_key]]
            if intent.amount != amount:
                raise ProviderKeyReused("idempotency key reused with a different amount")
            return intent
        intent_id = f"pi_local_{secrets.token_hex(12)}"
        intent = PaymentIntent(
            id=intent_id,
            client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
            amount=amount,
            outcome=PaymentOutcome.PENDING,
            order_id=order_id,
        )
        self._intents[intent_id] = intent
        self._by_key[idempotency_key] = intent_id
        if self._auto_complete:
            task = asyncio.create_task(self._complete_later(intent_id))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return intent

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        return self._get(intent_id)

    async def cancel_intent(self, intent_id: str) -> PaymentIntent:
        intent = self._get(intent_id)
        if intent.outcome is PaymentOutcome.PENDING:
            intent = replace(intent, outcome=PaymentOutcome.CANCELLED)
            self._intents[intent_id] = intent
        return intent

    async def refund(
        self, *, intent_id: str, amount: Money, idempotency_key: str, reason: str | None = None
    ) -> ProviderRefund:
        if idempotency_key in self._refunds:
            earlier = self._refunds[idempotency_key]
            if earlier.amount != amount:
                raise ProviderKeyReused("idempotency key reused with a different amount")
            return earlier
        intent = self._get(intent_id)
        already = self._refunded.get(intent_id, 0)
        if intent.outcome is not PaymentOutcome.SUCCEEDED or (
            already + amount.amount > intent.amount.amount
        ):
            raise PaymentProviderError("refund exceeds what this intent captured")
        refund = ProviderRefund(
            id=f"re_local_{secrets.token_hex(12)}",
            amount=amount,
            failed=False,
            idempotency_key=idempotency_key,
            reason=reason,
        )
        self._refunded[intent_id] = already + amount.amount
        self._refunds[idempotency_key] = refund
        self._refunds_of_intent.setdefault(intent_id, []).append(refund)
        return refund

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        self._get(intent_id)
        return list(self._refunds_of_intent.get(intent_id, []))

    def parse_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        raise InvalidWebhook("the local payment gateway receives no webhooks")

    async def complete(self, intent_id: str) -> ProviderEvent:
        """Mark the intent paid and deliver the event now (what the timer does)."""
        intent = self._get(intent_id)
        if intent.outcome is PaymentOutcome.PENDING:
            intent = replace(intent, outcome=PaymentOutcome.SUCCEEDED)
            self._intents[intent_id] = intent
        event = ProviderEvent(
            id=f"evt_local_{secrets.token_hex(12)}",
            type="payment_intent.succeeded",
            created_at=self._clock.now(),
            intent=intent,
        )
        if self._sink is not None:
            await self._sink(event)
        return event

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _complete_later(self, intent_id: str) -> None:
        await asyncio.sleep(self._delay)
        try:
            await self.complete(intent_id)
        except Exception:
            # The reconciliation job asks retrieve_intent later, so nothing is lost.
            log.exception("local payment completion for %s failed", intent_id)

    def _get(self, intent_id: str) -> PaymentIntent:
        try:
            return self._intents[intent_id]
        except KeyError:
            raise PaymentProviderError(f"no such payment intent {intent_id}") from None
