"""The cart's limits written out as numbers (not read back from the code), with the
message a client reads."""

from __future__ import annotations

from domain.errors import CurrencyMismatch, NotFound, RuleViolation
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account, ProductFactory
from tests.refusals import fails_with

LARGEST = 1_000_000_000_000_000  # minor units: 10**15


async def test_a_cart_may_total_exactly_the_largest_amount_and_not_one_more(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    half = await product("Half", price=LARGEST // 2, stock=5)
    one = await product("One", price=1, stock=5)
    carts = shop.carts()
    await carts.set_item(customer.principal, half.id, 2)
    assert (await carts.view(customer.principal)).total == Money(LARGEST, "USD")
    with fails_with(
        RuleViolation,
        f"the cart's total would be {LARGEST + 1} minor units, above the largest amount "
        f"the shop handles ({LARGEST})",
    ):
        await carts.set_item(customer.principal, one.id, 1)
    await carts.set_item(customer.principal, half.id, 1)
    await carts.set_item(customer.principal, one.id, 2)
    assert (await carts.view(customer.principal)).total == Money(LARGEST // 2 + 2, "USD")


async def test_an_unknown_product_is_named(shop: Container, customer: Account) -> None:
    with fails_with(NotFound, "product p-none not found"):
        await shop.carts().set_item(customer.principal, "p-none", 1)


async def test_a_product_in_another_currency_names_both(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=100)
    euro_mug = await product("Tasse", price=100, currency="EUR")
    await shop.carts().set_item(customer.principal, mug.id, 1)
    with fails_with(CurrencyMismatch, "the cart holds USD items; this product is priced in EUR"):
        await shop.carts().set_item(customer.principal, euro_mug.id, 1)
