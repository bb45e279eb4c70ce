"""Cart use-case rules no other use-case test pinned: the clock time each change stamps,
and the message of a cart priced past the largest amount."""

from __future__ import annotations

from datetime import timedelta

from application.catalog import ProductChanges
from domain.catalog import Product
from domain.errors import RuleViolation
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account, ProductFactory
from tests.refusals import fails_with


async def test_setting_a_line_stamps_the_cart_with_the_clock_time(
    shop: Container, customer: Account, mug: Product
) -> None:
    set_at = shop.clock().advance(timedelta(minutes=7))
    await shop.carts().set_item(customer.principal, mug.id, 2)
    user_id = customer.principal.user_id
    assert user_id is not None
    async with shop.unit_of_work()() as uow:
        cart = await uow.carts.get(user_id)
    assert cart is not None
    assert cart.updated_at == set_at


async def test_an_empty_cart_is_totalled_in_the_shops_currency(
    shop: Container, customer: Account
) -> None:
    view = await shop.carts().view(customer.principal)
    assert (view.items, view.total) == ([], Money(0, "USD"))


async def test_a_cart_priced_past_the_largest_amount_says_what_to_do(
    shop: Container, customer: Account, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200, stock=99)
    await shop.carts().set_item(customer.principal, mug.id, 99)
    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(price=Money(1_000_000_000_000_000, "USD"))
    )
    with fails_with(
        RuleViolation,
        "the cart's total is above the largest amount the shop handles; "
        "lower a quantity or remove a line",
    ):
        await shop.carts().view(customer.principal)


async def test_removing_from_a_cart_never_made_stores_it_stamped_with_the_clock_time(
    shop: Container, customer: Account
) -> None:
    now = shop.clock().advance(timedelta(minutes=1))
    await shop.carts().remove_item(customer.principal, "p-none")
    user_id = customer.principal.user_id
    assert user_id is not None
    async with shop.unit_of_work()() as uow:
        cart = await uow.carts.get(user_id)
    assert cart is not None
    assert (cart.lines, cart.updated_at) == ({}, now)


async def test_a_cart_whose_every_product_was_archived_shows_nothing_to_pay(
    shop: Container, customer: Account, admin: Account, mug: Product
) -> None:
    await shop.carts().set_item(customer.principal, mug.id, 1)
    await shop.catalog().archive_product(admin.principal, mug.id)
    view = await shop.carts().view(customer.principal)
    assert (view.items, view.total) == ([], Money(0, "USD"))
