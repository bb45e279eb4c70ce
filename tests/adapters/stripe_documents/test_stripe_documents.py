"""Stripe's documents as written for the in-memory double read back as the Stripe gateway
reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.stripe_documents.events import (
    PAYMENT_FAILED,
    event_from_body,
    event_from_stripe,
    event_to_stripe,
)
from adapters.stripe_documents.intents import intent_from_stripe, intent_to_stripe
from application.ports.errors import InvalidWebhook
from application.ports.payments import PaymentIntent, ProviderEvent
from domain.money import Money
from domain.payments import PaymentOutcome

INTENT = PaymentIntent(
    id="pi_1",
    client_secret="pi_1_secret_2",
    amount=Money(25_00, "EUR"),
    outcome=PaymentOutcome.PENDING,
    order_id="order-1",
)
AT = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("outcome", list(PaymentOutcome))
def test_an_intent_written_in_each_state_reads_back_in_that_state(
    outcome: PaymentOutcome,
) -> None:
    document = intent_to_stripe(INTENT, outcome=outcome)
    assert (document["object"], document["currency"]) == ("payment_intent", "eur")
    read = intent_from_stripe(document)
    assert read.outcome is outcome
    assert (read.id, read.client_secret, read.amount, read.order_id) == (
        "pi_1",
        "pi_1_secret_2",
        Money(25_00, "EUR"),
        "order-1",
    )


def test_a_failure_event_carries_a_declined_intent_whatever_the_intent_said() -> None:
    document = event_to_stripe(ProviderEvent("evt_1", PAYMENT_FAILED, AT, INTENT))
    assert document["data"]["object"]["status"] == "requires_payment_method"
    assert document["data"]["object"]["last_payment_error"] == {"code": "card_declined"}
    event = event_from_stripe(document)
    assert event.intent is not None
    assert event.intent.outcome is PaymentOutcome.FAILED
    assert (event.id, event.type, event.created_at) == ("evt_1", PAYMENT_FAILED, AT)


def test_an_event_without_an_intent_has_an_empty_object_and_reads_back_without_one() -> None:
    document = event_to_stripe(ProviderEvent("evt_2", "customer.created", AT, None))
    assert document["data"] == {"object": {}}
    assert event_from_stripe(document) == ProviderEvent("evt_2", "customer.created", AT, None)


@pytest.mark.parametrize("body", [b"", b"[]", b'{"object": "event"}', b"\xff"])
def test_a_body_that_is_not_an_event_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidWebhook, match="malformed webhook body"):
        event_from_body(body)
