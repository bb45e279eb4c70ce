"""Order use-case rules no other use-case test pinned: what placing refuses, the exact
bounds of a lookup and a tracking number, and the time and actor each change records."""

from __future__ import annotations

from datetime import timedelta

from application.orders import PlacedOrder
from domain.catalog import Product
from domain.errors import Conflict, NotFound, OutOfStock, PermissionDenied
from entrypoints.container import Container
from tests.application.shopping import Account, CartFiller, KeyIssuer, OrderPlacer
from tests.refusals import fails_with


async def test_placing_refuses_a_product_archived_since_it_was_put_in_the_cart(
    shop: Container, admin: Account, cart_with: CartFiller, place: OrderPlacer, mug: Product
) -> None:
    await cart_with((mug, 1))
    await shop.catalog().archive_product(admin.principal, mug.id)
    with fails_with(Conflict, f"product {mug.id} is no longer available; remove it"):
        await place()


async def test_placing_refuses_more_than_the_stock_left_naming_the_quantity(
    shop: Container, staff: Account, cart_with: CartFiller, place: OrderPlacer, mug: Product
) -> None:
    await cart_with((mug, 3))
    await shop.catalog().adjust_inventory(staff.principal, mug.id, -3)
    with fails_with(OutOfStock, f"out of stock (product {mug.id}: 3 requested)"):
        await place()


async def test_an_18_digit_reference_is_a_number_and_a_19_digit_one_an_id(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    with fails_with(PermissionDenied, "you are not allowed to do this"):
        await shop.orders().find_order(customer.principal, "1" * 18)
    with fails_with(NotFound, f"order {'1' * 19} not found"):
        await shop.orders().find_order(customer.principal, "1" * 19)


async def test_a_key_that_may_read_orders_finds_one_by_number(
    shop: Container, api_key: KeyIssuer, placed_order: PlacedOrder
) -> None:
    reader = await api_key("orders:read")
    found = await shop.orders().find_order(reader, str(placed_order.order.number))
    assert found.id == placed_order.order.id


async def test_a_one_character_tracking_number_is_kept(
    shop: Container, staff: Account, paid_order: PlacedOrder
) -> None:
    shipped = await shop.orders().ship_order(staff.principal, paid_order.order.id, "T")
    assert shipped.tracking_number == "T"


async def test_shipping_and_delivering_record_the_clock_time_and_the_actor(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    clock = shop.clock()
    order_id = paid_order.order.id
    shipped_at = clock.advance(timedelta(hours=1))
    shipped = await shop.orders().ship_order(staff.principal, order_id)
    assert (shipped.updated_at, shipped.tracking_number) == (shipped_at, None)
    delivered_at = clock.advance(timedelta(days=2))
    delivered = await shop.orders().deliver_order(staff.principal, order_id)
    assert delivered.updated_at == delivered_at
    entries = await shop.orders().history(customer.principal, order_id)
    assert [entry.actor_user_id for entry in entries[-2:]] == [staff.principal.user_id] * 2


async def test_shipping_or_delivering_an_unknown_order_names_it(
    shop: Container, staff: Account
) -> None:
    with fails_with(NotFound, "order o-none not found"):
        await shop.orders().ship_order(staff.principal, "o-none")
    with fails_with(NotFound, "order o-none not found"):
        await shop.orders().deliver_order(staff.principal, "o-none")


async def test_removing_a_line_and_clearing_stamp_the_cart_with_the_clock_time(
    shop: Container, customer: Account, cart_with: CartFiller, mug: Product
) -> None:
    clock = shop.clock()
    user_id = customer.principal.user_id
    assert user_id is not None
    await cart_with((mug, 1))
    removed_at = clock.advance(timedelta(minutes=5))
    await shop.carts().remove_item(customer.principal, mug.id)
    async with shop.unit_of_work()() as uow:
        cart = await uow.carts.get(user_id)
    assert cart is not None
    assert cart.updated_at == removed_at
    await cart_with((mug, 1))
    cleared_at = clock.advance(timedelta(minutes=5))
    await shop.carts().clear(customer.principal)
    async with shop.unit_of_work()() as uow:
        cart = await uow.carts.get(user_id)
    assert cart is not None
    assert cart.updated_at == cleared_at
