"""The shopper's cart: lines of 1..99 units, shown at today's prices."""

from __future__ import annotations

import pytest

from application.catalog import ProductChanges
from domain.catalog import Product
from domain.errors import (
    CurrencyMismatch,
    InvalidValue,
    NotFound,
    OutOfStock,
    PermissionDenied,
    RuleViolation,
)
from domain.money import MAX_AMOUNT, Money
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    CartFiller,
    KeyIssuer,
    ProductFactory,
    an_address,
)


async def test_a_new_cart_is_empty(shop: Container, customer: Account) -> None:
    view = await shop.carts().view(customer.principal)

    assert view.items == []
    assert view.total == Money(0, "USD")
    assert view.item_count == 0


async def test_set_item_puts_units_in_the_cart_with_line_totals(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200, stock=5)
    lamp = await product("Lamp", price=4599, stock=3)

    await shop.carts().set_item(customer.principal, mug.id, 2)
    view = await shop.carts().set_item(customer.principal, lamp.id, 3)

    lines = {item.name: (item.quantity, item.unit_price, item.line_total) for item in view.items}
    assert lines == {
        "Mug": (2, Money(1200, "USD"), Money(2400, "USD")),
        "Lamp": (3, Money(4599, "USD"), Money(13797, "USD")),
    }
    assert view.total == Money(16197, "USD")
    assert view.item_count == 5
    assert await shop.carts().view(customer.principal) == view


async def test_setting_a_line_again_replaces_it(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller
) -> None:
    await cart_with((mug, 4))

    view = await shop.carts().set_item(customer.principal, mug.id, 1)

    assert [(item.product_id, item.quantity) for item in view.items] == [(mug.id, 1)]
    assert view.total == Money(1200, "USD")


async def test_cart_shows_the_current_price_not_the_price_when_added(
    shop: Container, customer: Account, staff: Account, mug: Product, cart_with: CartFiller
) -> None:
    await cart_with((mug, 2))

    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(name="Tea mug", price=Money(1500, "USD"))
    )

    [item] = (await shop.carts().view(customer.principal)).items
    assert item.name == "Tea mug"
    assert item.unit_price == Money(1500, "USD")
    assert (await shop.carts().view(customer.principal)).total == Money(3000, "USD")


@pytest.mark.parametrize("quantity", [0, -1, 100, True])
async def test_quantity_must_be_between_1_and_99(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, quantity: int
) -> None:
    await cart_with((mug, 1))

    with pytest.raises(InvalidValue) as refused:
        await shop.carts().set_item(customer.principal, mug.id, quantity)

    assert refused.value.field == "quantity"
    assert [item.quantity for item in (await shop.carts().view(customer.principal)).items] == [1]


async def test_99_units_fit_in_one_line(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    pins = await product("Pin", price=10, stock=500)

    view = await shop.carts().set_item(customer.principal, pins.id, 99)

    assert view.total == Money(990, "USD")


async def test_unknown_product_cannot_go_in_the_cart(shop: Container, customer: Account) -> None:
    with pytest.raises(NotFound):
        await shop.carts().set_item(customer.principal, "no-such-product", 1)

    assert (await shop.carts().view(customer.principal)).items == []


async def test_archived_product_cannot_go_in_the_cart(
    shop: Container, customer: Account, admin: Account, mug: Product
) -> None:
    await shop.catalog().archive_product(admin.principal, mug.id)

    with pytest.raises(NotFound):
        await shop.carts().set_item(customer.principal, mug.id, 1)

    assert (await shop.carts().view(customer.principal)).items == []


async def test_product_archived_after_adding_drops_out_of_the_view(
    shop: Container,
    customer: Account,
    admin: Account,
    product: ProductFactory,
    cart_with: CartFiller,
) -> None:
    mug = await product("Mug", price=1200)
    lamp = await product("Lamp", price=4500)
    await cart_with((mug, 1), (lamp, 1))

    await shop.catalog().archive_product(admin.principal, lamp.id)

    view = await shop.carts().view(customer.principal)
    assert [item.name for item in view.items] == ["Mug"]
    assert view.total == Money(1200, "USD")


async def test_more_than_in_stock_is_out_of_stock(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller
) -> None:
    await cart_with((mug, 2))

    with pytest.raises(OutOfStock) as refused:
        await shop.carts().set_item(customer.principal, mug.id, 6)

    assert refused.value.available == 5
    assert [item.quantity for item in (await shop.carts().view(customer.principal)).items] == [2]
    assert (await shop.carts().set_item(customer.principal, mug.id, 5)).item_count == 5


async def test_a_sold_out_product_is_out_of_stock(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    gone = await product("Gone", stock=0)

    with pytest.raises(OutOfStock):
        await shop.carts().set_item(customer.principal, gone.id, 1)


async def test_a_cart_holds_one_currency(
    shop: Container, customer: Account, product: ProductFactory, cart_with: CartFiller
) -> None:
    mug = await product("Mug", price=1200, currency="USD")
    euro_mug = await product("Euro mug", price=1100, currency="EUR")
    await cart_with((mug, 1))

    with pytest.raises(CurrencyMismatch):
        await shop.carts().set_item(customer.principal, euro_mug.id, 1)

    view = await shop.carts().view(customer.principal)
    assert [item.name for item in view.items] == ["Mug"]
    assert view.total == Money(1200, "USD")


async def test_a_cart_of_another_currency_totals_in_it(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    euro_mug = await product("Euro mug", price=1100, currency="EUR")

    view = await shop.carts().set_item(customer.principal, euro_mug.id, 2)

    assert view.total == Money(2200, "EUR")


async def test_remove_item_takes_the_line_out(
    shop: Container, customer: Account, product: ProductFactory, cart_with: CartFiller
) -> None:
    mug = await product("Mug", price=1200)
    lamp = await product("Lamp", price=4500)
    await cart_with((mug, 1), (lamp, 2))

    await shop.carts().remove_item(customer.principal, lamp.id)
    await shop.carts().remove_item(customer.principal, "never-in-the-cart")

    view = await shop.carts().view(customer.principal)
    assert [(item.name, item.quantity) for item in view.items] == [("Mug", 1)]
    assert view.total == Money(1200, "USD")


async def test_clear_empties_the_cart(
    shop: Container, customer: Account, product: ProductFactory, cart_with: CartFiller
) -> None:
    await cart_with((await product("Mug"), 1), (await product("Lamp"), 2))

    await shop.carts().clear(customer.principal)

    view = await shop.carts().view(customer.principal)
    assert view.items == []
    assert view.total == Money(0, "USD")


async def test_each_user_has_their_own_cart(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
) -> None:
    await cart_with((mug, 2))
    await cart_with((mug, 1), who=other_customer)

    await shop.carts().clear(other_customer.principal)

    assert (await shop.carts().view(customer.principal)).item_count == 2
    assert (await shop.carts().view(other_customer.principal)).item_count == 0


async def test_api_keys_have_no_cart(shop: Container, api_key: KeyIssuer, mug: Product) -> None:
    key = await api_key("orders:write", "products:write")

    with pytest.raises(PermissionDenied):
        await shop.carts().view(key)
    with pytest.raises(PermissionDenied):
        await shop.carts().set_item(key, mug.id, 1)
    with pytest.raises(PermissionDenied):
        await shop.carts().remove_item(key, mug.id)
    with pytest.raises(PermissionDenied):
        await shop.carts().clear(key)


async def test_a_cart_whose_total_would_pass_the_largest_amount_is_refused(
    shop: Container, customer: Account, product: ProductFactory
) -> None:
    dear = await product("Dear", price=MAX_AMOUNT // 2, stock=5)
    dearer = await product("Dearer", price=MAX_AMOUNT // 4, stock=5)
    await shop.carts().set_item(customer.principal, dear.id, 1)
    await shop.carts().set_item(customer.principal, dearer.id, 2)  # exactly the largest

    with pytest.raises(RuleViolation, match="above the largest amount"):
        await shop.carts().set_item(customer.principal, dear.id, 2)
    with pytest.raises(RuleViolation, match="above the largest amount"):
        await shop.carts().set_item(customer.principal, dearer.id, 3)

    view = await shop.carts().view(customer.principal)
    assert view.total == Money(MAX_AMOUNT, "USD")


async def test_a_cart_priced_past_the_largest_amount_since_is_a_rule_violation(
    shop: Container, customer: Account, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200, stock=99)
    await shop.carts().set_item(customer.principal, mug.id, 99)
    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(price=Money(MAX_AMOUNT, "USD"))
    )

    with pytest.raises(RuleViolation, match="lower a quantity"):
        await shop.carts().view(customer.principal)
    await shop.carts().set_item(customer.principal, mug.id, 1)
    assert (await shop.carts().view(customer.principal)).total == Money(MAX_AMOUNT, "USD")


async def test_an_order_priced_past_the_largest_amount_since_is_a_rule_violation(
    shop: Container, customer: Account, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200, stock=99)
    await shop.carts().set_item(customer.principal, mug.id, 99)
    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(price=Money(MAX_AMOUNT, "USD"))
    )

    with pytest.raises(RuleViolation, match="lower a quantity"):
        await shop.orders().place_order(
            customer.principal, idempotency_key="too-dear", shipping_address=an_address()
        )
    assert (await shop.catalog().get_product(mug.id)).inventory_count == 99  # none reserved
