"""Products: price, details, images, and stock that never goes below zero."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import MAX_INVENTORY, Product, ProductImage, category_key, searchable
from domain.errors import Conflict, InvalidValue, InventoryWouldGoNegative, OutOfStock
from domain.money import Money
from tests.domain.builders import LATER, NOW, a_product, usd

stocks = st.integers(min_value=0, max_value=1000)


def an_image(image_id: str = "img-1") -> ProductImage:
    return ProductImage(
        id=image_id,
        storage_key=f"products/p-1/{image_id}.png",
        content_type="image/png",
        created_at=NOW,
    )


# --- creation ---------------------------------------------------------------------------


def test_a_new_product_is_available_with_trimmed_name_and_lower_cased_category() -> None:
    product = Product(
        id="p-1",
        name="  Kettle ",
        description="  Boils water  ",
        price=usd(2500),
        inventory_count=3,
        category=" Kitchen ",
        created_at=NOW,
        updated_at=NOW,
    )

    assert product.is_available
    assert product.name == "Kettle"
    assert product.description == "Boils water"
    assert product.category == "kitchen"


def test_a_product_may_not_have_a_negative_price() -> None:
    with pytest.raises(InvalidValue) as raised:
        a_product(price=usd(-1))
    assert raised.value.field == "price"


def test_a_free_product_is_allowed() -> None:
    assert a_product(price=usd(0)).price == usd(0)


@pytest.mark.parametrize("stock", [-1, MAX_INVENTORY + 1, 1.0, True, "3"])
def test_a_product_cannot_be_created_with_invalid_stock(stock: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        a_product(stock=stock)  # type: ignore[arg-type]
    assert raised.value.field == "inventory_count"


def test_a_product_needs_a_name_and_a_category() -> None:
    with pytest.raises(InvalidValue):
        Product(
            id="p",
            name="  ",
            description="",
            price=usd(1),
            inventory_count=1,
            category="x",
            created_at=NOW,
            updated_at=NOW,
        )
    with pytest.raises(InvalidValue):
        Product(
            id="p",
            name="x",
            description="",
            price=usd(1),
            inventory_count=1,
            category="",
            created_at=NOW,
            updated_at=NOW,
        )


def test_a_description_over_10000_characters_is_rejected() -> None:
    with pytest.raises(InvalidValue):
        Product(
            id="p",
            name="x",
            description="d" * 10_001,
            price=usd(1),
            inventory_count=1,
            category="x",
            created_at=NOW,
            updated_at=NOW,
        )


# --- reserve / release / adjust ---------------------------------------------------------


@given(stock=stocks, quantity=st.integers(min_value=1, max_value=2000))
def test_reserving_takes_stock_or_raises_out_of_stock_without_going_negative(
    stock: int, quantity: int
) -> None:
    product = a_product(stock=stock)

    if quantity <= stock:
        product.reserve(quantity)
        assert product.inventory_count == stock - quantity
    else:
        with pytest.raises(OutOfStock) as raised:
            product.reserve(quantity)
        assert product.inventory_count == stock
        assert raised.value.requested == quantity
        assert raised.value.available == stock
        assert raised.value.product_id == product.id
    assert product.inventory_count >= 0


@given(stock=stocks, quantity=st.integers(min_value=1, max_value=1000))
def test_releasing_what_was_reserved_restores_the_stock(stock: int, quantity: int) -> None:
    product = a_product(stock=stock + quantity)

    product.reserve(quantity)
    product.release(quantity)

    assert product.inventory_count == stock + quantity


def test_the_last_unit_can_be_reserved_once() -> None:
    product = a_product(stock=1)

    product.reserve(1)

    with pytest.raises(OutOfStock):
        product.reserve(1)
    assert product.inventory_count == 0


@pytest.mark.parametrize("quantity", [0, -1, -100])
def test_reserving_or_releasing_a_non_positive_quantity_is_rejected(quantity: int) -> None:
    product = a_product(stock=5)

    with pytest.raises(InvalidValue):
        product.reserve(quantity)
    with pytest.raises(InvalidValue):
        product.release(quantity)
    assert product.inventory_count == 5


@pytest.mark.parametrize("quantity", [1.5, True, "1"])
def test_reserving_or_releasing_a_non_integer_quantity_is_rejected(quantity: object) -> None:
    product = a_product(stock=5)

    with pytest.raises(InvalidValue):
        product.reserve(quantity)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        product.release(quantity)  # type: ignore[arg-type]
    assert product.inventory_count == 5
    assert type(product.inventory_count) is int


@given(
    stock=stocks,
    deltas=st.lists(
        st.integers(min_value=-1500, max_value=1500).filter(lambda d: d != 0), max_size=30
    ),
)
def test_inventory_adjustments_never_take_stock_below_zero(stock: int, deltas: list[int]) -> None:
    product = a_product(stock=stock)
    expected = stock

    for delta in deltas:
        if expected + delta < 0:
            with pytest.raises(InventoryWouldGoNegative):
                product.adjust_inventory(delta, LATER)
        else:
            product.adjust_inventory(delta, LATER)
            expected += delta
        assert product.inventory_count == expected
        assert product.inventory_count >= 0


def test_a_successful_adjustment_bumps_version_and_updated_at() -> None:
    product = a_product(stock=2)

    product.adjust_inventory(3, LATER)

    assert product.inventory_count == 5
    assert product.version == 2
    assert product.updated_at == LATER


def test_a_refused_adjustment_changes_nothing() -> None:
    product = a_product(stock=2)

    with pytest.raises(InventoryWouldGoNegative):
        product.adjust_inventory(-3, LATER)

    assert product.inventory_count == 2
    assert product.version == 1
    assert product.updated_at == NOW


@pytest.mark.parametrize("delta", [0, 1.0, True, "2"])
def test_an_adjustment_must_be_a_non_zero_whole_number(delta: object) -> None:
    product = a_product(stock=2)
    with pytest.raises(InvalidValue):
        product.adjust_inventory(delta, LATER)  # type: ignore[arg-type]
    assert product.inventory_count == 2


def test_restocking_beyond_the_maximum_inventory_is_rejected() -> None:
    product = a_product(stock=MAX_INVENTORY)
    with pytest.raises(InvalidValue):
        product.adjust_inventory(1, LATER)
    assert product.inventory_count == MAX_INVENTORY


# --- details, archive -------------------------------------------------------------------


def test_change_details_updates_only_the_given_fields() -> None:
    product = a_product(stock=4)

    product.change_details(LATER, name=" New name ", price=Money(999, "USD"), category="TOYS")

    assert product.name == "New name"
    assert product.price == usd(999)
    assert product.category == "toys"
    assert product.description == "A thing worth buying"
    assert product.inventory_count == 4
    assert product.version == 2
    assert product.updated_at == LATER


def test_change_details_can_set_stock_but_not_below_zero() -> None:
    product = a_product(stock=4)

    product.change_details(LATER, inventory_count=0)
    assert product.inventory_count == 0

    with pytest.raises(InvalidValue):
        product.change_details(LATER, inventory_count=-1)
    assert product.inventory_count == 0


def test_change_details_rejects_a_negative_price() -> None:
    product = a_product()
    with pytest.raises(InvalidValue):
        product.change_details(LATER, price=usd(-5))
    assert product.price == usd(1999)


def test_change_details_rejects_a_description_over_10000_characters() -> None:
    product = a_product()
    with pytest.raises(InvalidValue):
        product.change_details(LATER, description="d" * 10_001)
    assert product.description == "A thing worth buying"


def test_a_rejected_change_leaves_every_field_as_it_was() -> None:
    product = a_product(stock=4)

    with pytest.raises(InvalidValue):
        product.change_details(LATER, name="Renamed", category="toys", price=usd(-1))

    assert product.name == "Product p-1"
    assert product.category == "gadgets"
    assert product.price == usd(1999)
    assert product.version == 1
    assert product.updated_at == NOW


def test_an_archived_product_is_unavailable_and_its_details_are_frozen() -> None:
    product = a_product()

    product.archive(LATER)

    assert not product.is_available
    assert product.is_archived
    assert product.updated_at == LATER
    with pytest.raises(Conflict):
        product.change_details(LATER + timedelta(minutes=1), name="Sneaky rename")
    assert product.name == "Product p-1"


# --- images -----------------------------------------------------------------------------


def test_adding_an_image_twice_keeps_one_copy() -> None:
    product = a_product()

    product.add_image(an_image("img-1"), LATER)
    product.add_image(an_image("img-1"), LATER)
    product.add_image(an_image("img-2"), LATER)

    assert [image.id for image in product.images] == ["img-1", "img-2"]
    assert product.version == 3


def test_removing_an_image_returns_it_and_removing_again_returns_none() -> None:
    product = a_product()
    product.add_image(an_image("img-1"), NOW)
    product.add_image(an_image("img-2"), NOW)

    removed = product.remove_image("img-1", LATER)

    assert removed == an_image("img-1")
    assert [image.id for image in product.images] == ["img-2"]
    version = product.version
    assert product.remove_image("img-1", LATER) is None
    assert product.version == version


def test_products_do_not_share_their_image_lists() -> None:
    first, second = a_product("p-1"), a_product("p-2")

    first.add_image(an_image(), NOW)

    assert second.images == []


# --- search and category forms -----------------------------------------------------------


def test_a_category_key_is_trimmed_and_lower_cased() -> None:
    assert category_key(" KITCHEN ") == "kitchen"
    assert category_key("Garden\n") == "garden"
    assert category_key("") == ""


@given(category=st.text(min_size=1, max_size=100).filter(str.strip))
def test_a_product_holds_its_category_in_the_form_it_is_looked_up_in(category: str) -> None:
    product = Product(
        id="p-1",
        name="Mug",
        description="",
        price=usd(100),
        inventory_count=1,
        category=category,
        created_at=NOW,
        updated_at=NOW,
    )
    assert product.category == category_key(category)
    assert category_key(product.category) == product.category


def test_searchable_text_is_lower_cased_only() -> None:
    assert searchable("Teapot") == searchable("TEAPOT") == "teapot"
    assert searchable(" Two  Words ") == " two  words "
    assert searchable("STRASSE") == "strasse"
    assert searchable("Straße") == "straße"
