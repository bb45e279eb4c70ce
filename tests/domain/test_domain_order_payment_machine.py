"""Random lives of one order and its payment, checked against a model after every step.

The provider may report outcomes late, twice or out of order; staff ship, deliver, cancel
and refund in any order. The order must only ever take legal steps, the payment must never
move backwards, and refunds must never exceed what was paid.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.errors import IllegalTransition, InvalidValue, RefundExceedsPayment
from domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderRefunded,
    OrderShipped,
)
from domain.money import Money
from domain.orders import Order, OrderLine, OrderStatus
from domain.payments import Payment, PaymentOutcome, PaymentStatus, Refund
from domain.values import Quantity
from tests.domain.builders import LATER, NOW, an_address

S = OrderStatus
P = PaymentStatus
Outcome = PaymentOutcome

LEGAL_ORDER_MOVES = {
    (S.PENDING, S.PAID),
    (S.PAID, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    (S.PENDING, S.CANCELLED),
    (S.PAID, S.CANCELLED),
}
# How far a payment has got; it may only ever climb.
PAYMENT_RANK = {
    P.PENDING: 0,
    P.FAILED: 1,
    P.CANCELLED: 2,
    P.COMPLETED: 3,
    P.PARTIALLY_REFUNDED: 4,
    P.REFUNDED: 5,
}
OUTCOME_TARGET = {
    Outcome.PENDING: P.PENDING,
    Outcome.FAILED: P.FAILED,
    Outcome.CANCELLED: P.CANCELLED,
    Outcome.SUCCEEDED: P.COMPLETED,
}
MONEY_TAKEN = {S.PAID, S.SHIPPED, S.DELIVERED, S.CANCELLED}

line_specs = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=99)),
    min_size=1,
    max_size=5,
)


class OrderAndPayment(RuleBasedStateMachine):
    order: Order
    payment: Payment

    @initialize(specs=line_specs, currency=st.sampled_from(["USD", "EUR", "JPY"]))
    def place_order(self, specs: list[tuple[int, int]], currency: str) -> None:
        self.currency = currency
        lines = [
            OrderLine(
                product_id=f"p-{index}",
                name=f"Product {index}",
                unit_price=Money(price, currency),
                quantity=Quantity(quantity),
            )
            for index, (price, quantity) in enumerate(specs)
        ]
        self.expected_total = sum(price * quantity for price, quantity in specs)
        self.order = Order.place(
            order_id="o-1",
            number=1,
            user_id="u-1",
            lines=lines,
            shipping_address=an_address(),
            now=NOW,
        )
        self.order.pull_events()
        self.payment = Payment.start(
            payment_id="pay-1",
            order_id="o-1",
            user_id="u-1",
            provider="local",
            amount=self.order.total_amount,
            now=NOW,
        )
        # The model: what the statuses and totals must be, updated only by the rules below.
        self.order_status = S.PENDING
        self.payment_status = P.PENDING
        self.order_refunded = 0
        self.payment_refunded = 0
        self.seen_order_status = S.PENDING
        self.seen_payment_rank = 0
        self.refund_ids = 0

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    def expect_events(self, *types: type[DomainEvent]) -> None:
        assert [type(recorded) for recorded in self.order.pull_events()] == list(types)

    # --- the provider -------------------------------------------------------------------

    @rule()
    def customer_pays(self) -> None:
        """The provider reports success: first time, after a decline, or as a duplicate."""
        self.report(Outcome.SUCCEEDED)

    @rule()
    def card_is_declined(self) -> None:
        """A decline: first time, or a late one arriving after success."""
        self.report(Outcome.FAILED)

    @rule(outcome=st.sampled_from(list(Outcome)))
    def provider_reports(self, outcome: Outcome) -> None:
        """Any webhook or reconciliation result, possibly a duplicate or out of order."""
        self.report(outcome)

    def report(self, outcome: Outcome) -> None:
        target = OUTCOME_TARGET[outcome]
        moves_forward = PAYMENT_RANK[target] > PAYMENT_RANK[self.payment_status]

        changed = self.payment.apply_outcome(outcome, LATER)

        assert changed is moves_forward
        if changed:
            self.payment_status = target
        if changed and target is P.COMPLETED and self.order_status is S.PENDING:
            # What the payment-event use case does once the money is in.
            self.order.mark_paid(self.payment.amount, LATER)
            self.order_status = S.PAID
            self.expect_events(OrderPaid)
        else:
            self.expect_events()

    @rule(delta=st.integers(min_value=-1000, max_value=1000).filter(lambda d: d != 0))
    def provider_reports_a_wrong_amount(self, delta: int) -> None:
        wrong = self.money(self.expected_total + delta)
        with pytest.raises(InvalidValue):
            self.order.mark_paid(wrong, LATER)
        self.expect_events()

    # --- staff and customers ------------------------------------------------------------

    def attempt(self, target: S, action: str) -> None:
        legal = (self.order_status, target) in LEGAL_ORDER_MOVES
        try:
            if action == "ship":
                self.order.ship("TRACK-1", LATER)
            elif action == "deliver":
                self.order.deliver(LATER)
            else:
                self.order.cancel("asked", LATER)
        except IllegalTransition:
            assert not legal, f"{self.order_status} -> {target} was refused"
            self.expect_events()
            return
        assert legal, f"{self.order_status} -> {target} was allowed"
        self.order_status = target
        event = {"ship": OrderShipped, "deliver": OrderDelivered, "cancel": OrderCancelled}
        self.expect_events(event[action])

    @rule()
    def ship(self) -> None:
        self.attempt(S.SHIPPED, "ship")

    @rule()
    def deliver(self) -> None:
        self.attempt(S.DELIVERED, "deliver")

    @rule()
    def cancel(self) -> None:
        self.attempt(S.CANCELLED, "cancel")

    # --- refunds ------------------------------------------------------------------------

    def refund(self, amount: int) -> None:
        paid = self.expected_total if self.order.paid_amount.is_positive else 0
        refund_id = f"r-{self.refund_ids}"
        self.refund_ids += 1
        if self.order_status not in MONEY_TAKEN or paid == 0:
            expected_error: type[Exception] | None = IllegalTransition
        elif self.order_refunded + amount > paid:
            expected_error = RefundExceedsPayment
        else:
            expected_error = None
        if expected_error is not None:
            with pytest.raises(expected_error):
                self.order.record_refund(refund_id, self.money(amount), LATER)
            self.expect_events()
            return
        self.order.record_refund(refund_id, self.money(amount), LATER)
        event("refund recorded")
        self.order_refunded += amount
        self.expect_events(OrderRefunded)
        # The order was paid, so its payment completed and takes the same refund.
        assert self.payment_status in (P.COMPLETED, P.PARTIALLY_REFUNDED)
        self.payment.add_refund(
            Refund(
                id=refund_id,
                amount=self.money(amount),
                reason=None,
                provider_refund_id=None,
                created_at=LATER,
            ),
            LATER,
        )
        self.payment_refunded += amount
        self.payment_status = (
            P.REFUNDED if self.payment_refunded == self.expected_total else P.PARTIALLY_REFUNDED
        )

    @rule(percent=st.integers(min_value=1, max_value=120))
    def partial_refund(self, percent: int) -> None:
        # Shares above 100% of the total must be refused.
        self.refund(max(1, self.expected_total * percent // 100))

    @rule()
    def full_refund(self) -> None:
        left = self.order.refundable_amount.amount
        self.refund(left if left > 0 else 1)

    @precondition(
        lambda self: (
            self.order_status is S.CANCELLED
            and not self.order.paid_amount.is_positive
            and self.payment_status is P.COMPLETED
        )
    )
    @rule()
    def refund_a_payment_that_succeeded_after_cancellation(self) -> None:
        """The order was cancelled unpaid, then the provider took the money anyway."""
        event("late payment of a cancelled order refunded")
        self.payment.add_refund(
            Refund(
                id="r-late",
                amount=self.payment.amount,
                reason="cancelled",
                provider_refund_id=None,
                created_at=LATER,
            ),
            LATER,
        )
        self.payment_refunded = self.expected_total
        self.payment_status = P.REFUNDED

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def order_status_only_takes_legal_steps(self) -> None:
        current = self.order.status
        assert current in set(S)
        assert current is self.order_status
        if current is not self.seen_order_status:
            assert (self.seen_order_status, current) in LEGAL_ORDER_MOVES
            self.seen_order_status = current

    @invariant()
    def payment_never_moves_backwards(self) -> None:
        assert self.payment.status is self.payment_status
        rank = PAYMENT_RANK[self.payment.status]
        assert rank >= self.seen_payment_rank
        self.seen_payment_rank = rank

    @invariant()
    def refunds_never_exceed_what_was_paid(self) -> None:
        order = self.order
        assert order.refunded_amount <= order.paid_amount
        assert order.refunded_amount == self.money(self.order_refunded)
        assert order.paid_amount in (self.money(0), self.money(self.expected_total))
        assert self.payment.refunded_amount <= self.payment.amount
        assert self.payment.refunded_amount == self.money(self.payment_refunded)

    @invariant()
    def totals_are_exact(self) -> None:
        assert self.order.total_amount == self.money(self.expected_total)
        assert self.payment.amount == self.money(self.expected_total)

    @invariant()
    def a_paid_order_has_a_settled_payment(self) -> None:
        if self.order.paid_amount.is_positive:
            assert PAYMENT_RANK[self.payment.status] >= PAYMENT_RANK[P.COMPLETED]


OrderAndPayment.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_and_payment_never_break_their_rules = OrderAndPayment.TestCase
