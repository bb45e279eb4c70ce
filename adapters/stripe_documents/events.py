"""Stripe's Event JSON, as webhooks carry it: read into a `ProviderEvent`, and written
from one (what the in-memory double sends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.stripe_documents.intents import intent_from_stripe, intent_to_stripe
from application.ports.errors import InvalidWebhook
from application.ports.payments import ProviderEvent
from domain.errors import InvalidValue
from domain.payments import PaymentOutcome

PAYMENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
PAYMENT_CANCELED = "payment_intent.canceled"

# The event types that report an intent's outcome, and the outcome each reports.
OUTCOME_OF_EVENT = {
    PAYMENT_SUCCEEDED: PaymentOutcome.SUCCEEDED,
    PAYMENT_FAILED: PaymentOutcome.FAILED,
    PAYMENT_CANCELED: PaymentOutcome.CANCELLED,
}
EVENT_OF_OUTCOME = {outcome: name for name, outcome in OUTCOME_OF_EVENT.items()}


def event_from_body(body: str | bytes) -> ProviderEvent:
    """Read a verified webhook body, as `event_from_stripe`; raises InvalidWebhook if it
    is not a Stripe event."""
    try:
        return event_from_stripe(json.loads(body))
    except (ValueError, KeyError, TypeError, OverflowError, OSError, InvalidValue) as exc:
        raise InvalidWebhook(f"malformed webhook body: {exc}") from None


def event_from_stripe(document: Any) -> ProviderEvent:
    """Read a verified event body (already parsed from JSON). `payment_intent.*` events
    carry the intent as it was when the event happened; other types are returned with
    `intent=None`. Raises KeyError, TypeError, ValueError, OverflowError, OSError or
    InvalidValue if it is not an event."""
    if not isinstance(document, dict) or document.get("object") != "event":
        raise TypeError("the body is not a Stripe event")
    event_id, event_type, created = document["id"], document["type"], document["created"]
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise TypeError("event id and type must be strings")
    if isinstance(created, bool) or not isinstance(created, int):
        raise TypeError("event created must be a Unix time")
    intent = None
    if event_type.startswith("payment_intent."):
        intent = intent_from_stripe(document["data"]["object"])
    return ProviderEvent(
        id=event_id,
        type=event_type,
        created_at=datetime.fromtimestamp(created, UTC),
        intent=intent,
    )


def event_to_stripe(event: ProviderEvent) -> dict[str, Any]:
    """The Event document Stripe would send for `event`, its intent in the state the
    event reports (a `payment_intent.payment_failed` event carries a declined intent,
    whatever the intent's outcome was); `data.object` is empty without an intent."""
    body: dict[str, Any] = {}
    if event.intent is not None:
        outcome = OUTCOME_OF_EVENT.get(event.type, event.intent.outcome)
        body = intent_to_stripe(event.intent, outcome=outcome)
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "data": {"object": body},
    }
