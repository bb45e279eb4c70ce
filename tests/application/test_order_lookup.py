"""Finding an order by id or number, and reading its history: who may, and what a
refusal says."""

from __future__ import annotations

from application.orders import PlacedOrder
from domain.errors import NotFound, PermissionDenied
from entrypoints.container import Container
from tests.application.shopping import Account
from tests.refusals import fails_with


async def test_staff_find_an_order_by_its_number_and_anyone_who_may_read_it_by_id(
    shop: Container, customer: Account, staff: Account, placed_order: PlacedOrder
) -> None:
    order = placed_order.order
    orders = shop.orders()
    assert (await orders.find_order(staff.principal, str(order.number))).id == order.id
    assert (await orders.find_order(staff.principal, order.id)).id == order.id
    assert (await orders.find_order(customer.principal, order.id)).id == order.id


async def test_an_unknown_number_is_not_found_by_that_number(
    shop: Container, staff: Account, placed_order: PlacedOrder
) -> None:
    unknown = str(placed_order.order.number + 1000)
    with fails_with(NotFound, f"order {unknown} not found"):
        await shop.orders().find_order(staff.principal, unknown)


async def test_a_number_of_19_digits_is_looked_up_as_an_id(
    shop: Container, customer: Account, staff: Account, placed_order: PlacedOrder
) -> None:
    with fails_with(NotFound, "order 1234567890123456789 not found"):
        await shop.orders().find_order(customer.principal, "1234567890123456789")
    with fails_with(NotFound, "order 123456789012345678 not found"):
        await shop.orders().find_order(staff.principal, "123456789012345678")


async def test_a_customer_may_not_look_orders_up_by_number(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    with fails_with(PermissionDenied, "you are not allowed to do this"):
        await shop.orders().find_order(customer.principal, str(placed_order.order.number))


async def test_a_customer_cannot_find_another_customers_order(
    shop: Container, other_customer: Account, placed_order: PlacedOrder
) -> None:
    order_id = placed_order.order.id
    with fails_with(NotFound, f"order {order_id} not found"):
        await shop.orders().find_order(other_customer.principal, order_id)
    with fails_with(NotFound, f"order {order_id} not found"):
        await shop.orders().history(other_customer.principal, order_id)


async def test_the_history_lists_each_change_with_who_made_it_oldest_first(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    await shop.orders().ship_order(staff.principal, order_id, "TRACK-9")
    await shop.orders().deliver_order(staff.principal, order_id)
    entries = await shop.orders().history(customer.principal, order_id)
    shipped, delivered = entries[-2:]
    assert (shipped.action, shipped.target_type, shipped.target_id) == (
        "order.shipped",
        "order",
        order_id,
    )
    assert shipped.summary == {"status": "shipped", "tracking_number": "TRACK-9"}
    assert shipped.actor_user_id == staff.principal.user_id
    assert (delivered.action, delivered.summary) == ("order.delivered", {"status": "delivered"})
    assert shipped.at <= delivered.at
