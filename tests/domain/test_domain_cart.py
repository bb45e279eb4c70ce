"""The cart: 1..99 per line, each product once, only products that are still sold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cart import MAX_CART_LINES, Cart
from domain.errors import Conflict, NotFound, OutOfStock
from domain.values import Quantity
from tests.domain.builders import LATER, NOW, a_product


def an_empty_cart() -> Cart:
    return Cart(user_id="u-1", updated_at=NOW)


def test_a_new_cart_is_empty() -> None:
    cart = an_empty_cart()
    assert cart.is_empty
    assert cart.item_count == 0


@given(stock=st.integers(min_value=0, max_value=150), wanted=st.integers(min_value=1, max_value=99))
def test_a_line_is_accepted_only_up_to_the_stock_on_hand(stock: int, wanted: int) -> None:
    cart = an_empty_cart()
    product = a_product(stock=stock)

    if wanted <= stock:
        cart.set_item(product, Quantity(wanted), LATER)
        assert cart.lines == {product.id: Quantity(wanted)}
        assert cart.updated_at == LATER
    else:
        with pytest.raises(OutOfStock) as raised:
            cart.set_item(product, Quantity(wanted), LATER)
        assert cart.is_empty
        assert cart.version == 1
        assert raised.value.available == stock


@given(first=st.integers(min_value=1, max_value=99), second=st.integers(min_value=1, max_value=99))
def test_setting_a_product_again_replaces_its_line(first: int, second: int) -> None:
    cart = an_empty_cart()
    product = a_product(stock=200)

    cart.set_item(product, Quantity(first), NOW)
    cart.set_item(product, Quantity(second), LATER)

    assert cart.lines == {product.id: Quantity(second)}
    assert cart.item_count == second


def test_an_archived_product_cannot_be_added() -> None:
    cart = an_empty_cart()
    product = a_product(stock=5, archived=True)

    with pytest.raises(NotFound) as raised:
        cart.set_item(product, Quantity(1), LATER)

    assert raised.value.kind == "product"
    assert raised.value.ident == product.id
    assert cart.is_empty


def test_a_product_archived_after_being_added_cannot_be_changed() -> None:
    cart = an_empty_cart()
    product = a_product(stock=5)
    cart.set_item(product, Quantity(1), NOW)

    product.archive(LATER)

    with pytest.raises(NotFound):
        cart.set_item(product, Quantity(2), LATER)
    assert cart.lines[product.id] == Quantity(1)


@given(
    lines=st.dictionaries(
        st.text("abcdef0123", min_size=1, max_size=4),
        st.integers(min_value=1, max_value=99),
        max_size=30,
    )
)
def test_item_count_is_the_sum_of_line_quantities(lines: dict[str, int]) -> None:
    cart = an_empty_cart()

    for product_id, quantity in lines.items():
        cart.set_item(a_product(product_id, stock=99), Quantity(quantity), NOW)

    assert cart.item_count == sum(lines.values())
    assert len(cart.lines) == len(lines)
    assert cart.is_empty == (not lines)


def test_removing_an_item_drops_only_that_line() -> None:
    cart = an_empty_cart()
    cart.set_item(a_product("p-1"), Quantity(2), NOW)
    cart.set_item(a_product("p-2"), Quantity(3), NOW)
    version = cart.version

    cart.remove_item("p-1", LATER)

    assert cart.lines == {"p-2": Quantity(3)}
    assert cart.item_count == 3
    assert cart.version == version + 1
    assert cart.updated_at == LATER


def test_removing_an_item_that_is_not_there_changes_nothing() -> None:
    cart = an_empty_cart()
    cart.set_item(a_product("p-1"), Quantity(2), NOW)
    version = cart.version

    cart.remove_item("p-9", LATER)

    assert cart.version == version
    assert cart.updated_at == NOW
    assert cart.item_count == 2


def test_clearing_empties_the_cart_and_clearing_again_is_a_no_op() -> None:
    cart = an_empty_cart()
    cart.set_item(a_product("p-1"), Quantity(2), NOW)
    cart.set_item(a_product("p-2"), Quantity(1), NOW)

    cart.clear(LATER)

    assert cart.is_empty
    assert cart.item_count == 0
    version = cart.version
    cart.clear(LATER)
    assert cart.version == version


def test_a_cart_holds_at_most_max_cart_lines_products() -> None:
    cart = an_empty_cart()
    for index in range(MAX_CART_LINES):
        cart.set_item(a_product(f"p-{index}"), Quantity(1), NOW)

    with pytest.raises(Conflict):
        cart.set_item(a_product("one-too-many"), Quantity(1), NOW)

    assert len(cart.lines) == MAX_CART_LINES
    assert "one-too-many" not in cart.lines
    # Changing an existing line of a full cart is still fine.
    cart.set_item(a_product("p-0"), Quantity(5), LATER)
    assert cart.lines["p-0"] == Quantity(5)


def test_carts_do_not_share_their_lines() -> None:
    first, second = an_empty_cart(), an_empty_cart()

    first.set_item(a_product(), Quantity(1), NOW)

    assert second.is_empty
