"""Cancelling an order: stock comes back, a paid order is refunded in full, and a
provider outage never leaves a half-cancelled order."""

from __future__ import annotations

import pytest

from application.orders import PlacedOrder
from application.ports.errors import PaymentProviderError
from domain.catalog import Product
from domain.errors import (
    IllegalTransition,
    NotFound,
)
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentOutcome, PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    KeyIssuer,
    gateway,
    outbox_events,
    stock_of,
)

# --- cancelling ----------------------------------------------------------------------------


async def test_owner_cancels_a_pending_order_and_the_stock_comes_back(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    cancelled = await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(0, "USD")
    assert await stock_of(shop, mug) == 5
    assert placed_order.payment.intent_id is not None
    intent = await gateway(shop).retrieve_intent(placed_order.payment.intent_id)
    assert intent.outcome is PaymentOutcome.CANCELLED
    [payment] = await shop.orders().list_payments(customer.principal, placed_order.order.id)
    assert payment.status is PaymentStatus.CANCELLED
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["order_id"] == placed_order.order.id


async def test_cancelling_a_paid_order_refunds_it_in_full(
    shop: Container, customer: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(2400, "USD")
    assert await stock_of(shop, mug) == 5
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [refund.amount for refund in payment.refunds] == [Money(2400, "USD")]
    [refunded] = await outbox_events(shop, "order_refunded")
    assert refunded["amount"] == 2400


async def test_a_shipped_order_cannot_be_cancelled(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id)

    for who in (customer, staff):
        with pytest.raises(IllegalTransition):
            await shop.orders().cancel_order(who.principal, paid_order.order.id)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.SHIPPED
    assert order.refunded_amount == Money(0, "USD")
    assert await stock_of(shop, mug) == 3


async def test_another_user_cannot_cancel_an_order(
    shop: Container,
    customer: Account,
    other_customer: Account,
    api_key: KeyIssuer,
    placed_order: PlacedOrder,
    mug: Product,
) -> None:
    writer = await api_key("orders:write", "orders:read")

    for outsider in (other_customer.principal, writer):
        with pytest.raises(NotFound):
            await shop.orders().cancel_order(outsider, placed_order.order.id)

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING
    assert await stock_of(shop, mug) == 3


async def test_cancelling_twice_releases_the_stock_once(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    with pytest.raises(IllegalTransition):
        await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert await stock_of(shop, mug) == 5


async def test_staff_cancels_a_customers_order(
    shop: Container, staff: Account, customer: Account, paid_order: PlacedOrder
) -> None:
    cancelled = await shop.orders().cancel_order(staff.principal, paid_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(2400, "USD")
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["reason"] == "cancelled by staff"


async def test_cancelling_while_the_provider_is_down_still_cancels_an_unpaid_order(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()

    cancelled = await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5


async def test_cancelling_a_paid_order_while_the_provider_is_down_changes_nothing(
    shop: Container, customer: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()

    with pytest.raises(PaymentProviderError):
        await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.PAID
    assert await stock_of(shop, mug) == 3
