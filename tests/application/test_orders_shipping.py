"""Shipping and delivering a paid order: who may, in which order, and with what
tracking number."""

from __future__ import annotations

import pytest

from application.orders import PlacedOrder
from domain.catalog import Product
from domain.errors import (
    IllegalTransition,
    InvalidValue,
    NotFound,
    PermissionDenied,
)
from domain.orders import OrderStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    CartFiller,
    KeyIssuer,
    OrderPlacer,
    outbox_events,
)

# --- shipping and delivery -----------------------------------------------------------------


async def test_staff_ships_and_delivers_a_paid_order(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id

    shipped = await shop.orders().ship_order(staff.principal, order_id, " 1Z999 ")
    delivered = await shop.orders().deliver_order(staff.principal, order_id)

    assert shipped.status is OrderStatus.SHIPPED
    assert shipped.tracking_number == "1Z999"
    assert delivered.status is OrderStatus.DELIVERED
    seen = await shop.orders().get_order(customer.principal, order_id)
    assert seen.status is OrderStatus.DELIVERED
    [event] = await outbox_events(shop, "order_shipped")
    assert event["tracking_number"] == "1Z999"


async def test_orders_write_key_ships_and_delivers(
    shop: Container, api_key: KeyIssuer, paid_order: PlacedOrder
) -> None:
    writer = await api_key("orders:write")

    await shop.orders().ship_order(writer, paid_order.order.id)
    delivered = await shop.orders().deliver_order(writer, paid_order.order.id)

    assert delivered.status is OrderStatus.DELIVERED
    assert delivered.tracking_number is None


async def test_customers_and_read_keys_cannot_ship_or_deliver(
    shop: Container,
    customer: Account,
    staff: Account,
    api_key: KeyIssuer,
    paid_order: PlacedOrder,
) -> None:
    reader = await api_key("orders:read", "products:write")
    order_id = paid_order.order.id

    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.orders().ship_order(outsider, order_id)
    await shop.orders().ship_order(staff.principal, order_id)
    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.orders().deliver_order(outsider, order_id)

    order = await shop.orders().get_order(customer.principal, order_id)
    assert order.status is OrderStatus.SHIPPED


async def test_an_unpaid_order_cannot_be_shipped_or_delivered(
    shop: Container, customer: Account, staff: Account, placed_order: PlacedOrder
) -> None:
    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, placed_order.order.id)
    with pytest.raises(IllegalTransition):
        await shop.orders().deliver_order(staff.principal, placed_order.order.id)

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING


async def test_a_paid_order_must_ship_before_it_is_delivered(
    shop: Container, staff: Account, paid_order: PlacedOrder
) -> None:
    with pytest.raises(IllegalTransition):
        await shop.orders().deliver_order(staff.principal, paid_order.order.id)


async def test_an_order_ships_once_and_a_cancelled_one_never(
    shop: Container,
    customer: Account,
    staff: Account,
    paid_order: PlacedOrder,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id)
    await cart_with((mug, 1))
    dropped = await place()
    await shop.orders().cancel_order(customer.principal, dropped.order.id)

    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, paid_order.order.id)
    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, dropped.order.id)


@pytest.mark.parametrize("tracking", ["", "   ", "x" * 101])
async def test_tracking_number_must_be_sensible(
    shop: Container, staff: Account, customer: Account, paid_order: PlacedOrder, tracking: str
) -> None:
    with pytest.raises(InvalidValue):
        await shop.orders().ship_order(staff.principal, paid_order.order.id, tracking)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.PAID


async def test_shipping_an_unknown_order_is_not_found(shop: Container, staff: Account) -> None:
    with pytest.raises(NotFound):
        await shop.orders().ship_order(staff.principal, "no-such-order")
    with pytest.raises(NotFound):
        await shop.orders().deliver_order(staff.principal, "no-such-order")
