"""The shopper's cart, at today's prices."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.cart import CartView
from domain.values import MAX_QUANTITY, MIN_QUANTITY
from entrypoints.http.schemas.common import Money, money_out


class CartLine(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Annotated[int, msgspec.Meta(ge=MIN_QUANTITY, le=MAX_QUANTITY)]


class CartItem(msgspec.Struct):
    product_id: str
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class Cart(msgspec.Struct):
    items: list[CartItem]
    total: Money
    item_count: int


def cart_out(view: CartView) -> Cart:
    return Cart(
        items=[
            CartItem(
                product_id=item.product_id,
                name=item.name,
                unit_price=money_out(item.unit_price),
                quantity=item.quantity,
                line_total=money_out(item.line_total),
            )
            for item in view.items
        ],
        total=money_out(view.total),
        item_count=view.item_count,
    )
