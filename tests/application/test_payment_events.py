"""What the payment provider tells us, by webhook or when asked (reconciliation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from application.orders import PlacedOrder
from application.payment_events import EventResult
from application.ports.errors import InvalidWebhook, PaymentProviderError
from application.ports.payments import PaymentIntent, ProviderEvent
from application.ports.persistence import OrderQuery, PageRequest
from domain.catalog import Product
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentOutcome, PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    PAYMENT_TIMEOUT,
    RECONCILE_AFTER,
    Account,
    CartFiller,
    OrderPlacer,
    clock,
    gateway,
    outbox_events,
    pay,
    stock_of,
)

EVERY_ORDER = OrderQuery(page=PageRequest(limit=100))


async def _order_status(shop: Container, who: Account, placed: PlacedOrder) -> OrderStatus:
    return (await shop.orders().get_order(who.principal, placed.order.id)).status


async def _payment_status(shop: Container, who: Account, placed: PlacedOrder) -> PaymentStatus:
    [payment] = await shop.orders().list_payments(who.principal, placed.order.id)
    return payment.status


def _event_like(
    event: ProviderEvent, event_id: str, *, outcome: PaymentOutcome | None = None, **intent: object
) -> ProviderEvent:
    """A provider event about the same intent as `event`, with some facts changed."""
    assert event.intent is not None
    changed = replace(event.intent, **intent)  # type: ignore[arg-type]
    if outcome is not None:
        changed = replace(changed, outcome=outcome)
        event_type = {
            PaymentOutcome.SUCCEEDED: "payment_intent.succeeded",
            PaymentOutcome.FAILED: "payment_intent.payment_failed",
            PaymentOutcome.CANCELLED: "payment_intent.canceled",
        }[outcome]
        return ProviderEvent(event_id, event_type, event.created_at, changed)
    return ProviderEvent(event_id, event.type, event.created_at, changed)


# --- webhook events ------------------------------------------------------------------------


async def test_payment_success_marks_the_order_paid(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    result = await pay(shop, placed_order)

    assert result is EventResult.APPLIED
    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PAID
    assert order.refundable_amount == Money(2400, "USD")
    assert await _payment_status(shop, customer, placed_order) is PaymentStatus.COMPLETED
    [paid] = await outbox_events(shop, "order_paid")
    assert paid["order_id"] == placed_order.order.id
    assert paid["amount"] == 2400


async def test_the_same_event_twice_is_applied_once(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    assert placed_order.payment.intent_id is not None
    event = gateway(shop).succeed(placed_order.payment.intent_id)

    first = await shop.payment_events().apply_event(event)
    second = await shop.payment_events().apply_event(event)

    assert (first, second) == (EventResult.APPLIED, EventResult.DUPLICATE)
    assert len(await outbox_events(shop, "order_paid")) == 1
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID


async def test_a_signed_webhook_is_verified_and_applied_once(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    body = fake.event_payload(fake.succeed(placed_order.payment.intent_id))

    first = await shop.payment_events().handle_webhook(body, fake.sign(body))
    second = await shop.payment_events().handle_webhook(body, fake.sign(body))

    assert (first, second) == (EventResult.APPLIED, EventResult.DUPLICATE)
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID


@pytest.mark.parametrize("signature", [None, "", "t=1,v1=deadbeef", "garbage"])
async def test_a_webhook_with_a_bad_signature_changes_nothing(
    shop: Container, customer: Account, placed_order: PlacedOrder, signature: str | None
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    body = fake.event_payload(fake.succeed(placed_order.payment.intent_id))

    with pytest.raises(InvalidWebhook):
        await shop.payment_events().handle_webhook(body, signature)

    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING


async def test_a_stale_or_tampered_webhook_is_refused(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    body = fake.event_payload(fake.succeed(placed_order.payment.intent_id))
    stale = fake.sign(body, at=clock(shop).now() - timedelta(minutes=10))
    tampered = body.replace(b'"amount":2400', b'"amount":1')

    with pytest.raises(InvalidWebhook):
        await shop.payment_events().handle_webhook(body, stale)
    with pytest.raises(InvalidWebhook):
        await shop.payment_events().handle_webhook(tampered, fake.sign(body))

    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING


async def test_a_declined_payment_leaves_the_order_pending_and_may_be_retried(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    intent_id = placed_order.payment.intent_id
    assert intent_id is not None

    declined = await shop.payment_events().apply_event(fake.fail(intent_id))

    assert declined is EventResult.APPLIED
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING
    assert await _payment_status(shop, customer, placed_order) is PaymentStatus.FAILED
    [failed] = await outbox_events(shop, "payment_failed")
    assert failed["order_id"] == placed_order.order.id

    assert await shop.payment_events().apply_event(fake.succeed(intent_id)) is EventResult.APPLIED
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID


async def test_a_late_failure_after_success_leaves_the_order_paid(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    assert placed_order.payment.intent_id is not None
    success = gateway(shop).succeed(placed_order.payment.intent_id)
    late_failure = _event_like(success, "evt_late_failure", outcome=PaymentOutcome.FAILED)
    await shop.payment_events().apply_event(success)

    result = await shop.payment_events().apply_event(late_failure)

    assert result is EventResult.NO_CHANGE
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID
    assert await _payment_status(shop, customer, placed_order) is PaymentStatus.COMPLETED
    assert await outbox_events(shop, "payment_failed") == []


async def test_failure_delivered_after_success_out_of_order_changes_nothing(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    intent_id = placed_order.payment.intent_id
    assert intent_id is not None
    failure = fake.fail(intent_id)
    success = fake.succeed(intent_id)

    assert await shop.payment_events().apply_event(success) is EventResult.APPLIED
    assert await shop.payment_events().apply_event(failure) is EventResult.NO_CHANGE

    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID


@pytest.mark.parametrize(
    "paid", [Money(2399, "USD"), Money(2401, "USD"), Money(2400, "EUR")], ids=str
)
async def test_a_success_for_the_wrong_amount_is_rejected(
    shop: Container, customer: Account, placed_order: PlacedOrder, paid: Money
) -> None:
    assert placed_order.payment.intent_id is not None
    genuine = gateway(shop).succeed(placed_order.payment.intent_id)
    wrong = _event_like(genuine, "evt_wrong_amount", amount=paid)

    result = await shop.payment_events().apply_event(wrong)

    assert result is EventResult.REJECTED
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING
    assert await _payment_status(shop, customer, placed_order) is PaymentStatus.PENDING
    assert await outbox_events(shop, "order_paid") == []


async def test_an_event_about_an_unknown_intent_changes_nothing(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    assert placed_order.payment.intent_id is not None
    genuine = gateway(shop).succeed(placed_order.payment.intent_id)
    stranger = _event_like(genuine, "evt_stranger", id="pi_someone_else", order_id=None)

    assert await shop.payment_events().apply_event(stranger) is EventResult.NO_CHANGE
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING


async def test_an_event_without_an_intent_is_recorded_and_ignored(shop: Container) -> None:
    event = ProviderEvent("evt_other", "customer.created", clock(shop).now(), None)

    first = await shop.payment_events().apply_event(event)
    second = await shop.payment_events().apply_event(event)

    assert (first, second) == (EventResult.NO_CHANGE, EventResult.DUPLICATE)


async def test_a_payment_after_expiry_is_refunded_automatically(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    # The customer pays at the last second; the webhook arrives after the order expired
    # (the provider refused to cancel an intent that had already succeeded).
    assert placed_order.payment.intent_id is not None
    late = gateway(shop).succeed(placed_order.payment.intent_id)
    clock(shop).advance(PAYMENT_TIMEOUT * 2)
    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 1

    result = await shop.payment_events().apply_event(late)

    assert result is EventResult.APPLIED
    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.CANCELLED
    assert order.refunded_amount == Money(2400, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, placed_order.order.id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [refund.amount for refund in payment.refunds] == [Money(2400, "USD")]
    assert [e["amount"] for e in await outbox_events(shop, "order_refunded")] == [2400]
    assert await outbox_events(shop, "order_paid") == []
    assert await stock_of(shop, mug) == 5


async def test_a_late_payment_is_retried_if_the_refund_fails(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    late = fake.succeed(placed_order.payment.intent_id)
    clock(shop).advance(PAYMENT_TIMEOUT * 2)
    await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT)
    fake.go_down()

    with pytest.raises(PaymentProviderError):
        await shop.payment_events().apply_event(late)
    fake.come_back()
    retried = await shop.payment_events().apply_event(late)

    assert retried is EventResult.APPLIED
    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.refunded_amount == Money(2400, "USD")


async def test_a_success_for_an_intent_whose_creation_answer_was_lost_is_refundable(
    shop: Container,
    customer: Account,
    admin: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    fake = gateway(shop)
    await cart_with((mug, 2))
    fake.lose_next_response()
    with pytest.raises(PaymentProviderError):
        await place(key="checkout-1")
    [order] = (await shop.orders().list_orders(customer.principal, EVERY_ORDER)).items
    # The provider did create the intent; its answer never reached us.
    intent = await fake.create_intent(
        order_id=order.id, amount=order.total_amount, idempotency_key=f"order:{order.id}"
    )

    assert await shop.payment_events().apply_event(fake.succeed(intent.id)) is (EventResult.APPLIED)

    refunded = await shop.refunds().refund_order(admin.principal, order.id)
    assert refunded.refunded_amount == Money(2400, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, order.id)
    assert payment.intent_id == intent.id
    assert payment.status is PaymentStatus.REFUNDED


# --- reconciliation ------------------------------------------------------------------------


async def test_reconciliation_repairs_a_lost_webhook(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    assert placed_order.payment.intent_id is not None
    lost = gateway(shop).succeed(placed_order.payment.intent_id)  # never delivered
    clock(shop).advance(RECONCILE_AFTER + timedelta(seconds=1))

    changed = await shop.payment_events().reconcile_pending(RECONCILE_AFTER)

    assert changed == 1
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID
    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0
    # The webhook turns up after all: it finds nothing left to do.
    assert await shop.payment_events().apply_event(lost) is EventResult.NO_CHANGE
    assert len(await outbox_events(shop, "order_paid")) == 1


async def test_reconciliation_finds_a_retried_payment_whose_success_webhook_was_lost(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    fake = gateway(shop)
    intent_id = placed_order.payment.intent_id
    assert intent_id is not None
    await shop.payment_events().apply_event(fake.fail(intent_id))  # the card is declined
    fake.succeed(intent_id)  # the customer retries with another card; the webhook is lost
    clock(shop).advance(RECONCILE_AFTER + timedelta(seconds=1))

    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 1

    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID
    clock(shop).advance(PAYMENT_TIMEOUT)
    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 0
    assert await stock_of(shop, mug) == 3


async def test_reconciliation_leaves_recent_payments_to_their_webhooks(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    assert placed_order.payment.intent_id is not None
    gateway(shop).succeed(placed_order.payment.intent_id)
    clock(shop).advance(RECONCILE_AFTER - timedelta(seconds=1))

    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0

    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING


async def test_reconciliation_leaves_unpaid_intents_pending(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    clock(shop).advance(RECONCILE_AFTER * 2)

    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0

    assert await _payment_status(shop, customer, placed_order) is PaymentStatus.PENDING


async def test_reconciliation_creates_the_intent_a_payment_never_got(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    fake = gateway(shop)
    await cart_with((mug, 1))
    fake.go_down()
    with pytest.raises(PaymentProviderError):
        await place()
    fake.come_back()
    clock(shop).advance(RECONCILE_AFTER * 2)

    changed = await shop.payment_events().reconcile_pending(RECONCILE_AFTER)

    assert changed == 1
    [order] = (await shop.orders().list_orders(customer.principal, EVERY_ORDER)).items
    [payment] = await shop.orders().list_payments(customer.principal, order.id)
    assert payment.intent_id is not None
    assert fake.intents_created == 1
    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0
    assert fake.intents_created == 1


async def test_reconciliation_while_the_provider_is_down_waits_for_the_next_run(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    fake.succeed(placed_order.payment.intent_id)
    clock(shop).advance(RECONCILE_AFTER * 2)
    fake.go_down()

    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING

    fake.come_back()
    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 1
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PAID


async def test_reconciliation_refuses_a_provider_amount_that_differs(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    assert placed_order.payment.intent_id is not None
    fake.succeed(placed_order.payment.intent_id)
    clock(shop).advance(RECONCILE_AFTER * 2)
    real_retrieve = fake.retrieve_intent

    async def retrieve_with_other_amount(intent_id: str) -> PaymentIntent:
        intent = await real_retrieve(intent_id)
        return replace(intent, amount=Money(1, "USD"))

    fake.retrieve_intent = retrieve_with_other_amount  # type: ignore[method-assign]

    assert await shop.payment_events().reconcile_pending(RECONCILE_AFTER) == 0
    assert await _order_status(shop, customer, placed_order) is OrderStatus.PENDING


async def test_paying_twice_over_is_impossible_once_paid(
    shop: Container, customer: Account, paid_order: PlacedOrder
) -> None:
    # A second success event (another event id, same intent) changes nothing.
    assert paid_order.payment.intent_id is not None
    events = gateway(shop).events
    again = _event_like(events[-1], "evt_second_success")

    assert await shop.payment_events().apply_event(again) is EventResult.NO_CHANGE
    assert len(await outbox_events(shop, "order_paid")) == 1
    assert await _order_status(shop, customer, paid_order) is OrderStatus.PAID
