"""Stripe webhooks: the `Stripe-Signature` check (the body is read by
`adapters.stripe_documents.events.event_from_body`)."""

from __future__ import annotations

from collections.abc import Sequence

import stripe

from application.ports.errors import InvalidWebhook


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
