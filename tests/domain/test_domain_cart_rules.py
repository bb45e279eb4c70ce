"""Cart limits written out as numbers, and what each change bumps."""

from __future__ import annotations

import pytest

from domain.cart import Cart
from domain.errors import Conflict, NotFound, OutOfStock
from domain.values import Quantity
from tests.domain.builders import LATER, NOW, a_product
from tests.refusals import fails_with


def test_a_cart_holds_100_different_products_and_no_more() -> None:
    cart = Cart(user_id="u-1", updated_at=NOW)
    for index in range(100):
        cart.set_item(a_product(f"p-{index}"), Quantity(1), NOW)
    assert len(cart.lines) == 100
    with fails_with(Conflict, "a cart holds at most 100 different products"):
        cart.set_item(a_product("p-100"), Quantity(1), LATER)
    assert (len(cart.lines), cart.updated_at, cart.version) == (100, NOW, 101)


def test_setting_removing_and_clearing_bump_version_and_updated_at() -> None:
    cart = Cart(user_id="u-1", updated_at=NOW)
    assert (cart.version, cart.is_empty, cart.item_count) == (1, True, 0)
    cart.set_item(a_product("p-1"), Quantity(2), LATER)
    assert (cart.updated_at, cart.version, cart.item_count) == (LATER, 2, 2)
    cart.set_item(a_product("p-2"), Quantity(3), NOW)
    assert (cart.updated_at, cart.version, cart.item_count) == (NOW, 3, 5)
    cart.remove_item("p-1", LATER)
    assert (cart.updated_at, cart.version, cart.lines) == (LATER, 4, {"p-2": Quantity(3)})
    cart.remove_item("p-1", NOW)
    assert (cart.updated_at, cart.version) == (LATER, 4)
    cart.clear(NOW)
    assert (cart.updated_at, cart.version, cart.is_empty) == (NOW, 5, True)
    cart.clear(LATER)
    assert (cart.updated_at, cart.version) == (NOW, 5)


def test_refusals_name_the_product_and_the_stock() -> None:
    cart = Cart(user_id="u-1", updated_at=NOW)
    with pytest.raises(NotFound) as missing:
        cart.set_item(a_product("p-9", archived=True), Quantity(1), LATER)
    assert (missing.value.kind, missing.value.ident) == ("product", "p-9")
    with pytest.raises(OutOfStock) as short:
        cart.set_item(a_product("p-1", stock=2), Quantity(3), LATER)
    assert (short.value.product_id, short.value.requested, short.value.available) == ("p-1", 3, 2)
    cart.set_item(a_product("p-1", stock=2), Quantity(2), LATER)
    assert cart.lines == {"p-1": Quantity(2)}
