"""Refunds whose answer from the payment provider was lost: the next refund or cancel
records the lost one and never refunds the money twice."""

from __future__ import annotations

import pytest

from application.orders import PlacedOrder
from application.ports.errors import PaymentProviderError, ProviderKeyReused
from domain.catalog import Product
from domain.errors import (
    EarlierRefundRecovered,
)
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    CartFiller,
    OrderPlacer,
    gateway,
    outbox_events,
    pay,
    stock_of,
)

# --- refunds whose answer from the provider was lost ---------------------------------------


async def _refunds_at_provider(shop: Container, placed: PlacedOrder) -> list[Money]:
    """What the provider has given back for the order, refund by refund."""
    assert placed.payment.intent_id is not None
    return [r.amount for r in await gateway(shop).list_refunds(placed.payment.intent_id)]


async def _refund_whose_answer_is_lost(
    shop: Container, admin: Account, placed: PlacedOrder, amount: Money, reason: str
) -> None:
    """The provider makes the refund, but its answer never reaches the shop."""
    gateway(shop).lose_next_response()
    with pytest.raises(PaymentProviderError):
        await shop.orders().refund_order(admin.principal, placed.order.id, amount, reason)
    assert await _refunds_at_provider(shop, placed) == [amount]
    order = await shop.orders().get_order(admin.principal, placed.order.id)
    assert order.refunded_amount == Money(0, "USD")


async def test_a_lost_refund_then_another_amount_records_the_lost_one_and_asks_again(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")

    with pytest.raises(EarlierRefundRecovered) as told:
        await shop.orders().refund_order(admin.principal, order_id, Money(500, "USD"), "late")

    assert told.value.recovered == Money(1000, "USD")
    assert told.value.refundable == Money(1400, "USD")
    assert "earlier refund of 1000 USD" in told.value.message
    assert "1400 USD is left to refund" in told.value.message
    order = await shop.orders().get_order(customer.principal, order_id)
    assert order.refunded_amount == Money(1000, "USD")
    assert order.refundable_amount == Money(1400, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, order_id)
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    [recovered] = payment.refunds
    assert (recovered.amount, recovered.reason) == (Money(1000, "USD"), "chipped")
    assert payment.intent_id is not None
    [at_provider] = await gateway(shop).list_refunds(payment.intent_id)
    assert recovered.provider_refund_id == at_provider.id
    assert [e["amount"] for e in await outbox_events(shop, "order_refunded")] == [1000]
    assert await _refunds_at_provider(shop, paid_order) == [Money(1000, "USD")]

    again = await shop.orders().refund_order(admin.principal, order_id, Money(500, "USD"), "late")

    assert again.refunded_amount == Money(1500, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, order_id)
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [
        (1000, "chipped"),
        (500, "late"),
    ]
    assert await _refunds_at_provider(shop, paid_order) == [
        Money(1000, "USD"),
        Money(500, "USD"),
    ]


async def test_a_lost_partial_refund_then_a_cancel_refunds_the_rest_and_records_both(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")

    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(2400, "USD")
    assert await stock_of(shop, mug) == 5
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [
        (1000, "chipped"),
        (1400, "cancelled by customer"),
    ]
    at_provider = await _refunds_at_provider(shop, paid_order)
    assert at_provider == [Money(1000, "USD"), Money(1400, "USD")]
    assert sum(money.amount for money in at_provider) == payment.amount.amount
    assert [e["amount"] for e in await outbox_events(shop, "order_refunded")] == [1000, 1400]


async def test_a_lost_partial_refund_then_refunding_everything_left_records_both(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")

    rest = await shop.orders().refund_order(admin.principal, paid_order.order.id)

    assert rest.refunded_amount == Money(2400, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [r.amount.amount for r in payment.refunds] == [1000, 1400]
    assert await _refunds_at_provider(shop, paid_order) == [
        Money(1000, "USD"),
        Money(1400, "USD"),
    ]


async def test_a_lost_full_refund_then_a_cancel_records_it_and_refunds_nothing_more(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(2400, "USD"), "broken")
    # Nothing seems refunded, so the cancel asks for everything under the same key, but
    # with its own reason: the provider refuses, the lost refund is found and recorded.

    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.refunded_amount == Money(2400, "USD")
    assert await _refunds_at_provider(shop, paid_order) == [Money(2400, "USD")]


async def test_a_lost_refund_retried_for_the_same_amount_is_refunded_once(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")

    retried = await shop.orders().refund_order(
        admin.principal, paid_order.order.id, Money(1000, "USD"), "chipped"
    )

    assert retried.refunded_amount == Money(1000, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert [r.amount.amount for r in payment.refunds] == [1000]
    assert await _refunds_at_provider(shop, paid_order) == [Money(1000, "USD")]


async def test_a_lost_refund_retried_for_the_same_amount_with_another_reason_is_done(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")

    retried = await shop.orders().refund_order(
        admin.principal, paid_order.order.id, Money(1000, "USD"), "chipped rim"
    )

    assert retried.refunded_amount == Money(1000, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [(1000, "chipped")]
    assert await _refunds_at_provider(shop, paid_order) == [Money(1000, "USD")]


async def test_a_refund_key_refused_with_no_refund_behind_it_stays_a_provider_error(
    shop: Container,
    customer: Account,
    admin: Account,
    paid_order: PlacedOrder,
    cart_with: CartFiller,
    place: OrderPlacer,
    mug: Product,
) -> None:
    # The key of this order's first refund was spent on another payment (it cannot
    # happen with our keys, but the provider would refuse it all the same).
    await cart_with((mug, 1))
    other = await place()
    await pay(shop, other)
    assert other.payment.intent_id is not None
    await gateway(shop).refund(
        intent_id=other.payment.intent_id,
        amount=Money(100, "USD"),
        idempotency_key=f"refund:{paid_order.order.id}:1",
    )

    with pytest.raises(PaymentProviderError, match="still holds an earlier attempt") as told:
        await shop.orders().refund_order(admin.principal, paid_order.order.id, Money(500, "USD"))
    assert isinstance(told.value.__cause__, ProviderKeyReused)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.refunded_amount == Money(0, "USD")
    assert await _refunds_at_provider(shop, paid_order) == []


async def test_a_lost_refund_retried_after_the_provider_forgot_its_key_is_not_made_twice(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")
    gateway(shop).forget_idempotency_keys()  # Stripe keeps a key for a day

    done = await shop.orders().refund_order(
        admin.principal, paid_order.order.id, Money(1000, "USD"), "chipped"
    )

    assert done.refunded_amount == Money(1000, "USD")
    assert await _refunds_at_provider(shop, paid_order) == [Money(1000, "USD")]
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [(1000, "chipped")]


async def test_a_lost_refund_that_failed_at_the_bank_is_not_counted_as_money_returned(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    await _refund_whose_answer_is_lost(shop, admin, paid_order, Money(1000, "USD"), "chipped")
    assert paid_order.payment.intent_id is not None
    [lost] = await gateway(shop).list_refunds(paid_order.payment.intent_id)
    gateway(shop).fail_refund(lost.id)

    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.refunded_amount == Money(2400, "USD")
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [
        (2400, "cancelled by customer")
    ]


async def test_a_refund_made_in_the_provider_s_dashboard_is_recorded_before_refunding_more(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    assert paid_order.payment.intent_id is not None
    gateway(shop).refund_in_dashboard(paid_order.payment.intent_id, Money(300, "USD"))

    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.refunded_amount == Money(2400, "USD")
    assert await _refunds_at_provider(shop, paid_order) == [
        Money(300, "USD"),
        Money(2100, "USD"),
    ]
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert [r.amount.amount for r in payment.refunds] == [300, 2100]
    assert payment.status is PaymentStatus.REFUNDED
