"""What the SQL unit of work promises beyond the persistence contract, on both databases:
stale saves are refused, errors map to the port's exceptions, timestamps stay UTC, and
catalog listings can be served by a read replica."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import async_url, create_engine, sync_url
from application.ports.persistence import (
    ConcurrencyConflict,
    DuplicateRecord,
    ProductListing,
    UnitOfWorkFactory,
)
from domain.cart import Cart
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import (
    a_cart,
    a_product,
    a_user,
    an_api_key,
    an_order,
    at,
    store,
)
from tests.sql_fixtures import sql_units_of_work


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    chosen: AsyncEngine = request.getfixturevalue(
        "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    )
    return chosen


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return sql_units_of_work(engine)


async def test_a_stale_copy_cannot_overwrite_a_reservation(uow: UnitOfWorkFactory) -> None:
    await store(uow, a_product(1, inventory=5))
    async with uow() as editor:
        stale = await editor.products.get("prod-0001")
        assert stale is not None
        await editor.commit()
        async with uow() as buyer:
            assert "prod-0001" in await buyer.products.reserve_lines({"prod-0001": Quantity(2)})
            await buyer.commit()
        stale.change_details(at(10), name="Renamed")
        with pytest.raises(ConcurrencyConflict):
            await editor.products.save(stale)
    async with uow() as tx:
        product = await tx.products.get("prod-0001")
    assert product is not None
    assert (product.name, product.inventory_count) == ("Product 1", 3)


async def test_emptying_a_stale_cart_conflicts_and_keeps_its_lines(
    uow: UnitOfWorkFactory,
) -> None:
    """On PostgreSQL the cart's lines are deleted in the same statement as its UPDATE:
    a stale version must leave both alone."""
    user, mug, lamp = a_user(1), a_product(1), a_product(2)
    await store(uow, user, mug, lamp, a_cart(user, [(mug, 1)]))
    async with uow() as checkout:
        stale = await checkout.carts.get(user.id)
        assert stale is not None
        await checkout.commit()
        async with uow() as shopper:
            fresh = await shopper.carts.get(user.id)
            assert fresh is not None
            fresh.set_item(lamp, Quantity(2), at(20))
            await shopper.carts.save(fresh)
            await shopper.commit()
        stale.clear(at(21))
        with pytest.raises(ConcurrencyConflict):
            await checkout.carts.save(stale)
    async with uow() as tx:
        cart = await tx.carts.get(user.id)
    assert cart is not None
    assert cart.lines == {"prod-0001": Quantity(1), "prod-0002": Quantity(2)}


async def test_own_reservations_do_not_make_a_save_stale(uow: UnitOfWorkFactory) -> None:
    await store(uow, a_product(1, inventory=5))
    async with uow() as tx:
        product = await tx.products.get("prod-0001", for_update=True)
        assert product is not None
        assert "prod-0001" in await tx.products.reserve_lines({"prod-0001": Quantity(1)})
        await tx.products.release_stock("prod-0001", Quantity(1))
        product.change_details(at(10), name="Renamed")
        await tx.products.save(product)
        await tx.commit()


async def test_two_carts_emptied_from_one_read_conflict(uow: UnitOfWorkFactory) -> None:
    user, product = a_user(1), a_product(1)
    await store(uow, user, product, a_cart(user, [(product, 2)]))
    async with uow() as first:
        cart = await first.carts.get(user.id)
        assert cart is not None
        await first.commit()
        async with uow() as second:
            other = await second.carts.get(user.id)
            assert other is not None
            other.clear(at(5))
            await second.carts.save(other)
            await second.commit()
        cart.clear(at(6))
        with pytest.raises(ConcurrencyConflict):
            await first.carts.save(cart)


async def test_a_cart_created_meanwhile_is_a_conflict(uow: UnitOfWorkFactory) -> None:
    user, product = a_user(1), a_product(1)
    await store(uow, user, product)
    async with uow() as first:
        assert await first.carts.get(user.id) is None
        await first.commit()
        await store(uow, a_cart(user, [(product, 1)]))
        fresh = Cart(user_id=user.id, updated_at=at(9))
        fresh.set_item(product, Quantity(3), at(9))
        with pytest.raises(ConcurrencyConflict):
            await first.carts.save(fresh)


async def test_saving_what_was_never_added_is_a_bug(uow: UnitOfWorkFactory) -> None:
    async with uow() as tx:
        with pytest.raises(LookupError):
            await tx.products.save(a_product(1))


async def test_duplicate_ids_are_refused_and_the_transaction_goes_on(
    uow: UnitOfWorkFactory,
) -> None:
    user, mug = a_user(1), a_product(1)
    await store(uow, user, mug, an_api_key(1), an_order(user, [(mug, 1)], number=1001))
    async with uow() as tx:
        with pytest.raises(DuplicateRecord):
            await tx.products.add(a_product(1))
        with pytest.raises(DuplicateRecord):
            await tx.api_keys.add(an_api_key(1))
        with pytest.raises(DuplicateRecord):
            await tx.orders.add(an_order(user, [(mug, 1)], number=1001))
        with pytest.raises(DuplicateRecord):
            await tx.orders.add(an_order(user, [(mug, 1)], number=1001, order_id="other"))
        await tx.products.add(a_product(2))
        await tx.commit()
    async with uow() as tx:
        assert await tx.products.get("prod-0002") is not None


async def test_timestamps_come_back_as_the_same_instant_in_utc(uow: UnitOfWorkFactory) -> None:
    eastern = timezone(timedelta(hours=-5))
    await store(uow, a_product(1, created_at=datetime(2026, 5, 1, 7, 30, 0, 1, tzinfo=eastern)))
    async with uow() as tx:
        product = await tx.products.get("prod-0001")
    assert product is not None
    assert product.created_at == datetime(2026, 5, 1, 12, 30, 0, 1, tzinfo=UTC)
    assert product.created_at.tzinfo is UTC


async def test_a_naive_timestamp_is_refused(uow: UnitOfWorkFactory) -> None:
    product = a_product(1, created_at=datetime(2026, 5, 1, 7, 30))
    async with uow() as tx:
        with pytest.raises(StatementError) as refused:
            await tx.products.add(product)
    assert isinstance(refused.value.orig, ValueError)


async def test_a_unit_of_work_is_used_once_at_a_time(engine: AsyncEngine) -> None:
    unit = sql_units_of_work(engine)()
    async with unit:
        with pytest.raises(RuntimeError):
            await unit.__aenter__()
    with pytest.raises(RuntimeError):
        await unit.commit()


async def test_catalog_listings_are_read_from_the_replica(engine: AsyncEngine) -> None:
    replica = create_engine(engine.url)
    replica_statements: list[str] = []
    event.listen(
        replica.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: replica_statements.append(statement),
    )
    try:
        uow = sql_units_of_work(engine, read_engine=replica)
        await store(uow, a_product(1, images=1), a_product(2))
        async with uow() as tx:
            page = await tx.products.list_page(ProductListing(archived=False))
            assert [p.id for p in page.items] == ["prod-0002", "prod-0001"]
            assert len(page.items[1].images) == 1
            listing_statements = len(replica_statements)
            assert await tx.products.get("prod-0001") is not None
    finally:
        await replica.dispose()
    assert any("FROM products" in statement for statement in replica_statements)
    assert len(replica_statements) == listing_statements  # get() stayed on the primary


async def test_sqlite_gives_up_waiting_for_the_write_lock_with_a_conflict(
    sqlite_url: str,
) -> None:
    impatient = create_engine(sqlite_url, sqlite_busy_timeout=0.05)
    try:
        uow = sql_units_of_work(impatient)
        await store(uow, a_product(1))
        async with uow() as holder:
            assert "prod-0001" in await holder.products.reserve_lines({"prod-0001": Quantity(1)})
            async with uow() as waiter:
                with pytest.raises(ConcurrencyConflict):
                    await waiter.products.get("prod-0001")
    finally:
        await impatient.dispose()


async def test_sqlite_connections_are_set_up_for_one_writer_at_a_time(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.connect() as connection:
        pragmas = {
            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}


def test_database_urls_get_the_drivers_hexmart_uses() -> None:
    assert async_url("postgresql://u:p%40ss@db/shop").drivername == "postgresql+psycopg"
    assert async_url("postgres://db/shop").drivername == "postgresql+psycopg"
    assert async_url("sqlite:///hexmart.db").drivername == "sqlite+aiosqlite"
    assert sync_url("sqlite+aiosqlite:///hexmart.db").drivername == "sqlite"
    assert sync_url("postgresql+psycopg://db/shop").drivername == "postgresql+psycopg"
    assert async_url("postgresql://u:p%40ss@db/shop").password == "p@ss"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://db/shop")
