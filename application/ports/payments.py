"""The payment provider (Stripe in production)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.money import Money
from domain.payments import PaymentOutcome


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """The provider's record of one attempt to collect an order's total."""

    id: str
    client_secret: str | None
    amount: Money
    outcome: PaymentOutcome
    order_id: str | None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """One refund as the provider keeps it. `idempotency_key` is the key it was made
    with (kept with the refund so that it can be found again when its answer was lost;
    None for a refund made some other way, e.g. in the provider's dashboard), `reason`
    the free text it was given."""

    id: str
    amount: Money
    # The refund failed or was cancelled at the provider: no money went back.
    failed: bool
    idempotency_key: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A verified webhook event. `intent` is None for event types we do not act on."""

    id: str
    type: str
    created_at: datetime
    intent: PaymentIntent | None


class PaymentGateway(Protocol):
    """Creates and follows payment intents. Every call that can charge or refund takes an
    idempotency key, so a retry after a timeout never charges or refunds twice: the same
    key with the same parameters replays the first answer. Network and provider failures
    raise `PaymentProviderError`; a key first used with other parameters raises its
    subclass `ProviderKeyReused` (the first call may have taken effect: `list_refunds`
    finds a refund by its key)."""

    @property
    def provider(self) -> str:
        """A short name stored with each payment ("stripe", "local", ...)."""

    async def create_intent(
        self, *, order_id: str, amount: Money, idempotency_key: str
    ) -> PaymentIntent: ...

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent: ...

    async def cancel_intent(self, intent_id: str) -> PaymentIntent: ...

    async def refund(
        self, *, intent_id: str, amount: Money, idempotency_key: str, reason: str | None = None
    ) -> ProviderRefund:
        """Refund `amount` of a succeeded intent; the provider keeps `idempotency_key`
        and `reason` with the refund."""

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        """Every refund of the intent, oldest first, failed ones too, each with the
        idempotency key it was made with."""

    def parse_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        """Verify the signature over the raw body and parse it; raises `InvalidWebhook`."""
