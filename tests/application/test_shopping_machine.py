"""Random shopping through the use cases, checked against a model after every step.

Two customers fill carts, place orders (sometimes replaying the same Idempotency-Key),
cancel them, let them expire, pay, ship, deliver and get refunds, all on a fresh in-memory
shop per example. After every step: stock is never negative; for every product the stock
on the shelf plus the units held by live orders equals what the shop started with; every
order's total is the exact sum of its lines; refunds never exceed what was paid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from adapters.fakes.repositories import InMemoryProducts
from application.catalog import NewProduct
from application.payment_events import EventResult
from application.ports.persistence import OrderQuery, PageRequest
from application.principal import Principal
from domain.errors import (
    IllegalTransition,
    OutOfStock,
    RefundExceedsPayment,
)
from domain.money import Money, sum_money
from domain.orders import Order, OrderStatus
from domain.users import Role
from domain.values import Quantity
from entrypoints.testing import in_memory_container
from tests.application.shopping import PAYMENT_TIMEOUT, an_address, clock, gateway

T = TypeVar("T")

CUSTOMERS = ("customer-1", "customer-2")
PRODUCTS = 3
LIVE = frozenset(
    {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)
PAID_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})

customers = st.sampled_from(CUSTOMERS)
product_indexes = st.integers(min_value=0, max_value=PRODUCTS - 1)
quantities = st.integers(min_value=1, max_value=3)


class ModelOrder:
    """What the test expects of one order."""

    def __init__(
        self,
        user: str,
        key: str,
        lines: dict[str, int],
        total: Money,
        intent_id: str,
        placed_at: datetime,
    ) -> None:
        self.user = user
        self.placed_at = placed_at
        self.key = key
        self.lines = lines
        self.total = total
        self.intent_id = intent_id
        self.status = OrderStatus.PENDING
        self.paid = Money.zero(total.currency)
        self.refunded = Money.zero(total.currency)


class ShoppingThroughUseCases(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # One event loop per example, driven step by step from hypothesis' synchronous rules.
        self.loop = asyncio.new_event_loop()
        self.shop = in_memory_container()
        self.staff = Principal.user("staff-1", Role.STAFF)
        self.admin = Principal.user("admin-1", Role.ADMIN)
        self.product_ids: list[str] = []
        self.prices: dict[str, Money] = {}
        self.initial_stock: dict[str, int] = {}
        self.stock: dict[str, int] = {}
        self.carts: dict[str, dict[str, int]] = {user: {} for user in CUSTOMERS}
        self.orders: dict[str, ModelOrder] = {}
        self.keys = 0

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def now(self) -> datetime:
        return clock(self.shop).now()

    @staticmethod
    def customer(user: str) -> Principal:
        return Principal.user(user, Role.CUSTOMER)

    def orders_in(self, *statuses: OrderStatus) -> list[str]:
        return sorted(oid for oid, order in self.orders.items() if order.status in statuses)

    def release(self, order: ModelOrder) -> None:
        for product_id, quantity in order.lines.items():
            self.stock[product_id] += quantity

    # --- set-up ----------------------------------------------------------------------------

    @initialize(
        stocks=st.lists(
            st.integers(min_value=0, max_value=6), min_size=PRODUCTS, max_size=PRODUCTS
        ),
        prices=st.lists(
            st.integers(min_value=1, max_value=100_000), min_size=PRODUCTS, max_size=PRODUCTS
        ),
    )
    def stock_the_shelves(self, stocks: list[int], prices: list[int]) -> None:
        for index, (stock, price) in enumerate(zip(stocks, prices, strict=True)):
            created = self.run(
                self.shop.catalog().create_product(
                    self.staff,
                    NewProduct(f"Product {index}", "", Money(price, "USD"), stock, "misc"),
                )
            )
            self.product_ids.append(created.id)
            self.prices[created.id] = created.price
            self.initial_stock[created.id] = stock
            self.stock[created.id] = stock

    # --- the cart --------------------------------------------------------------------------

    @rule(
        user=customers,
        lines=st.dictionaries(product_indexes, quantities, min_size=1, max_size=PRODUCTS),
    )
    def put_in_cart(self, user: str, lines: dict[int, int]) -> None:
        for index, quantity in lines.items():
            product_id = self.product_ids[index]
            put = self.shop.carts().set_item(self.customer(user), product_id, quantity)
            if quantity > self.stock[product_id]:
                with pytest.raises(OutOfStock):
                    self.run(put)
                continue
            view = self.run(put)
            self.carts[user][product_id] = quantity
            assert {item.product_id: item.quantity for item in view.items} == self.carts[user]

    @precondition(lambda self: any(self.carts.values()))
    @rule(data=st.data())
    def take_out_of_cart(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([u for u in CUSTOMERS if self.carts[u]]), label="user")
        product_id = data.draw(st.sampled_from(sorted(self.carts[user])), label="product")
        self.run(self.shop.carts().remove_item(self.customer(user), product_id))
        del self.carts[user][product_id]

    # --- orders ----------------------------------------------------------------------------

    @precondition(lambda self: any(self.carts.values()))
    @rule(data=st.data())
    def place_order(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([u for u in CUSTOMERS if self.carts[u]]), label="user")
        self.keys += 1
        key = f"key-{self.keys}"
        cart = self.carts[user]
        place = self.shop.orders().place_order(
            self.customer(user), idempotency_key=key, shipping_address=an_address()
        )
        if any(quantity > self.stock[pid] for pid, quantity in cart.items()):
            with pytest.raises(OutOfStock):
                self.run(place)
            return  # nothing reserved, the cart kept: the invariants check both
        placed = self.run(place)
        expected_total = sum_money([self.prices[pid] * q for pid, q in cart.items()], "USD")
        assert placed.order.total_amount == expected_total
        assert {line.product_id: line.quantity.value for line in placed.order.lines} == cart
        assert placed.payment.intent_id is not None
        for pid, quantity in cart.items():
            self.stock[pid] -= quantity
        self.orders[placed.order.id] = ModelOrder(
            user, key, dict(cart), expected_total, placed.payment.intent_id, self.now()
        )
        cart.clear()

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def replay_an_order_request(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)), label="order")
        order = self.orders[order_id]
        calls_before = gateway(self.shop).create_intent_calls

        again = self.run(
            self.shop.orders().place_order(
                self.customer(order.user), idempotency_key=order.key, shipping_address=an_address()
            )
        )

        assert again.order.id == order_id
        assert again.payment.intent_id == order.intent_id
        assert gateway(self.shop).create_intent_calls == calls_before

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def owner_cancels(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)), label="order")
        order = self.orders[order_id]
        cancel = self.shop.orders().cancel_order(self.customer(order.user), order_id)
        if order.status not in (OrderStatus.PENDING, OrderStatus.PAID):
            with pytest.raises(IllegalTransition):
                self.run(cancel)
            return
        cancelled = self.run(cancel)
        self.release(order)
        order.status = OrderStatus.CANCELLED
        order.refunded = order.paid
        assert cancelled.refunded_amount == order.refunded

    @precondition(lambda self: self.orders_in(OrderStatus.PENDING))
    @rule(minutes=st.integers(min_value=1, max_value=45))
    def time_passes_and_unpaid_orders_expire(self, minutes: int) -> None:
        clock(self.shop).advance(timedelta(minutes=minutes))
        cutoff = self.now() - PAYMENT_TIMEOUT
        pending = [
            order_id
            for order_id in self.orders_in(OrderStatus.PENDING)
            if self.orders[order_id].placed_at < cutoff
        ]

        expired = self.run(self.shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT))

        assert expired == len(pending)
        for order_id in pending:
            self.release(self.orders[order_id])
            self.orders[order_id].status = OrderStatus.CANCELLED

    @precondition(lambda self: self.orders_in(OrderStatus.PENDING))
    @rule(data=st.data())
    def customer_pays(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders_in(OrderStatus.PENDING)), label="order")
        order = self.orders[order_id]
        event = gateway(self.shop).succeed(order.intent_id)

        assert self.run(self.shop.payment_events().apply_event(event)) is EventResult.APPLIED
        assert self.run(self.shop.payment_events().apply_event(event)) is EventResult.DUPLICATE
        order.status = OrderStatus.PAID
        order.paid = order.total

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def staff_ships(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)), label="order")
        order = self.orders[order_id]
        ship = self.shop.orders().ship_order(self.staff, order_id)
        if order.status is not OrderStatus.PAID:
            with pytest.raises(IllegalTransition):
                self.run(ship)
            return
        assert self.run(ship).status is OrderStatus.SHIPPED
        order.status = OrderStatus.SHIPPED

    @precondition(lambda self: self.orders_in(OrderStatus.SHIPPED))
    @rule(data=st.data())
    def staff_delivers(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders_in(OrderStatus.SHIPPED)), label="order")
        assert self.run(self.shop.orders().deliver_order(self.staff, order_id)).status is (
            OrderStatus.DELIVERED
        )
        self.orders[order_id].status = OrderStatus.DELIVERED

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def admin_refunds(self, data: st.DataObject, share: int) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)), label="order")
        order = self.orders[order_id]
        amount = Money(max(1, order.total.amount * share // 100), "USD")
        refund = self.shop.refunds().refund_order(self.admin, order_id, amount)
        if order.status is OrderStatus.PENDING or not order.paid.is_positive:
            with pytest.raises(IllegalTransition):
                self.run(refund)
            return
        if amount > order.paid - order.refunded:
            with pytest.raises(RefundExceedsPayment):
                self.run(refund)
            return
        refunded = self.run(refund)
        order.refunded = order.refunded + amount
        assert refunded.refunded_amount == order.refunded

    # --- invariants ------------------------------------------------------------------------

    def all_orders(self) -> list[Order]:
        page = self.run(
            self.shop.orders().list_orders(self.staff, OrderQuery(page=PageRequest(limit=100)))
        )
        assert page.next_cursor is None
        return page.items

    @invariant()
    def every_unit_is_on_the_shelf_or_in_a_live_order(self) -> None:
        held = dict.fromkeys(self.product_ids, 0)
        for order in self.all_orders():
            if order.status in LIVE:
                for line in order.lines:
                    held[line.product_id] += line.quantity.value
        for product_id in self.product_ids:
            on_shelf = self.run(self.shop.catalog().get_product(product_id)).inventory_count
            assert on_shelf >= 0
            assert on_shelf == self.stock[product_id]
            assert on_shelf + held[product_id] == self.initial_stock[product_id]

    @invariant()
    def orders_match_the_model_and_their_totals_are_exact(self) -> None:
        orders = {order.id: order for order in self.all_orders()}
        assert set(orders) == set(self.orders)
        for order_id, order in orders.items():
            expected = self.orders[order_id]
            assert order.status is expected.status
            assert order.total_amount == expected.total
            assert order.total_amount == sum_money(
                [line.unit_price * line.quantity.value for line in order.lines], "USD"
            )
            assert order.paid_amount == expected.paid
            assert order.refunded_amount == expected.refunded

    @invariant()
    def refunds_never_exceed_what_was_paid(self) -> None:
        for order_id in self.orders:
            order = self.run(self.shop.orders().get_order(self.staff, order_id))
            assert order.refunded_amount <= order.paid_amount
            for payment in self.run(self.shop.orders().list_payments(self.staff, order_id)):
                assert payment.refunded_amount <= payment.amount
                assert payment.amount == order.total_amount

    @invariant()
    def carts_hold_what_the_customers_put_in(self) -> None:
        for user in CUSTOMERS:
            view = self.run(self.shop.carts().view(self.customer(user)))
            assert {item.product_id: item.quantity for item in view.items} == self.carts[user]


def test_random_shopping_never_loses_or_invents_stock_or_money() -> None:
    run_state_machine_as_test(
        ShoppingThroughUseCases,
        settings=settings(max_examples=50, stateful_step_count=20, deadline=None),
    )


def test_the_machine_notices_a_store_that_loses_released_stock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The machine has teeth: with a stock release silently lost, it must fail."""

    async def lose_the_release(self: InMemoryProducts, product_id: str, quantity: Quantity) -> None:
        return None

    monkeypatch.setattr(InMemoryProducts, "release_stock", lose_the_release)

    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            ShoppingThroughUseCases,
            settings=settings(
                max_examples=200,
                stateful_step_count=20,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                report_multiple_bugs=False,
            ),
        )
