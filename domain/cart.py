"""The cart: what a user means to buy. Prices are looked up when it is viewed or ordered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.catalog import Product
from domain.errors import Conflict, NotFound, OutOfStock
from domain.values import Quantity

MAX_CART_LINES = 100


@dataclass(kw_only=True, eq=False)
class Cart:
    """One cart per user: each product at most once, 1..99 units per line."""

    user_id: str
    updated_at: datetime
    lines: dict[str, Quantity] = field(default_factory=dict)
    version: int = 1

    def set_item(self, product: Product, quantity: Quantity, now: datetime) -> None:
        """Put `quantity` units of `product` in the cart, replacing any earlier line."""
        if not product.is_available:
            raise NotFound("product", product.id)
        if quantity.value > product.inventory_count:
            raise OutOfStock(product.id, quantity.value, product.inventory_count)
        if product.id not in self.lines and len(self.lines) >= MAX_CART_LINES:
            raise Conflict(f"a cart holds at most {MAX_CART_LINES} different products")
        self.lines[product.id] = quantity
        self._touch(now)

    def remove_item(self, product_id: str, now: datetime) -> None:
        if self.lines.pop(product_id, None) is not None:
            self._touch(now)

    def clear(self, now: datetime) -> None:
        if self.lines:
            self.lines.clear()
            self._touch(now)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def item_count(self) -> int:
        return sum(quantity.value for quantity in self.lines.values())

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
