"""A payment provider in memory, steered by the test; the double for Stripe."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from adapters.stripe_documents.events import EVENT_OF_OUTCOME, event_from_body, event_to_stripe
from application.ports.errors import InvalidWebhook, PaymentProviderError, ProviderKeyReused
from application.ports.payments import PaymentIntent, ProviderEvent, ProviderRefund
from application.ports.runtime import Clock
from domain.money import Money
from domain.payments import PaymentOutcome

T = TypeVar("T")

PROVIDER = "fake"
# A fake provider's well-known secret, so that tests can sign webhooks; not a credential.
DEFAULT_WEBHOOK_SECRET = "whsec_fake_test_secret"


@dataclass(slots=True)
class _Intent:
    id: str
    client_secret: str
    order_id: str
    amount: Money
    outcome: PaymentOutcome
    refunded: Money

    def snapshot(self) -> PaymentIntent:
        return PaymentIntent(
            id=self.id,
            client_secret=self.client_secret,
            amount=self.amount,
            outcome=self.outcome,
            order_id=self.order_id,
        )


@dataclass(frozen=True, slots=True)
class _Request:
    """What an idempotency key was first used for; a retry must ask the same."""

    target: str
    amount: Money
    reason: str | None = None


class FakePaymentGateway:
    """The `PaymentGateway` port with intents in a dict, and controls for the test.

    Like Stripe: `create_intent` and `refund` are idempotent per key (the same key with
    other parameters, a refund's reason included, is refused with `ProviderKeyReused`),
    a refund may not exceed what was captured, cancelling a succeeded intent is refused
    (cancelling a cancelled one returns it unchanged), each refund keeps its key and
    reason (`list_refunds`).
    Webhooks are Stripe's JSON documents, written and read as the Stripe gateway reads
    them (`adapters.stripe_documents`), signed Stripe-style (`t=<unix>,v1=<HMAC-SHA256 of
    "<t>.<payload>">`), checked against the clock with `webhook_tolerance`.

    Test controls: `succeed(intent_id)` / `fail(intent_id)` play the customer and return
    the event the provider would send (its webhook body is `event_payload(event)`, its
    header `sign(body)`); `go_down()` / `come_back()` make every provider call raise
    `PaymentProviderError`; `lose_next_response()` lets the next call take effect and
    then raise, as a timeout after the provider acted would (a refund is then made at the
    provider but its answer never reaches the caller). `create_intent_calls`
    counts calls, `intents_created` distinct intents, `events` lists emitted events.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhook_tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        self._clock = clock
        self._secret = webhook_secret.encode("utf-8")
        self._tolerance = webhook_tolerance
        self._intents: dict[str, _Intent] = {}
        self._intent_keys: dict[str, tuple[_Request, str]] = {}
        self._refund_keys: dict[str, tuple[_Request, ProviderRefund]] = {}
        self._refunds: dict[str, list[ProviderRefund]] = {}
        self._down = False
        self._lose_next_response = False
        self._serial = 0
        self.create_intent_calls = 0
        self.events: list[ProviderEvent] = []

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def intents_created(self) -> int:
        return len(self._intents)

    # -- the port ------------------------------------------------------------------

    async def create_intent(
        self, *, order_id: str, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        self.create_intent_calls += 1
        self._check_up()
        request = _Request(order_id, amount)
        if idempotency_key in self._intent_keys:
            first_request, intent_id = self._intent_keys[idempotency_key]
            if first_request != request:
                raise ProviderKeyReused(
                    f"idempotency key {idempotency_key!r} was used with other parameters"
                )
            return self._respond(self._intents[intent_id].snapshot())
        if not amount.is_positive:
            raise PaymentProviderError(f"cannot collect a non-positive amount ({amount})")
        intent_id = self._new_id("pi")
        self._intents[intent_id] = _Intent(
            id=intent_id,
            client_secret=f"{intent_id}_secret_{self._serial}",
            order_id=order_id,
            amount=amount,
            outcome=PaymentOutcome.PENDING,
            refunded=Money.zero(amount.currency),
        )
        self._intent_keys[idempotency_key] = (request, intent_id)
        return self._respond(self._intents[intent_id].snapshot())

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        self._check_up()
        return self._respond(self._intent(intent_id).snapshot())

    async def cancel_intent(self, intent_id: str) -> PaymentIntent:
        self._check_up()
        intent = self._intent(intent_id)
        if intent.outcome is PaymentOutcome.SUCCEEDED:
            raise PaymentProviderError(f"intent {intent_id} has succeeded; refund it instead")
        if intent.outcome is not PaymentOutcome.CANCELLED:
            intent.outcome = PaymentOutcome.CANCELLED
            self._emit(intent)
        return self._respond(intent.snapshot())

    async def refund(
        self, *, intent_id: str, amount: Money, idempotency_key: str, reason: str | None = None
    ) -> ProviderRefund:
        self._check_up()
        request = _Request(intent_id, amount, reason)
        if idempotency_key in self._refund_keys:
            first_request, refund = self._refund_keys[idempotency_key]
            if first_request != request:
                raise ProviderKeyReused(
                    f"idempotency key {idempotency_key!r} was used with other parameters"
                )
            return self._respond(refund)
        intent = self._intent(intent_id)
        if intent.outcome is not PaymentOutcome.SUCCEEDED:
            raise PaymentProviderError(f"intent {intent_id} has not succeeded; nothing to refund")
        if amount.currency != intent.amount.currency or not amount.is_positive:
            raise PaymentProviderError(f"cannot refund {amount} of a {intent.amount} payment")
        if intent.refunded + amount > intent.amount:
            raise PaymentProviderError(
                f"refund of {amount} exceeds the {intent.amount - intent.refunded} "
                f"left on intent {intent_id}"
            )
        intent.refunded = intent.refunded + amount
        refund = ProviderRefund(
            id=self._new_id("re"),
            amount=amount,
            failed=False,
            idempotency_key=idempotency_key,
            reason=reason,
        )
        self._refund_keys[idempotency_key] = (request, refund)
        self._refunds.setdefault(intent_id, []).append(refund)
        return self._respond(refund)

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        self._check_up()
        self._intent(intent_id)
        # A read: a lost answer only matters for calls that change something.
        return list(self._refunds.get(intent_id, []))

    def parse_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        self._verify_signature(payload, signature_header)
        return event_from_body(payload)

    # -- test controls -------------------------------------------------------------

    def succeed(self, intent_id: str) -> ProviderEvent:
        """The customer pays: the intent succeeds. Returns the provider's event."""
        intent = self._intent(intent_id)
        if intent.outcome is PaymentOutcome.CANCELLED:
            raise ValueError(f"intent {intent_id} was cancelled and cannot succeed")
        intent.outcome = PaymentOutcome.SUCCEEDED
        return self._emit(intent)

    def fail(self, intent_id: str) -> ProviderEvent:
        """The customer's payment is declined (they may still retry and succeed)."""
        intent = self._intent(intent_id)
        if intent.outcome in (PaymentOutcome.SUCCEEDED, PaymentOutcome.CANCELLED):
            raise ValueError(f"intent {intent_id} is {intent.outcome} and cannot fail")
        intent.outcome = PaymentOutcome.FAILED
        return self._emit(intent)

    def go_down(self) -> None:
        self._down = True

    def come_back(self) -> None:
        self._down = False

    def lose_next_response(self) -> None:
        """The next call is carried out (an intent made, a refund given) but its answer
        never arrives: the caller sees a timeout. Listing refunds does not count."""
        self._lose_next_response = True

    def forget_idempotency_keys(self) -> None:
        """What Stripe does a day after a key's first use: the key may be used afresh."""
        self._intent_keys.clear()
        self._refund_keys.clear()

    def refund_in_dashboard(self, intent_id: str, amount: Money) -> ProviderRefund:
        """A refund made at the provider without the shop (no idempotency key)."""
        intent = self._intent(intent_id)
        if intent.refunded + amount > intent.amount:
            raise ValueError(f"refund of {amount} exceeds what is left on {intent_id}")
        intent.refunded = intent.refunded + amount
        refund = ProviderRefund(
            id=self._new_id("re"), amount=amount, failed=False, idempotency_key=None, reason=None
        )
        self._refunds.setdefault(intent_id, []).append(refund)
        return refund

    def fail_refund(self, refund_id: str) -> None:
        """The refund fails at the bank after it was made: its money stays with the shop."""
        for intent_id, refunds in self._refunds.items():
            for index, refund in enumerate(refunds):
                if refund.id == refund_id:
                    refunds[index] = dataclasses.replace(refund, failed=True)
                    intent = self._intent(intent_id)
                    intent.refunded = intent.refunded - refund.amount
                    return
        raise KeyError(refund_id)

    def event_payload(self, event: ProviderEvent) -> bytes:
        """The webhook body the provider would POST for `event`."""
        return json.dumps(event_to_stripe(event), separators=(",", ":")).encode()

    def sign(self, payload: bytes, *, at: datetime | None = None) -> str:
        """A valid signature header for `payload`, timestamped `at` (default: now)."""
        timestamp = int((at or self._clock.now()).timestamp())
        return f"t={timestamp},v1={self._signature(timestamp, payload)}"

    # -- internals -----------------------------------------------------------------

    def _check_up(self) -> None:
        if self._down:
            raise PaymentProviderError("the payment provider is unreachable")

    def _respond(self, response: T) -> T:
        if self._lose_next_response:
            self._lose_next_response = False
            raise PaymentProviderError("the payment provider timed out")
        return response

    def _new_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}_fake_{self._serial}"

    def _intent(self, intent_id: str) -> _Intent:
        intent = self._intents.get(intent_id)
        if intent is None:
            raise PaymentProviderError(f"no such payment intent: {intent_id}")
        return intent

    def _emit(self, intent: _Intent) -> ProviderEvent:
        now = self._clock.now().replace(microsecond=0)  # webhooks carry whole seconds
        event = ProviderEvent(
            id=self._new_id("evt"),
            type=EVENT_OF_OUTCOME[intent.outcome],
            created_at=now,
            intent=intent.snapshot(),
        )
        self.events.append(event)
        return event

    def _signature(self, timestamp: int, payload: bytes) -> str:
        signed = str(timestamp).encode() + b"." + payload
        return hmac.new(self._secret, signed, hashlib.sha256).hexdigest()

    def _verify_signature(self, payload: bytes, header: str | None) -> None:
        if not header:
            raise InvalidWebhook("missing signature header")
        parts = [item.partition("=") for item in header.split(",")]
        timestamps = [value for name, _, value in parts if name.strip() == "t"]
        signatures = [value for name, _, value in parts if name.strip() == "v1"]
        if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
            raise InvalidWebhook("malformed signature header")
        timestamp = int(timestamps[0])
        expected = self._signature(timestamp, payload)
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise InvalidWebhook("signature does not match the payload")
        age = self._clock.now().timestamp() - timestamp
        if abs(age) > self._tolerance.total_seconds():
            raise InvalidWebhook("signature timestamp is outside the tolerance")
