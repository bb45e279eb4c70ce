"""Stripe webhooks: the `Stripe-Signature` check and the event body."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import stripe

from adapters.stripe_gateway.intents import intent_from_stripe
from application.ports.payments import ProviderEvent
from domain.errors import InvalidValue, InvalidWebhook


def webhook_secrets(configured: str | Sequence[str]) -> tuple[str, ...]:
    """The signing secrets to accept: one, or several while rotating one (given as a
    sequence or as a comma-separated string, e.g. "whsec_new,whsec_old")."""
    items = configured.split(",") if isinstance(configured, str) else list(configured)
    secrets = tuple(item.strip() for item in items if item.strip())
    if not secrets:
        raise ValueError("a Stripe webhook secret is required")
    return secrets


def verify_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], tolerance_seconds: int
) -> str:
    """Check the `Stripe-Signature` header over the raw body with the SDK's own
    `WebhookSignature.verify_header`: `t=<unix>,v1=<HMAC-SHA256("<t>.<body>")>[,v1=...]`.

    Any `v1` entry may match (Stripe sends one per active secret while one is rolled) and
    any of our `secrets` may have made it. Rejects a timestamp older than the tolerance.
    Returns the body as text; raises InvalidWebhook.
    """
    if not header:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhook("webhook body is not UTF-8") from None
    stale = False
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance_seconds)
        except stripe.SignatureVerificationError as exc:
            # The SDK checks the signature before the age: a stale error means it matched.
            stale = stale or "tolerance" in str(exc)
            continue
        return text
    if stale:
        raise InvalidWebhook("signature timestamp is older than the tolerance")
    raise InvalidWebhook("signature does not match the payload")


def event_from_json(text: str) -> ProviderEvent:
    """Read a verified event body. `payment_intent.*` events carry the intent as it was
    when the event happened; other types are returned with `intent=None`."""
    try:
        return _event(json.loads(text))
    except (ValueError, KeyError, TypeError, OverflowError, OSError, InvalidValue) as exc:
        raise InvalidWebhook(f"malformed webhook body: {exc}") from None


def _event(document: Any) -> ProviderEvent:
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
