"""Stripe webhook verification and parsing, with events built and signed by the test.

The signature is computed here by hand, as Stripe documents it (HMAC-SHA256 of
"<t>.<raw body>" with the endpoint secret, sent as `t=<t>,v1=<hex>`), so the test does not
lean on the SDK it is checking.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stripe_gateway import StripePaymentGateway
from application.ports.errors import InvalidWebhook
from domain.money import Money
from domain.payments import PaymentOutcome

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"
TOLERANCE = 300


@pytest.fixture
async def gateway() -> AsyncIterator[StripePaymentGateway]:
    gateway = StripePaymentGateway("sk_test_unused", SECRET, webhook_tolerance_seconds=TOLERANCE)
    yield gateway
    await gateway.aclose()


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str = SECRET, *, age: int = 0) -> str:
    timestamp = int(time.time()) - age
    return f"t={timestamp},v1={signature(payload, secret, timestamp)}"


def intent_event(
    event_type: str = "payment_intent.succeeded",
    *,
    status: str = "succeeded",
    last_payment_error: dict[str, Any] | None = None,
    created: int = 1_790_000_000,
) -> dict[str, Any]:
    return {
        "id": "evt_123",
        "object": "event",
        "type": event_type,
        "created": created,
        "api_version": "2025-01-27.acacia",
        "data": {
            "object": {
                "id": "pi_123",
                "object": "payment_intent",
                "amount": 2500,
                "currency": "eur",
                "status": status,
                "client_secret": "pi_123_secret_abc",
                "last_payment_error": last_payment_error,
                "metadata": {"order_id": "ord_7"},
            }
        },
    }


def body(document: Any) -> bytes:
    # Stripe's own bodies are pretty-printed; any exact bytes will do, as long as the
    # signature covers those bytes.
    return json.dumps(document, indent=2).encode()


def test_a_signed_payment_intent_event_is_read_with_its_intent(
    gateway: StripePaymentGateway,
) -> None:
    payload = body(intent_event())
    event = gateway.parse_event(payload, sign(payload))
    assert event.id == "evt_123"
    assert event.type == "payment_intent.succeeded"
    assert event.created_at == datetime.fromtimestamp(1_790_000_000, UTC)
    assert event.intent is not None
    assert event.intent.id == "pi_123"
    assert event.intent.amount == Money(2500, "EUR")
    assert event.intent.outcome is PaymentOutcome.SUCCEEDED
    assert event.intent.order_id == "ord_7"
    assert event.intent.client_secret == "pi_123_secret_abc"


@pytest.mark.parametrize(
    ("event_type", "status", "error", "outcome"),
    [
        (
            "payment_intent.payment_failed",
            "requires_payment_method",
            {"code": "card_declined"},
            PaymentOutcome.FAILED,
        ),
        ("payment_intent.canceled", "canceled", None, PaymentOutcome.CANCELLED),
        ("payment_intent.created", "requires_payment_method", None, PaymentOutcome.PENDING),
        ("payment_intent.processing", "processing", None, PaymentOutcome.PENDING),
        ("payment_intent.requires_action", "requires_action", None, PaymentOutcome.PENDING),
    ],
)
def test_the_outcome_comes_from_the_intent_in_the_event(
    gateway: StripePaymentGateway,
    event_type: str,
    status: str,
    error: dict[str, Any] | None,
    outcome: PaymentOutcome,
) -> None:
    payload = body(intent_event(event_type, status=status, last_payment_error=error))
    event = gateway.parse_event(payload, sign(payload))
    assert event.intent is not None
    assert event.intent.outcome is outcome


def test_other_event_types_carry_no_intent(gateway: StripePaymentGateway) -> None:
    document = {
        "id": "evt_9",
        "object": "event",
        "type": "charge.refunded",
        "created": 1_790_000_000,
        "data": {"object": {"id": "ch_1", "object": "charge", "amount": 100}},
    }
    payload = body(document)
    event = gateway.parse_event(payload, sign(payload))
    assert (event.id, event.type, event.intent) == ("evt_9", "charge.refunded", None)


def test_a_signature_made_with_another_secret_is_refused(
    gateway: StripePaymentGateway,
) -> None:
    payload = body(intent_event())
    with pytest.raises(InvalidWebhook, match="does not match"):
        gateway.parse_event(payload, sign(payload, "whsec_someone_else"))


def test_a_signature_older_than_the_tolerance_is_refused(
    gateway: StripePaymentGateway,
) -> None:
    payload = body(intent_event())
    with pytest.raises(InvalidWebhook, match="tolerance"):
        gateway.parse_event(payload, sign(payload, age=TOLERANCE + 5))


def test_a_signature_just_within_the_tolerance_is_accepted(
    gateway: StripePaymentGateway,
) -> None:
    payload = body(intent_event())
    assert gateway.parse_event(payload, sign(payload, age=TOLERANCE - 30)).id == "evt_123"


def test_a_re_serialised_body_no_longer_matches_its_signature(
    gateway: StripePaymentGateway,
) -> None:
    payload = body(intent_event())
    header = sign(payload)
    same_json_other_bytes = json.dumps(json.loads(payload), separators=(",", ":")).encode()
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(same_json_other_bytes, header)


def test_a_tampered_body_is_refused(gateway: StripePaymentGateway) -> None:
    payload = body(intent_event())
    header = sign(payload)
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(payload.replace(b"2500", b"2"), header)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=notanumber,v1=abc", "v1=abc"])
def test_a_missing_or_malformed_header_is_refused(
    gateway: StripePaymentGateway, header: str | None
) -> None:
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body(intent_event()), header)


def test_a_header_without_a_v1_signature_is_refused(gateway: StripePaymentGateway) -> None:
    payload = body(intent_event())
    timestamp = int(time.time())
    header = f"t={timestamp},v0={signature(payload, SECRET, timestamp)}"
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(payload, header)


def test_any_of_several_v1_signatures_may_match(gateway: StripePaymentGateway) -> None:
    """While a secret is rolled, Stripe signs with the old and the new one."""
    payload = body(intent_event())
    timestamp = int(time.time())
    header = (
        f"t={timestamp},v1={signature(payload, OLD_SECRET, timestamp)},"
        f"v1={signature(payload, SECRET, timestamp)}"
    )
    assert gateway.parse_event(payload, header).id == "evt_123"


@pytest.mark.parametrize(
    "configured", [f"{SECRET},{OLD_SECRET}", f" {SECRET} , {OLD_SECRET} ", [SECRET, OLD_SECRET]]
)
async def test_several_configured_secrets_are_each_accepted(
    configured: str | list[str],
) -> None:
    gateway = StripePaymentGateway("sk_test_unused", configured)
    try:
        payload = body(intent_event())
        for secret in (SECRET, OLD_SECRET):
            assert gateway.parse_event(payload, sign(payload, secret)).id == "evt_123"
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(payload, sign(payload, "whsec_third"))
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2]",
        b'{"object": "event"}',
        body({**intent_event(), "created": "yesterday"}),
        body({**intent_event(), "data": {"object": {"object": "payment_intent"}}}),
        body({**intent_event(), "data": {"object": ["not", "an", "object"]}}),
        body(
            {
                **intent_event(),
                "data": {"object": {**intent_event()["data"]["object"], "currency": "euro"}},
            }
        ),
    ],
    ids=[
        "not-utf8",
        "not-json",
        "not-an-object",
        "no-id",
        "bad-created",
        "intent-without-fields",
        "intent-not-an-object",
        "bad-currency",
    ],
)
def test_a_correctly_signed_but_broken_body_is_refused(
    gateway: StripePaymentGateway, payload: bytes
) -> None:
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(payload, sign(payload))


@pytest.mark.parametrize(
    ("secret", "tolerance"),
    [("", 300), (" , ", 300), ([], 300), (SECRET, 0), (SECRET, -1)],
)
def test_a_gateway_without_a_secret_or_a_positive_tolerance_is_refused(
    secret: str | list[str], tolerance: int
) -> None:
    with pytest.raises(ValueError, match=r"secret|tolerance"):
        StripePaymentGateway("sk_test_unused", secret, webhook_tolerance_seconds=tolerance)
