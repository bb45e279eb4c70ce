"""Product rules at their exact limits, with the field and reason a client is shown."""

from __future__ import annotations

import pytest

from domain.catalog import Product, ProductImage
from domain.errors import Conflict, InventoryWouldGoNegative, OutOfStock
from domain.money import Money
from tests.domain.builders import LATER, NOW, a_product, usd
from tests.refusals import fails_with, refused


def a_new_product(**changes: object) -> Product:
    fields: dict[str, object] = {
        "id": "p-1",
        "name": "Kettle",
        "description": "Boils water",
        "price": usd(2500),
        "inventory_count": 3,
        "category": "Kitchen",
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Product(**fields)  # type: ignore[arg-type]


def an_image(image_id: str = "img-1") -> ProductImage:
    return ProductImage(
        id=image_id, storage_key=f"k/{image_id}", content_type="image/png", created_at=NOW
    )


def test_a_name_may_be_200_characters_but_not_201() -> None:
    assert a_new_product(name="n" * 200).name == "n" * 200
    with refused("name", "must be at most 200 characters"):
        a_new_product(name="n" * 201)
    with refused("name", "must be at most 200 characters"):
        a_product().change_details(LATER, name="n" * 201)
    product = a_product()
    product.change_details(LATER, name=" " + "m" * 200 + " ")
    assert product.name == "m" * 200


def test_a_category_may_be_100_characters_but_not_101() -> None:
    assert a_new_product(category="C" * 100).category == "c" * 100
    with refused("category", "must be at most 100 characters"):
        a_new_product(category="c" * 101)
    product = a_product()
    product.change_details(LATER, category=" B" + "c" * 99)
    assert product.category == "b" + "c" * 99
    with refused("category", "must be at most 100 characters"):
        product.change_details(LATER, category="c" * 101)


def test_a_description_may_be_10000_characters_but_not_10001() -> None:
    assert a_new_product(description="d" * 10_000).description == "d" * 10_000
    with refused("description", "must be at most 10000 characters"):
        a_new_product(description="d" * 10_001)
    product = a_product()
    product.change_details(LATER, description="  " + "e" * 10_000 + "  ")
    assert product.description == "e" * 10_000
    with refused("description", "must be at most 10000 characters"):
        product.change_details(LATER, description="e" * 10_001)


def test_change_details_replaces_the_description_trimmed_and_bumps_the_version() -> None:
    product = a_product()
    product.change_details(LATER, description="  A new text  ")
    assert product.description == "A new text"
    assert (product.updated_at, product.version) == (LATER, 2)
    product.change_details(LATER, description="")
    assert product.description == ""
    with refused("description", "must be a string"):
        product.change_details(LATER, description=5)  # type: ignore[arg-type]


def test_a_description_that_is_not_text_is_stored_empty_on_creation() -> None:
    assert a_new_product(description=None).description == ""


def test_every_field_given_to_change_details_is_kept() -> None:
    product = a_product()
    product.change_details(
        LATER,
        name=" Teapot ",
        description="Brews",
        price=usd(10),
        category=" Tea ",
        inventory_count=7,
        sku="TP-1",
    )
    assert (product.name, product.description, product.price) == ("Teapot", "Brews", usd(10))
    assert (product.category, product.inventory_count, product.sku) == ("tea", 7, "TP-1")
    assert (product.updated_at, product.version) == (LATER, 2)


def test_change_details_with_nothing_given_keeps_everything_but_bumps_the_version() -> None:
    product = a_product()
    product.change_details(LATER, sku="S-1")
    before = (product.name, product.description, product.price, product.category)
    product.change_details(LATER)
    assert (product.name, product.description, product.price, product.category) == before
    assert (product.inventory_count, product.sku, product.version) == (10, "S-1", 3)


def test_price_stock_and_sku_refusals_name_their_field() -> None:
    with refused("price", "must not be negative"):
        a_new_product(price=usd(-1))
    assert a_new_product(price=usd(0)).price == usd(0)
    with refused("inventory_count", "must be between 0 and 1000000000"):
        a_new_product(inventory_count=-1)
    with refused("inventory_count", "must be between 0 and 1000000000"):
        a_new_product(inventory_count=1_000_000_001)
    assert a_new_product(inventory_count=1_000_000_000).inventory_count == 1_000_000_000
    assert a_new_product(inventory_count=0).inventory_count == 0
    for not_whole in (True, 1.0, "1"):
        with refused("inventory_count", "must be a whole number"):
            a_new_product(inventory_count=not_whole)
    with refused("price", "must not be negative"):
        a_product().change_details(LATER, price=usd(-1))
    with refused("inventory_count", "must be between 0 and 1000000000"):
        a_product().change_details(LATER, inventory_count=-1)


def test_a_sku_is_at_most_64_printable_characters_without_spaces() -> None:
    assert a_new_product(sku="S" * 64).sku == "S" * 64
    assert a_new_product(sku=" AB-1 ").sku == "AB-1"
    assert a_new_product(sku=None).sku is None
    with refused("sku", "must be at most 64 characters"):
        a_new_product(sku="S" * 65)
    with refused("sku", "must not be empty"):
        a_new_product(sku="  ")
    for bad in ("A B", "A\tB", "A\x00B", "A\u00a0B"):
        with refused("sku", "must not contain spaces or control characters"):
            a_new_product(sku=bad)
    product = a_product()
    with refused("sku", "must not contain spaces or control characters"):
        product.change_details(LATER, sku="A B")
    assert product.sku is None


def test_required_text_refusals_say_what_is_wrong() -> None:
    with refused("name", "must not be empty"):
        a_new_product(name="   ")
    with refused("name", "must be a string"):
        a_new_product(name=5)
    with refused("category", "must not be empty"):
        a_new_product(category="")


@pytest.mark.parametrize("quantity", [0, -1, True, 1.0])
def test_reserve_and_release_name_the_quantity(quantity: object) -> None:
    with refused("quantity", "must be positive"):
        a_product().reserve(quantity)  # type: ignore[arg-type]
    with refused("quantity", "must be positive"):
        a_product().release(quantity)  # type: ignore[arg-type]


def test_reserving_more_than_the_stock_says_how_much_is_left() -> None:
    product = a_product(stock=3)
    with pytest.raises(OutOfStock) as raised:
        product.reserve(4)
    assert (raised.value.product_id, raised.value.requested, raised.value.available) == (
        "p-1",
        4,
        3,
    )
    product.reserve(3)
    assert product.inventory_count == 0
    product.release(2)
    assert product.inventory_count == 2


@pytest.mark.parametrize("delta", [0, True, 1.5])
def test_an_adjustment_names_the_delta(delta: object) -> None:
    with refused("delta", "must be a non-zero whole number"):
        a_product().adjust_inventory(delta, LATER)  # type: ignore[arg-type]


def test_an_adjustment_may_empty_the_stock_exactly() -> None:
    product = a_product(stock=3)
    product.adjust_inventory(-3, LATER)
    assert (product.inventory_count, product.version, product.updated_at) == (0, 2, LATER)
    with pytest.raises(InventoryWouldGoNegative) as raised:
        product.adjust_inventory(-1, LATER)
    assert (
        raised.value.message == "product p-1 has 0 in stock; a change of -1 would make it negative"
    )


def test_an_archived_product_refuses_changes_by_name() -> None:
    product = a_product()
    product.archive(LATER)
    assert (product.is_archived, product.is_available) == (True, False)
    assert (product.updated_at, product.version) == (LATER, 2)
    with fails_with(Conflict, "product p-1 is archived"):
        product.change_details(LATER, name="Other")


def test_adding_and_removing_images_touches_the_product_only_when_it_changes() -> None:
    product = a_product()
    first, second = an_image("img-1"), an_image("img-2")
    product.add_image(first, LATER)
    assert (product.images, product.updated_at, product.version) == ([first], LATER, 2)
    product.add_image(an_image("img-1"), NOW)
    assert (product.images, product.updated_at, product.version) == ([first], LATER, 2)
    product.add_image(second, LATER)
    assert (product.images, product.version) == ([first, second], 3)
    assert product.remove_image("img-2", NOW) == second
    assert (product.images, product.updated_at, product.version) == ([first], NOW, 4)
    assert product.remove_image("img-9", LATER) is None
    assert (product.images, product.updated_at, product.version) == ([first], NOW, 4)


def test_a_product_in_another_currency_keeps_its_price() -> None:
    assert a_new_product(price=Money(5, "EUR")).price == Money(5, "EUR")
