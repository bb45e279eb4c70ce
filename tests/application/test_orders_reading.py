"""Reading orders: who sees an order, who lists which orders, and who sees the
payments of an order."""

from __future__ import annotations

import pytest

from application.orders import PlacedOrder
from application.ports.persistence import OrderQuery, PageRequest
from domain.catalog import Product
from domain.errors import (
    NotFound,
    PermissionDenied,
)
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    CartFiller,
    KeyIssuer,
    OrderPlacer,
    all_orders,
    clock,
    every_page,
    pay,
)

ALL = PageRequest(limit=100)


# --- reading orders ------------------------------------------------------------------------


async def test_owner_staff_and_orders_read_key_see_an_order(
    shop: Container,
    customer: Account,
    staff: Account,
    admin: Account,
    api_key: KeyIssuer,
    placed_order: PlacedOrder,
) -> None:
    reader = await api_key("orders:read")
    order_id = placed_order.order.id

    for who in (customer.principal, staff.principal, admin.principal, reader):
        assert (await shop.orders().get_order(who, order_id)).id == order_id


async def test_anyone_else_is_told_the_order_does_not_exist(
    shop: Container, other_customer: Account, api_key: KeyIssuer, placed_order: PlacedOrder
) -> None:
    product_key = await api_key("products:read", "products:write", "orders:write")

    for outsider in (other_customer.principal, product_key):
        with pytest.raises(NotFound):
            await shop.orders().get_order(outsider, placed_order.order.id)
    with pytest.raises(NotFound):
        await shop.orders().get_order(other_customer.principal, "no-such-order")


async def test_users_list_their_own_orders_newest_first(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    mine = []
    for _ in range(3):
        clock(shop).advance(60)
        await cart_with((mug, 1))
        mine.append((await place()).order.id)
    await cart_with((mug, 1), who=other_customer)
    await place(other_customer)

    listed = await all_orders(shop, customer)

    assert [order.id for order in listed] == list(reversed(mine))


async def test_staff_and_orders_read_keys_list_every_order(
    shop: Container,
    customer: Account,
    other_customer: Account,
    staff: Account,
    api_key: KeyIssuer,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    ann = await place()
    await cart_with((mug, 1), who=other_customer)
    bob = await place(other_customer)
    reader = await api_key("orders:read")

    by_staff = await all_orders(shop, staff)
    by_key = await every_page(lambda page: shop.orders().list_orders(reader, OrderQuery(page=page)))

    assert {o.id for o in by_staff} == {ann.order.id, bob.order.id}
    assert {o.id for o in by_key} == {ann.order.id, bob.order.id}


async def test_a_customer_cannot_list_someone_elses_orders_by_filtering(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1), who=other_customer)
    await place(other_customer)

    # A customer asking for someone else's orders still sees only their own.
    page = await shop.orders().list_orders(
        customer.principal, OrderQuery(user_id=other_customer.id, page=ALL)
    )

    assert page.items == []


async def test_order_list_filters_by_status(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 1))
    paid = await place()
    await pay(shop, paid)
    await cart_with((mug, 1))
    pending = await place()

    assert [o.id for o in await all_orders(shop, customer, OrderStatus.PAID)] == [paid.order.id]
    assert [o.id for o in await all_orders(shop, customer, OrderStatus.PENDING)] == [
        pending.order.id
    ]
    assert await all_orders(shop, customer, OrderStatus.SHIPPED) == []


async def test_api_key_without_orders_read_cannot_list_orders(
    shop: Container, api_key: KeyIssuer
) -> None:
    key = await api_key("orders:write", "products:read")

    with pytest.raises(PermissionDenied):
        await shop.orders().list_orders(key, OrderQuery())


# --- payments of an order ------------------------------------------------------------------


async def test_owner_and_staff_see_the_payments_of_an_order(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    for who in (customer, staff):
        [payment] = await shop.orders().list_payments(who.principal, paid_order.order.id)
        assert payment.order_id == paid_order.order.id
        assert payment.amount == Money(2400, "USD")
        assert payment.status is PaymentStatus.COMPLETED


async def test_others_cannot_see_the_payments_of_an_order(
    shop: Container, other_customer: Account, api_key: KeyIssuer, paid_order: PlacedOrder
) -> None:
    reader = await api_key("products:read")

    for outsider in (other_customer.principal, reader):
        with pytest.raises(NotFound):
            await shop.orders().list_payments(outsider, paid_order.order.id)
    with pytest.raises(NotFound):
        await shop.orders().list_payments(other_customer.principal, "no-such-order")
