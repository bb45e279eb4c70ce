"""Orders: placed from a non-empty cart, exact totals, a strict status machine, bounded refunds."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import Product
from domain.errors import (
    CurrencyMismatch,
    EmptyCart,
    IllegalTransition,
    InvalidValue,
    RefundExceedsPayment,
)
from domain.events import (
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
)
from domain.money import Money
from domain.orders import ORDER_TRANSITIONS, Order, OrderLine, OrderStatus
from domain.values import Quantity
from tests.domain.builders import (
    LATER,
    NOW,
    a_line,
    a_pending_order,
    a_product,
    an_address,
    order_lines,
    usd,
)

S = OrderStatus

# The order lifecycle (pending -> paid -> shipped -> delivered; pending or paid ->
# cancelled), written out independently of ORDER_TRANSITIONS.
LEGAL_TRANSITIONS = {
    (S.PENDING, S.PAID),
    (S.PAID, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    (S.PENDING, S.CANCELLED),
    (S.PAID, S.CANCELLED),
}


def place(lines: list[OrderLine]) -> Order:
    return Order.place(
        order_id="o-1",
        number=7,
        user_id="u-1",
        lines=lines,
        shipping_address=an_address(),
        now=NOW,
    )


def line_from(product: Product, quantity: int) -> OrderLine:
    return OrderLine(
        product_id=product.id,
        name=product.name,
        unit_price=product.price,
        quantity=Quantity(quantity),
    )


def a_paid_order() -> Order:
    order = a_pending_order()
    order.mark_paid(order.total_amount, NOW)
    return order


# How to reach each status through legal moves only. "cancelled after paid" is a second
# way to be cancelled: its money was taken, so it behaves differently for refunds.
ROUTES: dict[str, list[S]] = {
    "pending": [],
    "paid": [S.PAID],
    "shipped": [S.PAID, S.SHIPPED],
    "delivered": [S.PAID, S.SHIPPED, S.DELIVERED],
    "cancelled": [S.CANCELLED],
    "cancelled after paid": [S.PAID, S.CANCELLED],
}


def move(order: Order, target: S) -> None:
    """Ask the order to go to `target` through its public method for that status."""
    actions: dict[S, Callable[[], None]] = {
        S.PAID: lambda: order.mark_paid(order.total_amount, LATER),
        S.SHIPPED: lambda: order.ship("TRACK-1", LATER),
        S.DELIVERED: lambda: order.deliver(LATER),
        S.CANCELLED: lambda: order.cancel("customer asked", LATER),
    }
    actions[target]()


def order_via(route: str) -> Order:
    order = a_pending_order()
    for step in ROUTES[route]:
        move(order, step)
    order.pull_events()
    return order


# --- placing ----------------------------------------------------------------------------


def test_an_order_cannot_be_placed_from_no_lines() -> None:
    with pytest.raises(EmptyCart):
        place([])


@given(lines=order_lines())
def test_total_amount_is_the_exact_sum_of_line_totals(lines: list[OrderLine]) -> None:
    order = place(lines)

    expected = sum(line.unit_price.amount * line.quantity.value for line in lines)
    assert order.total_amount == Money(expected, "USD")
    for line in order.lines:
        assert line.total_price == Money(line.unit_price.amount * line.quantity.value, "USD")


@given(lines=order_lines(currency="JPY"))
def test_a_new_order_is_pending_with_nothing_paid_or_refunded(lines: list[OrderLine]) -> None:
    order = place(lines)

    assert order.status is S.PENDING
    assert order.currency == "JPY"
    assert order.paid_amount == Money(0, "JPY")
    assert order.refunded_amount == Money(0, "JPY")
    assert order.lines == tuple(lines)


@given(lines=order_lines(min_size=2), data=st.data())
def test_an_order_mixing_currencies_is_rejected(
    lines: list[OrderLine], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    odd = lines[index]
    lines[index] = OrderLine(
        product_id=odd.product_id,
        name=odd.name,
        unit_price=Money(odd.unit_price.amount, "EUR"),
        quantity=odd.quantity,
    )

    with pytest.raises(CurrencyMismatch):
        place(lines)


def test_a_product_may_appear_only_once_in_an_order() -> None:
    with pytest.raises(InvalidValue):
        place([a_line("p-1", usd(100), 1), a_line("p-2"), a_line("p-1", usd(100), 2)])


def test_order_lines_keep_the_name_and_price_from_the_moment_of_purchase() -> None:
    product = a_product("p-1", price=usd(1500))
    order = place([line_from(product, 2)])

    product.change_details(LATER, name="Renamed", price=usd(9900))
    product.archive(LATER)

    assert order.lines[0].name == "Product p-1"
    assert order.lines[0].unit_price == usd(1500)
    assert order.total_amount == usd(3000)


def test_placing_an_order_records_order_placed_with_its_total() -> None:
    order = place([a_line("p-1", usd(250), 4), a_line("p-2", usd(99), 1)])

    assert order.pull_events() == [
        OrderPlaced(
            order_id="o-1", order_number=7, user_id="u-1", total_amount=1099, currency="USD"
        )
    ]


def test_pull_events_drains_the_recorded_events() -> None:
    order = a_pending_order()

    assert len(order.pull_events()) == 1
    assert order.pull_events() == []
    order.cancel("changed my mind", LATER)
    assert [type(e) for e in order.pull_events()] == [OrderCancelled]
    assert order.pull_events() == []


def test_pending_events_are_left_in_place_and_pulled_oldest_first() -> None:
    order = a_pending_order()
    order.cancel("changed my mind", LATER)
    placed, cancelled = order.pending_events

    assert [type(e) for e in order.pending_events] == [OrderPlaced, OrderCancelled]
    assert order.pull_events(1) == [placed]
    assert order.pending_events == (cancelled,)
    assert order.pull_events(0) == []
    assert order.pull_events() == [cancelled]
    assert order.pending_events == ()


# --- status machine ---------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_transition_table_allows_exactly_the_designed_moves(current: S, target: S) -> None:
    assert (target in ORDER_TRANSITIONS[current]) == ((current, target) in LEGAL_TRANSITIONS)


@pytest.mark.parametrize(
    ("route", "target"),
    list(itertools.product(ROUTES, [S.PAID, S.SHIPPED, S.DELIVERED, S.CANCELLED])),
)
def test_every_status_change_is_legal_or_raises_illegal_transition(route: str, target: S) -> None:
    order = order_via(route)
    before = (order.status, order.version, order.updated_at, order.paid_amount)

    if (order.status, target) in LEGAL_TRANSITIONS:
        move(order, target)
        assert order.status is target
        assert order.version == before[1] + 1
        assert order.updated_at == LATER
        assert len(order.pull_events()) == 1
    else:
        with pytest.raises(IllegalTransition) as raised:
            move(order, target)
        assert raised.value.current == before[0].value
        assert raised.value.target == target.value
        assert (order.status, order.version, order.updated_at, order.paid_amount) == before
        assert order.pull_events() == []


def test_no_status_leads_back_to_pending() -> None:
    assert all(S.PENDING not in targets for targets in ORDER_TRANSITIONS.values())


def test_the_happy_path_records_one_event_per_step() -> None:
    order = a_pending_order()
    total = order.total_amount

    order.mark_paid(total, LATER)
    order.ship("TRACK-42", LATER)
    order.deliver(LATER)

    assert order.status is S.DELIVERED
    assert order.tracking_number == "TRACK-42"
    assert order.pull_events() == [
        OrderPlaced(
            order_id="o-1",
            order_number=1001,
            user_id="u-1",
            total_amount=total.amount,
            currency="USD",
        ),
        OrderPaid(
            order_id="o-1", order_number=1001, user_id="u-1", amount=total.amount, currency="USD"
        ),
        OrderShipped(order_id="o-1", order_number=1001, user_id="u-1", tracking_number="TRACK-42"),
        OrderDelivered(order_id="o-1", order_number=1001, user_id="u-1"),
    ]


def test_cancelling_records_the_reason() -> None:
    order = order_via("paid")

    order.cancel("out of stock at the warehouse", LATER)

    assert order.pull_events() == [
        OrderCancelled(
            order_id="o-1",
            order_number=1001,
            user_id="u-1",
            reason="out of stock at the warehouse",
        )
    ]


@given(delta=st.integers(min_value=-(10**6), max_value=10**6).filter(lambda d: d != 0))
def test_mark_paid_with_an_amount_other_than_the_total_is_rejected(delta: int) -> None:
    order = order_via("pending")

    with pytest.raises(InvalidValue):
        order.mark_paid(order.total_amount + usd(delta), LATER)

    assert order.status is S.PENDING
    assert order.paid_amount == usd(0)
    assert order.pull_events() == []


def test_mark_paid_in_another_currency_is_rejected() -> None:
    order = order_via("pending")

    with pytest.raises(InvalidValue):
        order.mark_paid(Money(order.total_amount.amount, "EUR"), LATER)

    assert order.status is S.PENDING


def test_mark_paid_records_what_was_paid() -> None:
    order = order_via("pending")

    order.mark_paid(order.total_amount, LATER)

    assert order.paid_amount == order.total_amount
    assert order.refundable_amount == order.total_amount


# --- refunds ----------------------------------------------------------------------------


@given(refunds=st.lists(st.integers(min_value=1, max_value=6000), max_size=15))
def test_refunds_never_add_up_to_more_than_was_paid(refunds: list[int]) -> None:
    order = a_paid_order()  # 2 x 1999 + 500 = 4498
    paid = order.paid_amount.amount
    refunded = 0

    for index, amount in enumerate(refunds):
        if refunded + amount <= paid:
            order.record_refund(f"r-{index}", usd(amount), LATER)
            refunded += amount
        else:
            with pytest.raises(RefundExceedsPayment):
                order.record_refund(f"r-{index}", usd(amount), LATER)
        assert order.refunded_amount == usd(refunded)
        assert order.refunded_amount <= order.paid_amount
        assert order.refundable_amount == usd(paid - refunded)


def test_a_full_refund_leaves_nothing_to_refund() -> None:
    order = a_paid_order()

    order.record_refund("r-1", order.paid_amount, LATER)

    assert order.refundable_amount == usd(0)
    with pytest.raises(RefundExceedsPayment):
        order.check_refund(usd(1))


@pytest.mark.parametrize("route", ["paid", "shipped", "delivered", "cancelled after paid"])
def test_an_order_whose_money_was_taken_can_be_refunded(route: str) -> None:
    order = order_via(route)

    order.record_refund("r-1", usd(100), LATER)

    assert order.refunded_amount == usd(100)
    assert order.status.value == route.split()[0]
    assert order.pull_events() == [
        OrderRefunded(
            order_id="o-1",
            order_number=1001,
            user_id="u-1",
            refund_id="r-1",
            amount=100,
            currency="USD",
            refunded_total=100,
        )
    ]


@pytest.mark.parametrize("route", ["pending", "cancelled"])
def test_an_order_that_was_never_paid_cannot_be_refunded(route: str) -> None:
    order = order_via(route)

    with pytest.raises(IllegalTransition):
        order.record_refund("r-1", usd(1), LATER)

    assert order.refunded_amount == usd(0)
    assert order.pull_events() == []


def test_refund_events_carry_the_running_total() -> None:
    order = a_paid_order()
    order.pull_events()

    order.record_refund("r-1", usd(1000), LATER)
    order.record_refund("r-2", usd(498), LATER)

    events = order.pull_events()
    assert [e.refunded_total for e in events if isinstance(e, OrderRefunded)] == [1000, 1498]


def test_a_refund_in_another_currency_is_rejected() -> None:
    order = a_paid_order()

    with pytest.raises(CurrencyMismatch):
        order.check_refund(Money(100, "EUR"))
    with pytest.raises(CurrencyMismatch):
        order.record_refund("r-1", Money(100, "EUR"), LATER)
    assert order.refunded_amount == usd(0)


@pytest.mark.parametrize("amount", [0, -1, -4498])
def test_a_refund_must_be_positive(amount: int) -> None:
    order = a_paid_order()

    with pytest.raises(InvalidValue):
        order.record_refund("r-1", usd(amount), LATER)
    assert order.refunded_amount == usd(0)


def test_check_refund_changes_nothing() -> None:
    order = a_paid_order()
    version = order.version

    order.check_refund(usd(4498))

    assert order.refunded_amount == usd(0)
    assert order.version == version
