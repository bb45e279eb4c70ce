"""Builders and hypothesis strategies shared by the domain tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.catalog import Product
from domain.money import MAX_AMOUNT, Money
from domain.orders import Order, OrderLine
from domain.values import Address, Quantity

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)

CURRENCIES = ("USD", "EUR", "GBP", "JPY")

currencies = st.sampled_from(CURRENCIES)
valid_amounts = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)
# Prices small enough that 99 units of 100 lines still fit comfortably under MAX_AMOUNT.
prices = st.integers(min_value=0, max_value=10**9)
quantities = st.integers(min_value=1, max_value=99)


def money(currency: str = "USD") -> st.SearchStrategy[Money]:
    return st.builds(Money, valid_amounts, st.just(currency))


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def an_address() -> Address:
    return Address(
        name="Ada Lovelace",
        line1="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="GB",
    )


def a_product(
    product_id: str = "p-1",
    *,
    price: Money | None = None,
    stock: int = 10,
    archived: bool = False,
) -> Product:
    return Product(
        id=product_id,
        name=f"Product {product_id}",
        description="A thing worth buying",
        price=price if price is not None else usd(1999),
        inventory_count=stock,
        category="Gadgets",
        created_at=NOW,
        updated_at=NOW,
        is_archived=archived,
    )


def a_line(
    product_id: str = "p-1", unit_price: Money | None = None, quantity: int = 1
) -> OrderLine:
    return OrderLine(
        product_id=product_id,
        name=f"Product {product_id}",
        unit_price=unit_price if unit_price is not None else usd(1999),
        quantity=Quantity(quantity),
    )


def a_pending_order(lines: list[OrderLine] | None = None, order_id: str = "o-1") -> Order:
    return Order.place(
        order_id=order_id,
        number=1001,
        user_id="u-1",
        lines=lines
        if lines is not None
        else [a_line("p-1", usd(1999), 2), a_line("p-2", usd(500))],
        shipping_address=an_address(),
        now=NOW,
    )


@st.composite
def order_lines(
    draw: st.DrawFn, currency: str = "USD", min_size: int = 1, max_size: int = 10
) -> list[OrderLine]:
    """Lines for distinct products, all in one currency."""
    product_ids = draw(
        st.lists(
            st.text("abcdefghij0123456789", min_size=1, max_size=8),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    return [
        OrderLine(
            product_id=product_id,
            name=f"Product {product_id}",
            unit_price=Money(draw(prices), currency),
            quantity=Quantity(draw(quantities)),
        )
        for product_id in product_ids
    ]
