"""Expiring unpaid orders once their payment window has passed, releasing their
stock."""

from __future__ import annotations

from datetime import timedelta

from application.orders import PlacedOrder
from domain.catalog import Product
from domain.orders import OrderStatus
from domain.payments import PaymentOutcome
from entrypoints.container import Container
from tests.application.shopping import (
    PAYMENT_TIMEOUT,
    Account,
    CartFiller,
    OrderPlacer,
    clock,
    gateway,
    outbox_events,
    stock_of,
)

# --- expiring unpaid orders ----------------------------------------------------------------


async def test_unpaid_orders_expire_and_release_their_stock(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT + timedelta(seconds=1))

    expired = await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT)

    assert expired == 1
    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5
    assert placed_order.payment.intent_id is not None
    intent = await gateway(shop).retrieve_intent(placed_order.payment.intent_id)
    assert intent.outcome is PaymentOutcome.CANCELLED
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["reason"] == "payment not received in time"


async def test_expiry_runs_are_idempotent(
    shop: Container, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT + timedelta(seconds=1))
    await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 0
    assert await stock_of(shop, mug) == 5


async def test_orders_within_the_payment_window_do_not_expire(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT - timedelta(seconds=1))

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 0

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING
    assert await stock_of(shop, mug) == 3


async def test_paid_orders_never_expire(
    shop: Container,
    customer: Account,
    paid_order: PlacedOrder,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    unpaid = await place()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 1

    paid = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert paid.status is OrderStatus.PAID
    expired = await shop.orders().get_order(customer.principal, unpaid.order.id)
    assert expired.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 3


async def test_expiry_works_in_batches(
    shop: Container, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    for _ in range(3):
        await cart_with((mug, 1))
        await place()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT, limit=2) == 2
    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT, limit=2) == 1
    assert await stock_of(shop, mug) == 5


async def test_expiry_while_the_provider_is_down_still_frees_the_stock(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 1

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5
