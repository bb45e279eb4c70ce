"""The shopper's cart, shown with current prices."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock
from application.principal import Principal
from application.transactions import in_transaction
from domain.cart import Cart
from domain.errors import CurrencyMismatch, InvalidValue, NotFound, RuleViolation
from domain.money import MAX_AMOUNT, Money, sum_money
from domain.values import Quantity


@dataclass(frozen=True, slots=True)
class CartItem:
    product_id: str
    name: str
    unit_price: Money
    quantity: int

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class CartView:
    items: list[CartItem]
    total: Money

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)


class Carts:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, currency: str) -> None:
        """`currency` is the shop's currency, used for the total of an empty cart."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._currency = currency

    async def view(self, actor: Principal) -> CartView:
        """The cart's lines at today's prices; products archived since are left out."""
        user_id = actor.require_user()
        async with self._uow_factory() as uow:
            return await self._view(uow, user_id)

    async def set_item(self, actor: Principal, product_id: str, quantity: int) -> CartView:
        """Put `quantity` (1..99) units of a product in the cart, replacing its line."""
        user_id = actor.require_user()
        wanted = Quantity(quantity)

        async def put(uow: UnitOfWork) -> CartView:
            product = await uow.products.get(product_id)
            if product is None:
                raise NotFound("product", product_id)
            cart = await self._cart(uow, user_id)
            others = await uow.products.get_many([pid for pid in cart.lines if pid != product_id])
            for other in others:
                if other.is_available and other.price.currency != product.price.currency:
                    raise CurrencyMismatch(
                        f"the cart holds {other.price.currency} items; "
                        f"this product is priced in {product.price.currency}"
                    )
            lines = [(o.price.amount, cart.lines[o.id].value) for o in others if o.is_available]
            total = product.price.amount * wanted.value + sum(a * q for a, q in lines)
            if total > MAX_AMOUNT:
                raise RuleViolation(
                    f"the cart's total would be {total} minor units, above the largest "
                    f"amount the shop handles ({MAX_AMOUNT})"
                )
            cart.set_item(product, wanted, self._clock.now())
            await uow.carts.save(cart)
            return await self._view(uow, user_id)

        return await in_transaction(self._uow_factory, put)

    async def remove_item(self, actor: Principal, product_id: str) -> None:
        user_id = actor.require_user()

        async def remove(uow: UnitOfWork) -> None:
            cart = await self._cart(uow, user_id)
            cart.remove_item(product_id, self._clock.now())
            await uow.carts.save(cart)

        await in_transaction(self._uow_factory, remove)

    async def clear(self, actor: Principal) -> None:
        user_id = actor.require_user()

        async def clear(uow: UnitOfWork) -> None:
            cart = await self._cart(uow, user_id)
            cart.clear(self._clock.now())
            await uow.carts.save(cart)

        await in_transaction(self._uow_factory, clear)

    async def _cart(self, uow: UnitOfWork, user_id: str) -> Cart:
        cart = await uow.carts.get(user_id)
        return cart if cart is not None else Cart(user_id=user_id, updated_at=self._clock.now())

    async def _view(self, uow: UnitOfWork, user_id: str) -> CartView:
        cart = await uow.carts.get(user_id)
        if cart is None or cart.is_empty:
            return CartView(items=[], total=Money.zero(self._currency))
        products = {p.id: p for p in await uow.products.get_many(list(cart.lines))}
        items = [
            CartItem(
                product_id=pid,
                name=products[pid].name,
                unit_price=products[pid].price,
                quantity=quantity.value,
            )
            for pid, quantity in cart.lines.items()
            if pid in products and products[pid].is_available
        ]
        currency = items[0].unit_price.currency if items else self._currency
        try:
            return CartView(items=items, total=sum_money([i.line_total for i in items], currency))
        except InvalidValue as error:
            # Prices raised since the lines were put in: the cart can no longer be totalled.
            raise RuleViolation(
                "the cart's total is above the largest amount the shop handles; "
                "lower a quantity or remove a line"
            ) from error
