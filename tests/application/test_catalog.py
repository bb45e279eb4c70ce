"""The catalog: who may create, change and archive products; browsing; inventory."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.catalog import NewProduct, ProductChanges, ProductQuery
from application.ports.persistence import PageRequest, ProductSort
from domain.catalog import Product
from domain.errors import (
    InvalidValue,
    InventoryWouldGoNegative,
    NotFound,
    PermissionDenied,
)
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account, KeyIssuer, ProductFactory, clock, every_page

LAMP = NewProduct("Desk lamp", "Warm light", Money(4500, "USD"), 3, "Lighting")


async def _names(shop: Container, query: ProductQuery) -> list[str]:
    products = await every_page(
        lambda page: shop.catalog().list_products(
            ProductQuery(
                text=query.text,
                category=query.category,
                min_price=query.min_price,
                max_price=query.max_price,
                in_stock=query.in_stock,
                sort=query.sort,
                page=page,
            )
        ),
        limit=2,
    )
    return [p.name for p in products]


# --- create --------------------------------------------------------------------------------


async def test_staff_creates_a_product_anyone_can_see(shop: Container, staff: Account) -> None:
    created = await shop.catalog().create_product(staff.principal, LAMP)

    seen = await shop.catalog().get_product(created.id)
    assert seen.name == "Desk lamp"
    assert seen.price == Money(4500, "USD")
    assert seen.inventory_count == 3
    assert seen.category == "lighting"
    assert seen.created_at == clock(shop).now()


async def test_admin_and_a_products_write_key_create_products(
    shop: Container, admin: Account, api_key: KeyIssuer
) -> None:
    writer = await api_key("products:write")

    by_admin = await shop.catalog().create_product(admin.principal, LAMP)
    by_key = await shop.catalog().create_product(writer, LAMP)

    assert (await shop.catalog().get_product(by_admin.id)).name == "Desk lamp"
    assert (await shop.catalog().get_product(by_key.id)).name == "Desk lamp"


async def test_customers_and_read_only_keys_cannot_create_products(
    shop: Container, customer: Account, api_key: KeyIssuer
) -> None:
    reader = await api_key("products:read", "orders:write")

    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.catalog().create_product(outsider, LAMP)

    assert (await shop.catalog().list_products(ProductQuery())).items == []


@pytest.mark.parametrize(
    ("new", "field"),
    [
        (NewProduct("  ", "", Money(100, "USD"), 1, "misc"), "name"),
        (NewProduct("x" * 201, "", Money(100, "USD"), 1, "misc"), "name"),
        (NewProduct("Thing", "", Money(-1, "USD"), 1, "misc"), "price"),
        (NewProduct("Thing", "", Money(100, "USD"), -1, "misc"), "inventory_count"),
        (NewProduct("Thing", "", Money(100, "USD"), True, "misc"), "inventory_count"),
        (NewProduct("Thing", "", Money(100, "USD"), 1, ""), "category"),
        (NewProduct("Thing", "d" * 10_001, Money(100, "USD"), 1, "misc"), "description"),
    ],
    ids=[
        "blank-name",
        "long-name",
        "negative-price",
        "negative-stock",
        "bool-stock",
        "no-category",
        "long-description",
    ],
)
async def test_create_refuses_invalid_products(
    shop: Container, staff: Account, new: NewProduct, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.catalog().create_product(staff.principal, new)

    assert refused.value.field == field
    assert (await shop.catalog().list_products(ProductQuery())).items == []


# --- get and list --------------------------------------------------------------------------


async def test_unknown_product_is_not_found(shop: Container) -> None:
    with pytest.raises(NotFound):
        await shop.catalog().get_product("no-such-product")


async def test_archived_product_is_gone_for_shoppers(
    shop: Container, admin: Account, product: ProductFactory
) -> None:
    lamp = await product("Lamp")
    await product("Mug")

    await shop.catalog().archive_product(admin.principal, lamp.id)

    with pytest.raises(NotFound):
        await shop.catalog().get_product(lamp.id)
    assert await _names(shop, ProductQuery()) == ["Mug"]


@pytest.fixture
async def shelf(shop: Container, product: ProductFactory) -> list[Product]:
    """Five products created a minute apart, in this order."""
    made = []
    for name, price, stock, category, description in [
        ("Teapot", 3000, 2, "kitchen", "Brews tea"),
        ("Mug", 1200, 0, "kitchen", "Holds tea or coffee"),
        ("Lamp", 4500, 7, "lighting", "A warm light"),
        ("Candle", 800, 12, "lighting", "Smells of tea leaves"),
        ("Kettle", 3000, 1, "Kitchen", "Boils water"),
    ]:
        clock(shop).advance(60)
        made.append(
            await product(
                name, price=price, stock=stock, category=category, description=description
            )
        )
    return made


async def test_listing_sorts_newest_first_by_default(shop: Container, shelf: list[Product]) -> None:
    assert await _names(shop, ProductQuery()) == ["Kettle", "Candle", "Lamp", "Mug", "Teapot"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (ProductSort.NEWEST_LAST, ["Teapot", "Mug", "Lamp", "Candle", "Kettle"]),
        (ProductSort.NAME, ["Candle", "Kettle", "Lamp", "Mug", "Teapot"]),
        (ProductSort.PRICE_LOW_FIRST, ["Candle", "Mug", "Teapot", "Kettle", "Lamp"]),
        (ProductSort.PRICE_HIGH_FIRST, ["Lamp", "Kettle", "Teapot", "Mug", "Candle"]),
    ],
)
async def test_listing_sorts_as_asked(
    shop: Container, shelf: list[Product], sort: ProductSort, expected: list[str]
) -> None:
    # Teapot and Kettle cost the same: ties go by id, i.e. creation order here.
    assert await _names(shop, ProductQuery(sort=sort)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ProductQuery(text="TEA"), {"Teapot", "Mug", "Candle"}),
        (ProductQuery(category=" KITCHEN "), {"Teapot", "Mug", "Kettle"}),
        (ProductQuery(min_price=1200, max_price=3000), {"Teapot", "Mug", "Kettle"}),
        (ProductQuery(min_price=4500), {"Lamp"}),
        (ProductQuery(max_price=799), set()),
        (ProductQuery(in_stock=True), {"Teapot", "Lamp", "Candle", "Kettle"}),
        (ProductQuery(in_stock=False), {"Mug"}),
        (ProductQuery(text="tea", category="lighting", in_stock=True), {"Candle"}),
    ],
    ids=[
        "text",
        "category",
        "price-range",
        "min-price",
        "max-price",
        "in-stock",
        "sold-out",
        "combined",
    ],
)
async def test_listing_filters(
    shop: Container, shelf: list[Product], query: ProductQuery, expected: set[str]
) -> None:
    names = await _names(shop, query)

    assert set(names) == expected
    assert len(names) == len(expected)


async def test_listing_pages_cover_every_product_exactly_once(
    shop: Container, shelf: list[Product]
) -> None:
    first = await shop.catalog().list_products(ProductQuery(page=PageRequest(limit=2)))
    assert len(first.items) == 2
    assert first.next_cursor is not None

    names = await _names(shop, ProductQuery(sort=ProductSort.NAME))

    assert names == sorted(p.name for p in shelf)


@pytest.mark.parametrize(
    "query",
    [
        lambda: ProductQuery(min_price=-1),
        lambda: ProductQuery(max_price=-5),
        lambda: ProductQuery(min_price=500, max_price=100),
        lambda: ProductQuery(text="x" * 201),
        lambda: ProductQuery(page=PageRequest(limit=0)),
        lambda: ProductQuery(page=PageRequest(limit=101)),
        lambda: ProductQuery(page=PageRequest(cursor="not a cursor")),
    ],
    ids=[
        "negative-min",
        "negative-max",
        "min-above-max",
        "long-text",
        "limit-0",
        "limit-101",
        "bad-cursor",
    ],
)
async def test_listing_refuses_bad_queries(
    shop: Container, query: Callable[[], ProductQuery]
) -> None:
    with pytest.raises(InvalidValue):
        await shop.catalog().list_products(query())


# --- change and archive --------------------------------------------------------------------


async def test_staff_changes_a_product(
    shop: Container, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200)
    clock(shop).advance(60)

    await shop.catalog().change_product(
        staff.principal,
        mug.id,
        ProductChanges(name="Big mug", price=Money(1500, "USD"), category="Cups"),
    )

    changed = await shop.catalog().get_product(mug.id)
    assert changed.name == "Big mug"
    assert changed.price == Money(1500, "USD")
    assert changed.category == "cups"
    assert changed.description == mug.description
    assert changed.updated_at > mug.updated_at


async def test_products_write_key_changes_a_product_but_read_key_cannot(
    shop: Container, customer: Account, api_key: KeyIssuer, product: ProductFactory
) -> None:
    mug = await product("Mug")
    writer = await api_key("products:write")
    reader = await api_key("products:read")

    await shop.catalog().change_product(writer, mug.id, ProductChanges(name="Key mug"))
    for outsider in (reader, customer.principal):
        with pytest.raises(PermissionDenied):
            await shop.catalog().change_product(outsider, mug.id, ProductChanges(name="Mine"))

    assert (await shop.catalog().get_product(mug.id)).name == "Key mug"


async def test_a_rejected_change_changes_nothing(
    shop: Container, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200)

    with pytest.raises(InvalidValue):
        await shop.catalog().change_product(
            staff.principal, mug.id, ProductChanges(name="Renamed", price=Money(-1, "USD"))
        )

    unchanged = await shop.catalog().get_product(mug.id)
    assert unchanged.name == "Mug"
    assert unchanged.price == Money(1200, "USD")


async def test_changing_an_unknown_or_archived_product_is_not_found(
    shop: Container, admin: Account, product: ProductFactory
) -> None:
    mug = await product("Mug")
    await shop.catalog().archive_product(admin.principal, mug.id)

    for product_id in (mug.id, "no-such-product"):
        with pytest.raises(NotFound):
            await shop.catalog().change_product(
                admin.principal, product_id, ProductChanges(name="Back")
            )
        with pytest.raises(NotFound):
            await shop.catalog().archive_product(admin.principal, product_id)
        with pytest.raises(NotFound):
            await shop.catalog().adjust_inventory(admin.principal, product_id, 1)


async def test_only_admins_archive_products(
    shop: Container, staff: Account, customer: Account, api_key: KeyIssuer, product: ProductFactory
) -> None:
    mug = await product("Mug")
    writer = await api_key("products:write", "products:read")

    for outsider in (staff.principal, customer.principal, writer):
        with pytest.raises(PermissionDenied):
            await shop.catalog().archive_product(outsider, mug.id)

    assert (await shop.catalog().get_product(mug.id)).name == "Mug"


# --- inventory -----------------------------------------------------------------------------


async def test_restock_and_correction_move_the_stock(
    shop: Container, staff: Account, api_key: KeyIssuer, product: ProductFactory
) -> None:
    mug = await product("Mug", stock=5)
    writer = await api_key("products:write")

    restocked = await shop.catalog().adjust_inventory(staff.principal, mug.id, 10)
    corrected = await shop.catalog().adjust_inventory(writer, mug.id, -15)

    assert restocked.inventory_count == 15
    assert corrected.inventory_count == 0
    assert (await shop.catalog().get_product(mug.id)).inventory_count == 0


async def test_inventory_never_goes_below_zero(
    shop: Container, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", stock=5)

    with pytest.raises(InventoryWouldGoNegative):
        await shop.catalog().adjust_inventory(staff.principal, mug.id, -6)

    assert (await shop.catalog().get_product(mug.id)).inventory_count == 5


@pytest.mark.parametrize("delta", [0, True, 10**9 + 1])
async def test_inventory_adjustment_refuses_a_meaningless_delta(
    shop: Container, staff: Account, product: ProductFactory, delta: int
) -> None:
    mug = await product("Mug", stock=5)

    with pytest.raises(InvalidValue):
        await shop.catalog().adjust_inventory(staff.principal, mug.id, delta)

    assert (await shop.catalog().get_product(mug.id)).inventory_count == 5


async def test_customers_and_read_keys_cannot_adjust_inventory(
    shop: Container, customer: Account, api_key: KeyIssuer, product: ProductFactory
) -> None:
    mug = await product("Mug", stock=5)
    reader = await api_key("products:read")

    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.catalog().adjust_inventory(outsider, mug.id, 5)

    assert (await shop.catalog().get_product(mug.id)).inventory_count == 5


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
async def test_products_are_priced_only_in_the_shops_currency(
    shop: Container, staff: Account, currency: str
) -> None:
    with pytest.raises(InvalidValue) as raised:
        await shop.catalog().create_product(
            staff.principal, NewProduct("Mug", "", Money(1200, currency), 5, "kitchen")
        )

    assert raised.value.field == "price.currency"
    assert shop.settings().shop.currency in raised.value.reason


async def test_a_price_change_to_another_currency_is_refused(
    shop: Container, staff: Account, product: ProductFactory
) -> None:
    mug = await product("Mug", price=1200)

    with pytest.raises(InvalidValue) as raised:
        await shop.catalog().change_product(
            staff.principal, mug.id, ProductChanges(price=Money(900, "EUR"))
        )

    assert raised.value.field == "price.currency"
    assert (await shop.catalog().get_product(mug.id)).price == Money(1200, "USD")
