"""The fake's test controls; the contract covers its behaviour as a gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.system.clock import FixedClock
from application.ports.errors import InvalidWebhook, PaymentProviderError
from domain.money import Money
from domain.payments import PaymentOutcome

TOTAL = Money(20_00, "USD")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def gateway(clock: FixedClock) -> FakePaymentGateway:
    return FakePaymentGateway(clock)


async def test_counters_tell_calls_from_intents(gateway: FakePaymentGateway) -> None:
    for _ in range(3):
        await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="order:o-1")
    assert gateway.create_intent_calls == 3
    assert gateway.intents_created == 1
    assert gateway.provider == "fake"


async def test_a_lost_response_followed_by_a_retry_never_makes_two_intents(
    gateway: FakePaymentGateway,
) -> None:
    gateway.lose_next_response()
    with pytest.raises(PaymentProviderError, match="timed out"):
        await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="order:o-1")
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="order:o-1")
    assert gateway.intents_created == 1
    assert intent.outcome is PaymentOutcome.PENDING


async def test_a_provider_that_comes_back_serves_again(gateway: FakePaymentGateway) -> None:
    gateway.go_down()
    with pytest.raises(PaymentProviderError, match="unreachable"):
        await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="order:o-1")
    gateway.come_back()
    await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="order:o-1")
    assert gateway.intents_created == 1


async def test_an_event_from_a_test_control_survives_the_webhook_round_trip(
    gateway: FakePaymentGateway,
) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    event = gateway.succeed(intent.id)
    payload = gateway.event_payload(event)
    assert gateway.parse_event(payload, gateway.sign(payload)) == event
    assert event.intent is not None
    assert event.intent.outcome is PaymentOutcome.SUCCEEDED
    assert gateway.events == [event]


async def test_a_declined_customer_may_retry_and_succeed(gateway: FakePaymentGateway) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    failed = gateway.fail(intent.id)
    succeeded = gateway.succeed(intent.id)
    assert failed.type == "payment_intent.payment_failed"
    assert succeeded.type == "payment_intent.succeeded"
    assert failed.id != succeeded.id


async def test_a_cancelled_intent_cannot_be_paid(gateway: FakePaymentGateway) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    await gateway.cancel_intent(intent.id)
    assert gateway.events[-1].type == "payment_intent.canceled"
    with pytest.raises(ValueError, match="cancelled"):
        gateway.succeed(intent.id)


async def test_reusing_an_intent_key_for_another_order_is_refused(
    gateway: FakePaymentGateway,
) -> None:
    await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    with pytest.raises(PaymentProviderError, match="other parameters"):
        await gateway.create_intent(order_id="o-2", amount=TOTAL, idempotency_key="k")


async def test_nothing_is_collected_for_a_zero_amount(gateway: FakePaymentGateway) -> None:
    with pytest.raises(PaymentProviderError, match="non-positive"):
        await gateway.create_intent(order_id="o-1", amount=Money(0, "USD"), idempotency_key="k")


async def test_a_refund_in_another_currency_is_refused(gateway: FakePaymentGateway) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    gateway.succeed(intent.id)
    with pytest.raises(PaymentProviderError, match="cannot refund"):
        await gateway.refund(intent_id=intent.id, amount=Money(1_00, "EUR"), idempotency_key="r")


async def test_a_webhook_signed_with_another_secret_is_refused(
    gateway: FakePaymentGateway, clock: FixedClock
) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    payload = gateway.event_payload(gateway.succeed(intent.id))
    impostor = FakePaymentGateway(clock, webhook_secret="whsec_someone_else")
    with pytest.raises(InvalidWebhook, match="does not match"):
        gateway.parse_event(payload, impostor.sign(payload))


async def test_a_webhook_signed_in_the_future_is_refused(
    gateway: FakePaymentGateway, clock: FixedClock
) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    payload = gateway.event_payload(gateway.succeed(intent.id))
    header = gateway.sign(payload, at=clock.now() + timedelta(hours=1))
    with pytest.raises(InvalidWebhook, match="tolerance"):
        gateway.parse_event(payload, header)


async def test_a_webhook_within_the_tolerance_is_accepted(
    gateway: FakePaymentGateway, clock: FixedClock
) -> None:
    intent = await gateway.create_intent(order_id="o-1", amount=TOTAL, idempotency_key="k")
    payload = gateway.event_payload(gateway.succeed(intent.id))
    header = gateway.sign(payload)
    clock.advance(timedelta(minutes=5))
    assert gateway.parse_event(payload, header).id == gateway.events[-1].id
