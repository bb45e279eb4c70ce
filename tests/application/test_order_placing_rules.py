"""Placing an order: what it records (audit, payment, cart) and what it refuses, word for
word; cancelling and refunding record who did it."""

from __future__ import annotations

from datetime import timedelta

from application.catalog import ProductChanges
from application.orders import PlacedOrder
from domain.catalog import Product
from domain.errors import NotFound, RuleViolation
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account, CartFiller, OrderPlacer, ProductFactory
from tests.refusals import fails_with


async def test_placing_records_who_placed_what_in_the_order_history(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    order_id = placed_order.order.id
    placed = (await shop.orders().history(customer.principal, order_id))[0]
    assert (placed.action, placed.target_type, placed.target_id) == (
        "order.placed",
        "order",
        order_id,
    )
    assert placed.summary == {"status": "pending", "total": "2400 USD"}
    assert placed.actor_user_id == customer.principal.user_id


async def test_the_payment_is_the_customers_with_the_shops_provider(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    payment = placed_order.payment
    assert payment.user_id == customer.principal.user_id
    assert payment.provider == shop.payment_flow().provider
    payments = await shop.orders().list_payments(customer.principal, placed_order.order.id)
    assert [(p.id, p.user_id) for p in payments] == [(payment.id, payment.user_id)]


async def test_another_customers_payments_are_not_found(
    shop: Container, other_customer: Account, placed_order: PlacedOrder
) -> None:
    order_id = placed_order.order.id
    with fails_with(NotFound, f"order {order_id} not found"):
        await shop.orders().list_payments(other_customer.principal, order_id)


async def test_placing_clears_the_cart_at_the_clock_time(
    shop: Container, customer: Account, cart_with: CartFiller, place: OrderPlacer, mug: Product
) -> None:
    await cart_with((mug, 1))
    placed_at = shop.clock().advance(timedelta(minutes=3))
    await place()
    user_id = customer.principal.user_id
    assert user_id is not None
    async with shop.unit_of_work()() as uow:
        cart = await uow.carts.get(user_id)
    assert cart is not None
    assert (cart.lines, cart.updated_at) == ({}, placed_at)


async def test_an_order_of_free_products_is_refused(
    cart_with: CartFiller, place: OrderPlacer, product: ProductFactory
) -> None:
    free = await product("Sticker", price=0)
    await cart_with((free, 1))
    with fails_with(RuleViolation, "an order must have something to pay for"):
        await place()


async def test_an_order_priced_past_the_largest_amount_says_what_to_do(
    shop: Container, staff: Account, cart_with: CartFiller, place: OrderPlacer,
    product: ProductFactory,
) -> None:  # fmt: skip
    mug = await product("Mug", price=1200, stock=99)
    await cart_with((mug, 99))
    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(price=Money(1_000_000_000_000_000, "USD"))
    )
    with fails_with(
        RuleViolation,
        "the order's total would be above the largest amount the shop handles; "
        "lower a quantity or remove a line",
    ):
        await place()


async def test_cancelling_and_refunding_record_who_did_it(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    await shop.refunds().refund_order(admin.principal, order_id, Money(100, "USD"))
    await shop.orders().cancel_order(customer.principal, order_id)
    entries = await shop.orders().history(customer.principal, order_id)
    actors = {entry.action: entry.actor_user_id for entry in entries}
    assert actors["order.cancelled"] == customer.principal.user_id
    refunds = [e for e in entries if e.action == "order.refunded"]
    assert refunds[0].actor_user_id == admin.principal.user_id


async def test_the_placed_entry_names_the_status_and_total_under_those_keys(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    placed = (await shop.orders().history(customer.principal, placed_order.order.id))[0]
    assert sorted(placed.summary) == ["status", "total"]
    assert placed.summary["total"] == str(placed_order.order.total_amount)
