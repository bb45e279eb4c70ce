"""Random shopping against a small stock, checked after every step.

Two customers fill carts and place orders (each line reserved with Product.reserve, all or
nothing) while a rival buyer races them for the same units; orders are cancelled (twice,
too), paid and shipped, and staff restock and correct inventory. Stock must never go
negative, and every unit must be either on the shelf or held by an order not cancelled.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from domain.cart import Cart
from domain.catalog import Product
from domain.errors import (
    EmptyCart,
    IllegalTransition,
    InventoryWouldGoNegative,
    OutOfStock,
)
from domain.orders import Order, OrderLine, OrderStatus
from domain.values import Quantity
from tests.domain.builders import LATER, NOW, a_product, an_address, usd

CUSTOMERS = ("u-1", "u-2")
RIVAL = "u-rival"

customers = st.sampled_from(CUSTOMERS)
product_indexes = st.integers(min_value=0, max_value=2)
wanted = st.integers(min_value=1, max_value=5)


class CartsAndStock(RuleBasedStateMachine):
    orders = Bundle("orders")
    cancelled_orders = Bundle("cancelled_orders")

    products: dict[str, Product]

    @initialize(stocks=st.lists(st.integers(min_value=0, max_value=8), min_size=3, max_size=3))
    def stock_the_shelves(self, stocks: list[int]) -> None:
        self.products = {
            f"p-{index}": a_product(f"p-{index}", price=usd(100 * (index + 1)), stock=stock)
            for index, stock in enumerate(stocks)
        }
        # Units the shop owns per product: initial stock plus accepted adjustments.
        self.owned = {product_id: p.inventory_count for product_id, p in self.products.items()}
        self.carts = {user: Cart(user_id=user, updated_at=NOW) for user in (*CUSTOMERS, RIVAL)}
        # What each order that has not been cancelled holds, by the test's own bookkeeping.
        self.held: dict[str, dict[str, int]] = {}
        self.placed: dict[str, Order] = {}
        self.next_order = 1

    def product(self, index: int) -> Product:
        return self.products[f"p-{index}"]

    def stock(self) -> dict[str, int]:
        return {product_id: p.inventory_count for product_id, p in self.products.items()}

    # --- customers ----------------------------------------------------------------------

    @rule(user=customers, index=product_indexes, quantity=wanted)
    def add_to_cart(self, user: str, index: int, quantity: int) -> None:
        cart, product = self.carts[user], self.product(index)
        before = dict(cart.lines)
        if quantity > product.inventory_count:
            with pytest.raises(OutOfStock):
                cart.set_item(product, Quantity(quantity), LATER)
            assert cart.lines == before
            return
        cart.set_item(product, Quantity(quantity), LATER)
        assert cart.lines[product.id] == Quantity(quantity)

    @rule(user=customers, index=product_indexes)
    def remove_from_cart(self, user: str, index: int) -> None:
        cart = self.carts[user]
        cart.remove_item(f"p-{index}", LATER)
        assert f"p-{index}" not in cart.lines

    @rule(target=orders, user=customers)
    def place_order(self, user: str) -> object:
        return self.checkout(user)

    @rule(target=orders, user=customers, index=product_indexes, one_short=st.booleans())
    def rival_buys_almost_everything(self, user: str, index: int, one_short: bool) -> object:
        """Another buyer takes stock of something in `user`'s cart, leaving `user` either
        exactly enough or one unit too few: the boundary where overselling would show."""
        cart = self.carts[user]
        if cart.is_empty:
            return multiple()
        product_id = sorted(cart.lines)[index % len(cart.lines)]
        product = self.products[product_id]
        leave = max(0, cart.lines[product_id].value - (1 if one_short else 0))
        take = min(product.inventory_count - leave, 99)
        if take <= 0:
            return multiple()
        rival = self.carts[RIVAL]
        rival.clear(LATER)
        rival.set_item(product, Quantity(take), LATER)
        return self.checkout(RIVAL)

    def checkout(self, user: str) -> object:
        """What the place-order use case does: reserve every line or none, then order."""
        cart = self.carts[user]
        stock_before = self.stock()
        if cart.is_empty:
            with pytest.raises(EmptyCart):
                Order.place(
                    order_id="never",
                    number=0,
                    user_id=user,
                    lines=[],
                    shipping_address=an_address(),
                    now=LATER,
                )
            return multiple()

        # Reserve every line or none: on the first shortage, give back what was taken.
        reserved: list[tuple[Product, int]] = []
        try:
            for product_id, quantity in cart.lines.items():
                product = self.products[product_id]
                product.reserve(quantity.value)
                reserved.append((product, quantity.value))
        except OutOfStock:
            for product, units in reserved:
                product.release(units)
            assert self.stock() == stock_before
            assert any(q.value > stock_before[pid] for pid, q in cart.lines.items())
            event("placing refused: out of stock")
            return multiple()
        assert all(q.value <= stock_before[pid] for pid, q in cart.lines.items())

        event("order placed")
        order_id = f"o-{self.next_order}"
        order = Order.place(
            order_id=order_id,
            number=self.next_order,
            user_id=user,
            lines=[
                OrderLine(
                    product_id=product_id,
                    name=self.products[product_id].name,
                    unit_price=self.products[product_id].price,
                    quantity=quantity,
                )
                for product_id, quantity in cart.lines.items()
            ],
            shipping_address=an_address(),
            now=LATER,
        )
        self.held[order_id] = {pid: q.value for pid, q in cart.lines.items()}
        self.placed[order_id] = order
        for product_id, units in self.held[order_id].items():
            assert self.stock()[product_id] == stock_before[product_id] - units
        cart.clear(LATER)
        self.next_order += 1
        return order

    def cancel_and_release(self, order: Order) -> None:
        """What the cancel-order and expire-orders use cases do in one transaction."""
        order.cancel("customer asked", LATER)
        for line in order.lines:
            self.products[line.product_id].release(line.quantity.value)

    @rule(target=cancelled_orders, order=consumes(orders))
    def cancel_order(self, order: Order) -> object:
        stock_before = self.stock()
        if order.status not in (OrderStatus.PENDING, OrderStatus.PAID):
            with pytest.raises(IllegalTransition):
                self.cancel_and_release(order)
            assert self.stock() == stock_before
            return multiple()
        self.cancel_and_release(order)
        released = self.held.pop(order.id)
        for product_id, before in stock_before.items():
            assert self.stock()[product_id] == before + released.get(product_id, 0)
        return order

    @rule(order=cancelled_orders)
    def cancel_again(self, order: Order) -> None:
        stock_before = self.stock()
        with pytest.raises(IllegalTransition):
            self.cancel_and_release(order)
        assert self.stock() == stock_before
        assert order.status is OrderStatus.CANCELLED
        event("second cancel refused")

    @rule(order=orders)
    def pay_or_ship(self, order: Order) -> None:
        """Move a live order along; shipped stock is sold and never comes back."""
        if order.status is OrderStatus.PENDING:
            order.mark_paid(order.total_amount, LATER)
        elif order.status is OrderStatus.PAID:
            order.ship(None, LATER)
        elif order.status is OrderStatus.SHIPPED:
            order.deliver(LATER)

    # --- staff --------------------------------------------------------------------------

    @rule(
        index=product_indexes,
        delta=st.integers(min_value=-6, max_value=-1) | st.integers(min_value=1, max_value=6),
    )
    def adjust_inventory(self, index: int, delta: int) -> None:
        product = self.product(index)
        before = product.inventory_count
        try:
            product.adjust_inventory(delta, LATER)
        except InventoryWouldGoNegative:
            assert before + delta < 0
            assert product.inventory_count == before
            return
        assert before + delta >= 0
        self.owned[product.id] += delta

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative(self) -> None:
        for product in self.products.values():
            assert product.inventory_count >= 0, product.id

    @invariant()
    def every_unit_is_on_the_shelf_or_held_by_a_live_order(self) -> None:
        for product_id, product in self.products.items():
            held = sum(lines.get(product_id, 0) for lines in self.held.values())
            assert product.inventory_count + held == self.owned[product_id], product_id

    @invariant()
    def stock_is_held_by_exactly_the_orders_not_cancelled(self) -> None:
        live = {
            oid for oid, order in self.placed.items() if order.status is not OrderStatus.CANCELLED
        }
        assert set(self.held) == live
        for order_id in live:
            lines = {line.product_id: line.quantity.value for line in self.placed[order_id].lines}
            assert lines == self.held[order_id]


CartsAndStock.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_carts_orders_and_stock_keep_every_unit_accounted_for = CartsAndStock.TestCase
