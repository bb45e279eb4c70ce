"""ProductRepository contract: round trips, stock, and the catalog listing.

A repository lists what a `ProductListing` says, taking its fields as given; the rules a
shopper sees (archived products never listed; `text` a case-insensitive substring of the
name or the description; `category` matched whatever its case and spaces) are the
catalog's, in `application.catalog.product_listing`. `expected_listing` below spells the
shopper's rules out, and a property test holds every adapter, fed by the catalog's
listing, to them over random catalogs, queries and page sizes. What is the adapter's
alone: the listing fields compared as given; sorts by (key, id) with the cursor carrying
both; names sorted by code point.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.catalog import ProductQuery, product_listing
from application.pagination import encode_cursor
from application.ports.persistence import (
    DuplicateRecord,
    PageRequest,
    ProductListing,
    ProductSort,
    ReservedProduct,
    UnitOfWorkFactory,
)
from domain.catalog import Product
from domain.errors import InvalidValue
from domain.money import Money
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import (
    T0,
    a_product,
    an_image,
    at,
    snapshot,
    store,
)
from tests.contract.persistence.persistence_stores import (
    EmptyStore,
    InMemoryStore,
    PostgresStore,
    SqliteStore,
)


def expected_listing(products: list[Product], query: ProductQuery) -> list[str]:
    """The ids a listing must yield, all pages together."""

    def matches(p: Product) -> bool:
        if p.is_archived:
            return False
        if query.text:
            needle = query.text.lower()
            if needle not in p.name.lower() and needle not in p.description.lower():
                return False
        if query.category is not None and p.category != query.category.strip().lower():
            return False
        if query.min_price is not None and p.price.amount < query.min_price:
            return False
        if query.max_price is not None and p.price.amount > query.max_price:
            return False
        return query.in_stock is None or (p.inventory_count > 0) == query.in_stock

    keys = {
        ProductSort.NEWEST_LAST: (lambda p: (p.created_at, p.id), False),
        ProductSort.NEWEST_FIRST: (lambda p: (p.created_at, p.id), True),
        ProductSort.PRICE_LOW_FIRST: (lambda p: (p.price.amount, p.id), False),
        ProductSort.PRICE_HIGH_FIRST: (lambda p: (p.price.amount, p.id), True),
        ProductSort.NAME: (lambda p: (p.name, p.id), False),
    }
    key, descending = keys[query.sort]
    return [p.id for p in sorted(filter(matches, products), key=key, reverse=descending)]


def listing_for(query: ProductQuery) -> ProductListing:
    """The catalog's listing for `query`, except that price bounds it would refuse (min
    above max) go to the adapter as they are: it must answer them with nothing."""
    checked = product_listing(dataclasses.replace(query, min_price=None, max_price=None))
    return dataclasses.replace(checked, min_price=query.min_price, max_price=query.max_price)


async def walk(uow: UnitOfWorkFactory, listing: ProductListing) -> list[list[str]]:
    """Every page of a listing, following the cursors to the end."""
    pages: list[list[str]] = []
    cursor = None
    async with uow() as tx:
        while True:
            page = await tx.products.list_page(
                dataclasses.replace(
                    listing, page=PageRequest(limit=listing.page.limit, cursor=cursor)
                )
            )
            pages.append([p.id for p in page.items])
            assert len(pages) <= 200, "the cursors go round in circles"
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


NAMES = ["apple", "Apple pie", "APPLESAUCE", "banana", "Éclair", "éclair", "zebra", "a_b", "a%b"]
DESCRIPTIONS = ["", "Crisp and red.", "100% cotton", "STRASSE", "naïve café", "under_score"]


@st.composite
def catalogs(draw: st.DrawFn) -> list[Product]:
    count = draw(st.integers(0, 14))
    products = []
    for n in range(count):
        product = a_product(
            n,
            product_id=f"p-{draw(st.sampled_from('abcdef'))}{n:02d}",
            name=draw(st.sampled_from(NAMES)),
            description=draw(st.sampled_from(DESCRIPTIONS)),
            price=draw(st.sampled_from([0, 100, 100, 250, 999])),
            inventory=draw(st.sampled_from([0, 1, 5])),
            category=draw(st.sampled_from(["books", "Toys", "games"])),
            created_at=T0 + timedelta(seconds=draw(st.integers(0, 3))),
        )
        if draw(st.integers(0, 5)) == 0:
            product.archive(product.updated_at)
        products.append(product)
    return products


queries = st.builds(
    ProductQuery,
    text=st.sampled_from([None, "", "apple", "APP", "%", "_", "éc", "É", "cotton", "strasse"]),
    category=st.sampled_from([None, "books", " TOYS ", "nothing"]),
    min_price=st.sampled_from([None, 0, 100, 251]),
    max_price=st.sampled_from([None, 100, 999]),
    in_stock=st.sampled_from([None, True, False]),
    sort=st.sampled_from(list(ProductSort)),
    page=st.builds(PageRequest, limit=st.integers(1, 6)),
)


class ProductRepositoryContract:
    async def test_products_added_together_round_trip_and_are_found_by_sku(
        self, uow: UnitOfWorkFactory
    ) -> None:
        made = [a_product(n, price=100 * n, inventory=n) for n in range(1, 4)]
        for n, product in enumerate(made, start=1):
            product.sku = f"SKU-{n}"
        async with uow() as tx:
            await tx.products.add_many(made)
            await tx.commit()
        async with uow() as tx:
            found = await tx.products.get_by_skus(["SKU-3", "SKU-1", "SKU-9"], for_update=True)
            assert await tx.products.get_by_skus([]) == []
        assert sorted(snapshot(p)["sku"] for p in found) == ["SKU-1", "SKU-3"]
        by_id = {p.id: snapshot(p) for p in found}
        assert by_id["prod-0003"] == snapshot(made[2])

    async def test_a_taken_sku_is_a_duplicate_record(self, uow: UnitOfWorkFactory) -> None:
        first = a_product(1)
        first.sku = "SKU-1"
        await store(uow, first)
        again = a_product(2)
        again.sku = "SKU-1"
        with pytest.raises(DuplicateRecord):
            async with uow() as tx:
                await tx.products.add_many([again])
        with pytest.raises(DuplicateRecord):
            async with uow() as tx:
                await tx.products.add(again)
        other = a_product(3)
        await store(uow, other)
        async with uow() as tx:
            changed = await tx.products.get(other.id, for_update=True)
            assert changed is not None
            changed.change_details(at(9), sku="SKU-1")
            with pytest.raises(DuplicateRecord):
                await tx.products.save(changed)
        async with uow() as tx:
            assert [p.id for p in await tx.products.get_by_skus(["SKU-1"])] == [first.id]

    async def test_a_product_round_trips_with_every_field(self, uow: UnitOfWorkFactory) -> None:
        product = a_product(1, price=123456789, currency="EUR", inventory=7, images=3)
        await store(uow, product)
        async with uow() as tx:
            found = await tx.products.get(product.id)
            locked = await tx.products.get(product.id, for_update=True)
            assert await tx.products.get("nope") is None
        assert found is not None
        assert locked is not None
        assert snapshot(found) == snapshot(product)
        assert snapshot(locked) == snapshot(product)
        assert [image.id for image in found.images] == [
            "img-prod-0001-0",
            "img-prod-0001-1",
            "img-prod-0001-2",
        ]

    async def test_saved_changes_round_trip(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_product(1, images=2))
        async with uow() as tx:
            product = await tx.products.get("prod-0001", for_update=True)
            assert product is not None
            product.change_details(
                at(50),
                name="Renamed",
                description="New words",
                price=Money(5, "USD"),
                category="Garden",
                inventory_count=42,
            )
            product.remove_image("img-prod-0001-0", at(51))
            product.add_image(an_image(7, product_id="prod-0001"), at(52))
            await tx.products.save(product)
            await tx.commit()
        async with uow() as tx:
            found = await tx.products.get("prod-0001")
            assert found is not None
            assert snapshot(found) == snapshot(product)
            found.archive(at(60))
            await tx.products.save(found)
            await tx.commit()
        async with uow() as tx:
            archived = await tx.products.get("prod-0001")
        assert archived is not None
        assert archived.is_archived
        assert snapshot(archived) == snapshot(found)

    async def test_get_many_returns_what_exists_in_the_order_asked(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, *(a_product(n, images=1) for n in range(1, 4)))
        async with uow() as tx:
            found = await tx.products.get_many(["prod-0003", "nope", "prod-0001", "prod-0003"])
            assert await tx.products.get_many([]) == []
        assert [p.id for p in found] == ["prod-0003", "prod-0001"]
        assert [len(p.images) for p in found] == [1, 1]

    async def test_reserving_takes_stock_only_when_there_is_enough(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, a_product(1, inventory=5))
        async with uow() as tx:
            assert "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(3)})
            assert "prod-0001" not in await tx.products.reserve_lines({"prod-0001": Quantity(3)})
            assert "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(2)})
            assert "prod-0001" not in await tx.products.reserve_lines({"prod-0001": Quantity(1)})
            assert "nope" not in await tx.products.reserve_lines({"nope": Quantity(1)})
            await tx.commit()
        async with uow() as tx:
            product = await tx.products.get("prod-0001")
        assert product is not None
        assert product.inventory_count == 0

    async def test_an_archived_product_cannot_be_reserved(self, uow: UnitOfWorkFactory) -> None:
        product = a_product(1, inventory=5)
        product.archive(at(2))
        await store(uow, product)
        async with uow() as tx:
            assert "prod-0001" not in await tx.products.reserve_lines({"prod-0001": Quantity(1)})

    async def test_reserving_lines_takes_each_line_that_has_the_stock_at_its_price(
        self, uow: UnitOfWorkFactory
    ) -> None:
        archived = a_product(4, inventory=5)
        archived.archive(at(2))
        await store(
            uow,
            a_product(1, inventory=5, price=250),
            a_product(2, inventory=1),
            a_product(3, inventory=9, name="Lamp"),
            archived,
        )
        async with uow() as tx:
            taken = await tx.products.reserve_lines(
                {
                    product_id: Quantity(count)
                    for product_id, count in {
                        "prod-0003": 4,
                        "prod-0001": 5,
                        "prod-0002": 2,
                        "prod-0004": 1,
                        "nope": 1,
                    }.items()
                }
            )
            await tx.commit()
        assert taken == {
            "prod-0001": ReservedProduct("prod-0001", "Product 1", Money(250, "USD"), Quantity(5)),
            "prod-0003": ReservedProduct("prod-0003", "Lamp", Money(1999, "USD"), Quantity(4)),
        }
        async with uow() as tx:
            left = {
                p.id: p.inventory_count
                for p in await tx.products.get_many(
                    ["prod-0001", "prod-0002", "prod-0003", "prod-0004"]
                )
            }
            assert await tx.products.reserve_lines({}) == {}
        assert left == {"prod-0001": 0, "prod-0002": 1, "prod-0003": 5, "prod-0004": 5}

    async def test_a_product_read_before_reserving_lines_can_still_be_saved(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await store(uow, a_product(1, inventory=5))
        async with uow() as tx:
            product = await tx.products.get("prod-0001")
            assert product is not None
            assert await tx.products.reserve_lines({"prod-0001": Quantity(2)})
            product.inventory_count = 3
            product.name = "Renamed"
            await tx.products.save(product)
            await tx.commit()
        async with uow() as tx:
            saved = await tx.products.get("prod-0001")
        assert saved is not None
        assert (saved.name, saved.inventory_count) == ("Renamed", 3)

    async def test_releasing_gives_stock_back(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_product(1, inventory=1))
        async with uow() as tx:
            assert "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(1)})
            await tx.products.release_stock("prod-0001", Quantity(3))
            await tx.commit()
        async with uow() as tx:
            product = await tx.products.get("prod-0001")
        assert product is not None
        assert product.inventory_count == 3

    async def test_an_uncommitted_reservation_is_rolled_back(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_product(1, inventory=2))
        async with uow() as tx:
            assert "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(2)})
        async with uow() as tx:
            product = await tx.products.get("prod-0001")
        assert product is not None
        assert product.inventory_count == 2

    async def test_listing_filters(self, uow: UnitOfWorkFactory) -> None:
        archived = a_product(9, name="Archived apple")
        archived.archive(at(10))
        catalog = [
            a_product(1, name="Red Apple", category="Fruit", price=100, inventory=0),
            a_product(2, name="Banana", description="Not an APPLE at all", category="fruit"),
            a_product(3, name="100% Juice", description="pressed", category="Drinks", price=300),
            a_product(4, name="Juice_Box", category="drinks", price=250),
            archived,
        ]
        await store(uow, *catalog)

        async def ids(**filters: object) -> list[str]:
            query = ProductQuery(sort=ProductSort.NEWEST_LAST, **filters)  # type: ignore[arg-type]
            async with uow() as tx:
                return [p.id for p in (await tx.products.list_page(product_listing(query))).items]

        assert await ids() == ["prod-0001", "prod-0002", "prod-0003", "prod-0004"]
        assert await ids(text="apple") == ["prod-0001", "prod-0002"]
        assert await ids(text="%") == ["prod-0003"]
        assert await ids(text="e_b") == ["prod-0004"]
        assert await ids(text="") == await ids()
        assert await ids(category=" FRUIT ") == ["prod-0001", "prod-0002"]
        assert await ids(min_price=250, max_price=300) == ["prod-0003", "prod-0004"]
        assert await ids(in_stock=False) == ["prod-0001"]
        assert await ids(in_stock=True, category="drinks", text="JUICE") == [
            "prod-0003",
            "prod-0004",
        ]

    async def test_a_listing_is_compared_as_given(self, uow: UnitOfWorkFactory) -> None:
        archived = a_product(9, name="Archived apple", category="fruit")
        archived.archive(at(10))
        await store(
            uow,
            a_product(1, name="Red Apple", category="Fruit", price=100),
            a_product(2, name="Banana", description="Not an APPLE at all", category="fruit"),
            a_product(3, name="Juice", category="drinks", price=300, inventory=0),
            archived,
        )

        async def ids(**fields: object) -> list[str]:
            listing = ProductListing(sort=ProductSort.NEWEST_LAST, **fields)  # type: ignore[arg-type]
            async with uow() as tx:
                return [p.id for p in (await tx.products.list_page(listing)).items]

        active = ["prod-0001", "prod-0002", "prod-0003"]
        assert await ids(archived=False) == active
        assert await ids(archived=True) == ["prod-0009"]
        assert await ids(archived=True, text="apple", category="fruit") == ["prod-0009"]
        assert await ids(archived=True, in_stock=False) == []
        # The text is searched for in the searchable (lower-cased) name and description.
        assert await ids(archived=False, text="apple") == ["prod-0001", "prod-0002"]
        assert await ids(archived=False, text="red apple") == ["prod-0001"]
        assert await ids(archived=False, text="an apple") == ["prod-0002"]
        assert await ids(archived=False, text="") == active
        # The category is compared as stored: trimming and case are the catalog's.
        assert await ids(archived=False, category="fruit") == ["prod-0001", "prod-0002"]
        assert await ids(archived=False, category="Fruit") == []
        assert await ids(archived=False, category=" fruit ") == []
        assert await ids(archived=False, min_price=100, max_price=100) == ["prod-0001"]
        assert await ids(archived=False, in_stock=False) == ["prod-0003"]
        assert await ids(archived=False, in_stock=True) == ["prod-0001", "prod-0002"]

    async def test_names_sort_by_code_point(self, uow: UnitOfWorkFactory) -> None:
        names = ["banana", "Banana", "éclair", "Zebra", "apple", "Äpfel", "_under", "10 pens"]
        await store(uow, *(a_product(n, name=name) for n, name in enumerate(names)))
        async with uow() as tx:
            page = await tx.products.list_page(
                ProductListing(archived=False, sort=ProductSort.NAME)
            )
        assert [p.name for p in page.items] == sorted(names)

    @pytest.mark.parametrize("sort", list(ProductSort))
    async def test_every_sort_pages_through_ties_without_gaps_or_repeats(
        self, uow: UnitOfWorkFactory, sort: ProductSort
    ) -> None:
        catalog = [
            a_product(
                n,
                product_id=f"p-{(n * 7) % 11:02d}",
                name=["Mug", "Lamp", "Mug"][n % 3],
                price=[500, 100, 500, 100][n % 4],
                created_at=at(n % 3),
            )
            for n in range(11)
        ]
        await store(uow, *catalog)
        query = ProductQuery(sort=sort, page=PageRequest(limit=2))
        pages = await walk(uow, product_listing(query))
        assert [len(page) for page in pages] == [2, 2, 2, 2, 2, 1]
        assert [pid for page in pages for pid in page] == expected_listing(catalog, query)

    async def test_a_bad_cursor_is_invalid(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_product(1), a_product(2))
        wrong_kind = {
            ProductSort.NAME: encode_cursor(5, "prod-0001"),
            ProductSort.PRICE_LOW_FIRST: encode_cursor("Product 1", "prod-0001"),
            ProductSort.NEWEST_FIRST: encode_cursor(5, "prod-0001"),
        }
        async with uow() as tx:
            with pytest.raises(InvalidValue):
                await tx.products.list_page(
                    ProductListing(archived=False, page=PageRequest(cursor="%%%"))
                )
            with pytest.raises(InvalidValue):
                await tx.products.list_page(
                    ProductListing(archived=False, page=PageRequest(cursor="WzEsMiwzXQ"))
                )
            for sort, cursor in wrong_kind.items():
                with pytest.raises(InvalidValue):
                    await tx.products.list_page(
                        ProductListing(archived=False, sort=sort, page=PageRequest(cursor=cursor))
                    )

    @settings(
        max_examples=30,
        deadline=None,
        # Each example starts from an empty store; every adapter runs the same method.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(catalog=catalogs(), query=queries)
    async def test_any_listing_walks_to_the_end_exactly_once(
        self,
        uow: UnitOfWorkFactory,
        empty_store: EmptyStore,
        catalog: list[Product],
        query: ProductQuery,
    ) -> None:
        await empty_store()
        await store(uow, *catalog)
        pages = await walk(uow, listing_for(query))
        assert all(0 < len(page) <= query.page.limit for page in pages[:-1])
        assert len(pages[-1]) <= query.page.limit
        assert [pid for page in pages for pid in page] == expected_listing(catalog, query)


class TestProductsInMemory(InMemoryStore, ProductRepositoryContract):
    pass


class TestProductsSqlite(SqliteStore, ProductRepositoryContract):
    pass


class TestProductsPostgres(PostgresStore, ProductRepositoryContract):
    pass
