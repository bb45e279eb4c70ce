"""Fixtures for the use-case tests: a whole shop in memory, its people and its goods."""

from __future__ import annotations

import pytest

from application.catalog import NewProduct
from application.orders import PlacedOrder
from application.principal import Principal
from domain.catalog import Product
from domain.money import Money
from domain.users import Role
from domain.values import Address
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from tests.application.shopping import (
    PASSWORD,
    Account,
    CartFiller,
    KeyIssuer,
    OrderPlacer,
    ProductFactory,
    an_address,
    pay,
    sign_in,
)


@pytest.fixture
def shop() -> Container:
    return in_memory_container()


async def _register(shop: Container, email: str, full_name: str) -> Account:
    await shop.authentication().register(email=email, password=PASSWORD, full_name=full_name)
    return await sign_in(shop, email)


@pytest.fixture
async def customer(shop: Container) -> Account:
    return await _register(shop, "ann@example.com", "Ann Archer")


@pytest.fixture
async def other_customer(shop: Container) -> Account:
    return await _register(shop, "bob@example.com", "Bob Baker")


@pytest.fixture
async def admin(shop: Container) -> Account:
    created = await shop.user_accounts().ensure_first_admin(
        email="root@example.com", password=PASSWORD
    )
    assert created is not None
    return await sign_in(shop, "root@example.com")


@pytest.fixture
async def staff(shop: Container, admin: Account) -> Account:
    await shop.user_accounts().create_user(
        admin.principal,
        email="sam@example.com",
        password=PASSWORD,
        full_name="Sam Staff",
        role=Role.STAFF,
    )
    return await sign_in(shop, "sam@example.com")


@pytest.fixture
def api_key(shop: Container, admin: Account) -> KeyIssuer:
    """Issue an API key with the given scopes and sign in with it."""

    async def issue(*scopes: str) -> Principal:
        issued = await shop.api_keys().create(admin.principal, name="partner", scopes=list(scopes))
        return await shop.authentication().authenticate_api_key(issued.key)

    return issue


@pytest.fixture
def product(shop: Container, staff: Account) -> ProductFactory:
    async def create(
        name: str = "Mug",
        *,
        price: int = 1200,
        currency: str = "USD",
        stock: int = 5,
        category: str = "kitchen",
        description: str = "A mug for tea",
    ) -> Product:
        if currency != shop.settings().shop.currency:
            # The catalog prices only in the shop's currency: a product in another one
            # is left from before the shop changed it, so it is stored as it was.
            now = shop.clock().now()
            legacy = Product(
                id=shop.ids().new_id(),
                name=name,
                description=description,
                price=Money(price, currency),
                inventory_count=stock,
                category=category,
                created_at=now,
                updated_at=now,
            )
            async with shop.unit_of_work()() as uow:
                await uow.products.add(legacy)
                await uow.commit()
            return legacy
        return await shop.catalog().create_product(
            staff.principal,
            NewProduct(name, description, Money(price, currency), stock, category),
        )

    return create


@pytest.fixture
def cart_with(shop: Container, customer: Account) -> CartFiller:
    """Put (product, quantity) pairs in a user's cart (the customer's by default)."""

    async def fill(*lines: tuple[Product, int], who: Account | None = None) -> None:
        buyer = who or customer
        for item, quantity in lines:
            await shop.carts().set_item(buyer.principal, item.id, quantity)

    return fill


@pytest.fixture
def place(shop: Container, customer: Account) -> OrderPlacer:
    """Place an order from a user's cart (the customer's by default)."""
    keys = iter(range(1, 10_000))

    async def place_order(
        who: Account | None = None, *, key: str | None = None, address: Address | None = None
    ) -> PlacedOrder:
        buyer = who or customer
        return await shop.orders().place_order(
            buyer.principal,
            idempotency_key=key or f"key-{next(keys)}",
            shipping_address=address or an_address(),
        )

    return place_order


@pytest.fixture
async def mug(product: ProductFactory) -> Product:
    return await product("Mug", price=1200, stock=5)


@pytest.fixture
async def placed_order(cart_with: CartFiller, place: OrderPlacer, mug: Product) -> PlacedOrder:
    """The customer's pending order for 2 mugs (2400 USD), its intent created."""
    await cart_with((mug, 2))
    return await place()


@pytest.fixture
async def paid_order(shop: Container, placed_order: PlacedOrder) -> PlacedOrder:
    await pay(shop, placed_order)
    return placed_order
