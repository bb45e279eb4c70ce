"""Aggregates with every field filled in, and helpers to store and compare them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from application.ports.persistence import IdempotencyRecord, OutboxMessage, UnitOfWorkFactory
from domain.cart import Cart
from domain.catalog import Product, ProductImage
from domain.money import Money
from domain.orders import Order, OrderLine
from domain.payments import Payment
from domain.users import ApiKey, Role, Scope, User
from domain.values import Address, Email, Quantity

# Microseconds on purpose: a store that drops them fails the round trips.
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def snapshot(aggregate: Any) -> dict[str, Any]:
    """Every public field, for comparing aggregates (they compare by identity)."""
    return {
        field.name: getattr(aggregate, field.name)
        for field in dataclasses.fields(aggregate)
        if not field.name.startswith("_")
    }


def a_user(
    n: int = 1,
    *,
    user_id: str | None = None,
    email: str | None = None,
    role: Role = Role.CUSTOMER,
    created_at: datetime | None = None,
) -> User:
    moment = created_at or at(n)
    return User(
        id=user_id or f"user-{n:04d}",
        email=Email(email or f"Shopper.{n}@Example.com"),
        full_name=f"Shopper Number {n}",
        password_hash=f"$argon2id$v=19$m=65536,t=3,p=4$salt{n}$hash{n}",
        role=role,
        is_active=True,
        created_at=moment,
        updated_at=moment,
    )


def an_api_key(n: int = 1, *, created_by: str = "user-0001") -> ApiKey:
    return ApiKey(
        id=f"key-{n:04d}",
        name=f"integration {n}",
        scopes=frozenset({Scope.PRODUCTS_READ, Scope.ORDERS_WRITE}),
        key_hash=f"{n:064x}",
        prefix=f"hxm_{n:06d}",
        created_by=created_by,
        created_at=at(n),
        creator_role_epoch=n + 1,
    )


def an_image(n: int, *, product_id: str = "p") -> ProductImage:
    return ProductImage(
        id=f"img-{product_id}-{n}",
        storage_key=f"products/{product_id}/{n}.png",
        content_type="image/png",
        created_at=at(100 + n),
    )


def a_product(
    n: int = 1,
    *,
    product_id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    price: int = 1999,
    currency: str = "USD",
    inventory: int = 10,
    category: str = "Books",
    created_at: datetime | None = None,
    images: int = 0,
) -> Product:
    pid = product_id or f"prod-{n:04d}"
    moment = created_at or at(n)
    return Product(
        id=pid,
        name=name if name is not None else f"Product {n}",
        description=description if description is not None else f"About product {n}.",
        price=Money(price, currency),
        inventory_count=inventory,
        category=category,
        created_at=moment,
        updated_at=moment,
        images=[an_image(i, product_id=pid) for i in range(images)],
    )


def an_address(*, line2: str | None = "Flat 4") -> Address:
    return Address(
        name="Ada Lovelace",
        line1="12 Analytical Row",
        line2=line2,
        city="London",
        postal_code="N1 9GU",
        country="gb",
    )


def an_order(
    user: User,
    lines: list[tuple[Product, int]],
    *,
    number: int,
    order_id: str | None = None,
    created_at: datetime | None = None,
) -> Order:
    return Order.place(
        order_id=order_id or f"order-{number:06d}",
        number=number,
        user_id=user.id,
        lines=[
            OrderLine(product.id, product.name, product.price, Quantity(quantity))
            for product, quantity in lines
        ],
        shipping_address=an_address(),
        now=created_at or at(number),
    )


def a_payment(order: Order, *, payment_id: str | None = None, intent: bool = True) -> Payment:
    payment = Payment.start(
        payment_id=payment_id or f"pay-{order.id}",
        order_id=order.id,
        user_id=order.user_id,
        provider="local",
        amount=order.total_amount,
        now=order.created_at,
    )
    if intent:
        payment.attach_intent(f"pi_{order.id}", f"pi_{order.id}_secret", order.created_at)
    return payment


def a_cart(user: User, lines: list[tuple[Product, int]], *, now: datetime = T0) -> Cart:
    cart = Cart(user_id=user.id, updated_at=now)
    for product, quantity in lines:
        cart.set_item(product, Quantity(quantity), now)
    return cart


def a_message(n: int, *, seconds: float | None = None) -> OutboxMessage:
    return OutboxMessage(
        id=f"msg-{n:03d}",
        name="order_shipped",
        payload={
            "order_id": f"order-{n}",
            "order_number": 1000 + n,
            "user_id": "user-0001",
            "tracking_number": None if n % 2 else f"T{n}",
        },
        created_at=at(n if seconds is None else seconds),
    )


def a_record(key: str, *, user_id: str = "user-0001", seconds: float = 0) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=user_id,
        key=key,
        request_fingerprint=f"sha256:{key}",
        order_id=f"order-for-{key}",
        created_at=at(seconds),
    )


async def store(uow_factory: UnitOfWorkFactory, *aggregates: Any) -> None:
    """Add aggregates in one committed unit of work (parents before children)."""
    async with uow_factory() as uow:
        for aggregate in aggregates:
            if isinstance(aggregate, User):
                await uow.users.add(aggregate)
            elif isinstance(aggregate, ApiKey):
                await uow.api_keys.add(aggregate)
            elif isinstance(aggregate, Product):
                await uow.products.add(aggregate)
            elif isinstance(aggregate, Order):
                await uow.orders.add(aggregate)
            elif isinstance(aggregate, Payment):
                await uow.payments.add(aggregate)
            elif isinstance(aggregate, Cart):
                await uow.carts.save(aggregate)
            else:
                raise TypeError(f"cannot store {aggregate!r}")
        await uow.commit()
