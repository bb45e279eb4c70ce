"""Order rules no other test pins: late payments, what each change bumps, exact refusals."""

from __future__ import annotations

import pytest

from domain.errors import (
    CurrencyMismatch,
    EmptyCart,
    IllegalTransition,
    RefundExceedsPayment,
)
from domain.money import Money
from domain.orders import Order, OrderStatus
from tests.domain.builders import LATER, NOW, a_line, a_pending_order, an_address, usd
from tests.refusals import fails_with, refused

TOTAL = usd(4498)  # the builder's order: 2 x 19.99 + 5.00


def a_cancelled_unpaid_order() -> Order:
    order = a_pending_order()
    order.cancel("expired", NOW)
    return order


def a_paid_order() -> Order:
    order = a_pending_order()
    order.mark_paid(TOTAL, NOW)
    return order


def test_a_late_payment_is_recorded_on_a_cancelled_unpaid_order() -> None:
    order = a_cancelled_unpaid_order()
    version = order.version
    order.pull_events()
    order.accept_late_payment(TOTAL, LATER)
    assert order.status is OrderStatus.CANCELLED
    assert (order.paid_amount, order.refundable_amount) == (TOTAL, TOTAL)
    assert (order.updated_at, order.version) == (LATER, version + 1)
    assert order.pull_events() == []


def test_a_late_payment_is_refused_on_a_pending_order() -> None:
    order = a_pending_order()
    with pytest.raises(IllegalTransition) as raised:
        order.accept_late_payment(TOTAL, LATER)
    assert (raised.value.kind, raised.value.current, raised.value.target) == (
        "order",
        "pending",
        "late payment",
    )
    assert (order.paid_amount, order.version, order.updated_at) == (usd(0), 1, NOW)


def test_a_late_payment_is_refused_on_an_order_already_paid() -> None:
    order = a_paid_order()
    with fails_with(IllegalTransition, "order cannot go from paid to late payment"):
        order.accept_late_payment(TOTAL, LATER)
    order.cancel("changed my mind", NOW)
    with fails_with(IllegalTransition, "order cannot go from cancelled to late payment"):
        order.accept_late_payment(TOTAL, LATER)
    again = a_cancelled_unpaid_order()
    again.accept_late_payment(TOTAL, LATER)
    with pytest.raises(IllegalTransition):
        again.accept_late_payment(TOTAL, LATER)
    assert again.paid_amount == TOTAL


@pytest.mark.parametrize("amount", [usd(4497), usd(4499), usd(0)])
def test_a_late_payment_of_another_amount_is_refused(amount: Money) -> None:
    order = a_cancelled_unpaid_order()
    version = order.version
    with refused("amount", f"paid {amount}, but the order totals 4498 USD"):
        order.accept_late_payment(amount, LATER)
    assert (order.paid_amount, order.version) == (usd(0), version)


def test_mark_paid_names_both_amounts() -> None:
    order = a_pending_order()
    with refused("amount", "paid 4497 USD, but the order totals 4498 USD"):
        order.mark_paid(usd(4497), LATER)
    assert (order.status, order.version) == (OrderStatus.PENDING, 1)


def test_each_status_change_bumps_version_and_updated_at() -> None:
    order = a_pending_order()
    order.mark_paid(TOTAL, LATER)
    assert (order.version, order.updated_at, order.paid_amount) == (2, LATER, TOTAL)
    order.ship("TRACK-1", NOW)
    assert (order.version, order.updated_at, order.tracking_number) == (3, NOW, "TRACK-1")
    order.deliver(LATER)
    assert (order.version, order.updated_at) == (4, LATER)


def test_an_illegal_status_change_names_both_statuses() -> None:
    order = a_pending_order()
    with fails_with(IllegalTransition, "order cannot go from pending to shipped"):
        order.ship(None, LATER)
    assert (order.status, order.version) == (OrderStatus.PENDING, 1)


def test_recording_a_refund_bumps_version_and_updated_at() -> None:
    order = a_paid_order()
    version = order.version
    order.record_refund("r-1", usd(1000), LATER)
    assert (order.refunded_amount, order.refundable_amount) == (usd(1000), usd(3498))
    assert (order.updated_at, order.version) == (LATER, version + 1)
    order.record_refund("r-2", usd(3498), NOW)
    assert (order.refundable_amount, order.updated_at, order.version) == (
        usd(0),
        NOW,
        version + 2,
    )


def test_refund_refusals_say_why() -> None:
    with fails_with(IllegalTransition, "order cannot go from pending to refunded"):
        a_pending_order().check_refund(usd(1))
    with fails_with(IllegalTransition, "order cannot go from cancelled to refunded"):
        a_cancelled_unpaid_order().check_refund(usd(1))
    order = a_paid_order()
    with fails_with(CurrencyMismatch, "the order is in USD, not EUR"):
        order.check_refund(Money(1, "EUR"))
    with refused("amount", "a refund must be positive"):
        order.check_refund(usd(0))
    with fails_with(
        RefundExceedsPayment,
        "refund of 4499 USD exceeds the 4498 USD left to refund",
    ):
        order.check_refund(usd(4499))
    order.check_refund(TOTAL)


def test_a_late_payment_can_be_refunded_in_full() -> None:
    order = a_cancelled_unpaid_order()
    order.accept_late_payment(TOTAL, LATER)
    order.record_refund("r-1", TOTAL, LATER)
    assert order.refundable_amount == usd(0)


def test_placing_refusals_say_why() -> None:
    with fails_with(EmptyCart, "the cart is empty"):
        Order.place(
            order_id="o-1",
            number=1,
            user_id="u-1",
            lines=[],
            shipping_address=an_address(),
            now=NOW,
        )
    with fails_with(CurrencyMismatch, "an order cannot mix currencies; split the cart by currency"):
        a_pending_order([a_line("p-1", usd(1)), a_line("p-2", Money(1, "EUR"))])
    with refused("items", "a product may appear only once in an order"):
        a_pending_order([a_line("p-1", usd(1)), a_line("p-1", usd(2))])


def test_a_new_order_starts_at_version_one_with_both_times_now() -> None:
    order = a_pending_order()
    assert (order.version, order.created_at, order.updated_at) == (1, NOW, NOW)
    assert (order.number, order.user_id, order.tracking_number) == (1001, "u-1", None)
    assert order.paid_amount == order.refunded_amount == usd(0)
    assert order.currency == "USD"
