"""CartRepository contract: one cart per user, lines kept in the order first added."""

from __future__ import annotations

from application.ports.persistence import UnitOfWorkFactory
from domain.cart import Cart
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import (
    a_cart,
    a_product,
    a_user,
    at,
    snapshot,
    store,
)
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


class CartRepositoryContract:
    async def test_a_user_without_a_cart_has_none(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1))
        async with uow() as tx:
            assert await tx.carts.get("user-0001") is None

    async def test_a_cart_round_trips_with_its_lines_in_order(self, uow: UnitOfWorkFactory) -> None:
        user = a_user(1)
        products = [a_product(n, inventory=99) for n in (3, 1, 2)]
        cart = a_cart(user, [(products[0], 2), (products[1], 99), (products[2], 1)])
        await store(uow, user, *products, cart)
        async with uow() as tx:
            found = await tx.carts.get(user.id)
        assert found is not None
        assert snapshot(found) == snapshot(cart)
        assert list(found.lines) == ["prod-0003", "prod-0001", "prod-0002"]

    async def test_changes_to_a_cart_round_trip(self, uow: UnitOfWorkFactory) -> None:
        user = a_user(1)
        products = [a_product(n) for n in range(1, 4)]
        await store(uow, user, *products, a_cart(user, [(products[0], 1), (products[1], 1)]))
        async with uow() as tx:
            cart = await tx.carts.get(user.id)
            assert cart is not None
            cart.set_item(products[0], Quantity(5), at(20))
            cart.remove_item(products[1].id, at(21))
            cart.set_item(products[2], Quantity(2), at(22))
            await tx.carts.save(cart)
            await tx.commit()
        async with uow() as tx:
            found = await tx.carts.get(user.id)
        assert found is not None
        assert snapshot(found) == snapshot(cart)
        assert found.lines == {"prod-0001": Quantity(5), "prod-0003": Quantity(2)}

    async def test_an_emptied_cart_stays_empty(self, uow: UnitOfWorkFactory) -> None:
        user, product = a_user(1), a_product(1)
        await store(uow, user, product, a_cart(user, [(product, 3)]))
        async with uow() as tx:
            cart = await tx.carts.get(user.id)
            assert cart is not None
            cart.clear(at(30))
            await tx.carts.save(cart)
            await tx.commit()
        async with uow() as tx:
            found = await tx.carts.get(user.id)
        assert found is not None
        assert found.is_empty
        assert snapshot(found) == snapshot(cart)

    async def test_a_new_cart_can_be_saved_without_reading_first(
        self, uow: UnitOfWorkFactory
    ) -> None:
        user, product = a_user(1), a_product(1)
        await store(uow, user, product, a_cart(user, [(product, 3)]))
        replacement = Cart(user_id=user.id, updated_at=at(40), version=7)
        async with uow() as tx:
            await tx.carts.save(replacement)
            await tx.commit()
        async with uow() as tx:
            found = await tx.carts.get(user.id)
        assert found is not None
        assert snapshot(found) == snapshot(replacement)

    async def test_carts_of_different_users_are_separate(self, uow: UnitOfWorkFactory) -> None:
        ada, bob, product = a_user(1), a_user(2), a_product(1)
        await store(
            uow, ada, bob, product, a_cart(ada, [(product, 1)]), a_cart(bob, [(product, 4)])
        )
        async with uow() as tx:
            ada_cart = await tx.carts.get(ada.id)
            bob_cart = await tx.carts.get(bob.id)
        assert ada_cart is not None
        assert bob_cart is not None
        assert ada_cart.lines == {product.id: Quantity(1)}
        assert bob_cart.lines == {product.id: Quantity(4)}


class TestCartsInMemory(InMemoryStore, CartRepositoryContract):
    pass


class TestCartsSqlite(SqliteStore, CartRepositoryContract):
    pass


class TestCartsPostgres(PostgresStore, CartRepositoryContract):
    pass
