"""Payments: provider outcomes only move forward; refunds never exceed the amount."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import CurrencyMismatch, IllegalTransition, InvalidValue, RefundExceedsPayment
from domain.events import PaymentFailed
from domain.money import Money
from domain.payments import Payment, PaymentOutcome, PaymentStatus, Refund
from tests.domain.builders import LATER, NOW, usd

P = PaymentStatus
Outcome = PaymentOutcome

# Where each provider outcome may take a payment, written out from the rules rather than
# from the implementation: forward only, and FAILED may still become COMPLETED (the
# customer retries after a decline).
FORWARD_MOVES: dict[P, dict[Outcome, P]] = {
    P.PENDING: {
        Outcome.FAILED: P.FAILED,
        Outcome.CANCELLED: P.CANCELLED,
        Outcome.SUCCEEDED: P.COMPLETED,
    },
    P.FAILED: {Outcome.CANCELLED: P.CANCELLED, Outcome.SUCCEEDED: P.COMPLETED},
    # The provider took the money after all: record it so that it can be refunded.
    P.CANCELLED: {Outcome.SUCCEEDED: P.COMPLETED},
    P.COMPLETED: {},
    P.PARTIALLY_REFUNDED: {},
    P.REFUNDED: {},
}
SETTLED = {P.COMPLETED, P.PARTIALLY_REFUNDED, P.REFUNDED}


def a_payment(amount: int = 10_000) -> Payment:
    return Payment.start(
        payment_id="pay-1",
        order_id="o-1",
        user_id="u-1",
        provider="local",
        amount=usd(amount),
        now=NOW,
    )


def a_refund(amount: Money, refund_id: str = "r-1") -> Refund:
    return Refund(
        id=refund_id, amount=amount, reason=None, provider_refund_id=None, created_at=LATER
    )


def a_completed_payment(amount: int = 10_000) -> Payment:
    payment = a_payment(amount)
    payment.apply_outcome(Outcome.SUCCEEDED, NOW)
    return payment


def payment_in(status: P) -> Payment:
    payment = a_payment()
    route = {
        P.PENDING: [],
        P.FAILED: [Outcome.FAILED],
        P.CANCELLED: [Outcome.CANCELLED],
        P.COMPLETED: [Outcome.SUCCEEDED],
        P.PARTIALLY_REFUNDED: [Outcome.SUCCEEDED],
        P.REFUNDED: [Outcome.SUCCEEDED],
    }[status]
    for outcome in route:
        assert payment.apply_outcome(outcome, NOW)
    if status is P.PARTIALLY_REFUNDED:
        payment.add_refund(a_refund(usd(1)), NOW)
    if status is P.REFUNDED:
        payment.add_refund(a_refund(payment.amount), NOW)
    assert payment.status is status
    return payment


def test_a_payment_starts_pending_for_a_positive_amount() -> None:
    payment = a_payment(2500)

    assert payment.status is P.PENDING
    assert payment.amount == usd(2500)
    assert payment.refunded_amount == usd(0)
    assert payment.refundable_amount == usd(0)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payment_for_nothing_or_less_is_rejected(amount: int) -> None:
    with pytest.raises(InvalidValue):
        a_payment(amount)


@pytest.mark.parametrize("status", list(P))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_an_outcome_moves_a_payment_only_forward(status: P, outcome: Outcome) -> None:
    payment = payment_in(status)
    version = payment.version

    changed = payment.apply_outcome(outcome, LATER)

    expected = FORWARD_MOVES[status].get(outcome)
    if expected is None:
        assert changed is False
        assert payment.status is status
        assert payment.version == version
    else:
        assert changed is True
        assert payment.status is expected
        assert payment.version == version + 1
        assert payment.updated_at == LATER


@pytest.mark.parametrize("status", list(P))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_a_payment_raises_payment_failed_exactly_when_it_moves_to_failed(
    status: P, outcome: Outcome
) -> None:
    payment = payment_in(status)
    payment.pull_events()

    payment.apply_outcome(outcome, LATER)

    moves_to_failed = FORWARD_MOVES[status].get(outcome) is P.FAILED
    expected = [PaymentFailed(order_id="o-1", payment_id="pay-1", user_id="u-1")]
    assert payment.pull_events() == (expected if moves_to_failed else [])


def test_a_declined_payment_raises_payment_failed_once() -> None:
    payment = a_payment()

    assert payment.apply_outcome(Outcome.FAILED, NOW)
    assert not payment.apply_outcome(Outcome.FAILED, LATER)

    assert payment.pending_events == (
        PaymentFailed(order_id="o-1", payment_id="pay-1", user_id="u-1"),
    )


def test_a_late_failure_after_success_leaves_the_payment_completed() -> None:
    payment = a_payment()

    assert payment.apply_outcome(Outcome.SUCCEEDED, NOW)
    assert not payment.apply_outcome(Outcome.FAILED, LATER)

    assert payment.status is P.COMPLETED
    assert payment.updated_at == NOW


def test_a_failure_followed_by_success_completes_the_payment() -> None:
    payment = a_payment()

    assert payment.apply_outcome(Outcome.FAILED, NOW)
    assert payment.apply_outcome(Outcome.SUCCEEDED, LATER)

    assert payment.status is P.COMPLETED


@pytest.mark.parametrize("outcome", [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELLED])
def test_a_duplicate_outcome_returns_false_and_changes_nothing(outcome: Outcome) -> None:
    payment = a_payment()
    assert payment.apply_outcome(outcome, NOW)
    version = payment.version

    assert payment.apply_outcome(outcome, LATER) is False
    assert payment.version == version


@given(outcomes=st.lists(st.sampled_from(list(Outcome)), max_size=20))
def test_any_sequence_of_outcomes_never_leaves_a_completed_payment(outcomes: list[Outcome]) -> None:
    payment = a_payment()
    completed = False

    for outcome in outcomes:
        payment.apply_outcome(outcome, LATER)
        completed = completed or outcome is Outcome.SUCCEEDED
        if completed:
            assert payment.status is P.COMPLETED
        else:
            assert payment.status is not P.COMPLETED


@given(
    amount=st.integers(min_value=1, max_value=100_000),
    refunds=st.lists(st.integers(min_value=1, max_value=120_000), max_size=15),
)
def test_refunds_never_sum_to_more_than_the_payment(amount: int, refunds: list[int]) -> None:
    payment = a_completed_payment(amount)
    refunded = 0

    for index, value in enumerate(refunds):
        if refunded + value <= amount:
            payment.add_refund(a_refund(usd(value), f"r-{index}"), LATER)
            refunded += value
        elif refunded < amount:
            with pytest.raises(RefundExceedsPayment):
                payment.add_refund(a_refund(usd(value), f"r-{index}"), LATER)
        else:
            with pytest.raises(IllegalTransition):
                payment.add_refund(a_refund(usd(value), f"r-{index}"), LATER)
        assert payment.refunded_amount == usd(refunded)
        assert payment.refunded_amount <= payment.amount
        expected_status = (
            P.COMPLETED
            if refunded == 0
            else P.REFUNDED
            if refunded == amount
            else P.PARTIALLY_REFUNDED
        )
        assert payment.status is expected_status


def test_refund_status_goes_completed_then_partially_refunded_then_refunded() -> None:
    payment = a_completed_payment(1000)

    payment.add_refund(a_refund(usd(300), "r-1"), LATER)
    assert payment.status is P.PARTIALLY_REFUNDED
    assert payment.refundable_amount == usd(700)

    payment.add_refund(a_refund(usd(700), "r-2"), LATER)
    assert payment.status is P.REFUNDED
    assert payment.refundable_amount == usd(0)
    assert [refund.id for refund in payment.refunds] == ["r-1", "r-2"]


@pytest.mark.parametrize("status", [P.PENDING, P.FAILED, P.CANCELLED, P.REFUNDED])
def test_refunds_are_only_taken_from_completed_or_partially_refunded_payments(
    status: P,
) -> None:
    payment = payment_in(status)
    refunds_before = list(payment.refunds)

    with pytest.raises(IllegalTransition):
        payment.add_refund(a_refund(usd(1), "r-x"), LATER)

    assert payment.refunds == refunds_before
    assert payment.status is status
    assert payment.refundable_amount == usd(0)


@pytest.mark.parametrize("amount", [0, -5])
def test_a_refund_must_be_positive(amount: int) -> None:
    payment = a_completed_payment()

    with pytest.raises(InvalidValue):
        payment.add_refund(a_refund(usd(amount)), LATER)
    assert payment.refunds == []
    assert payment.status is P.COMPLETED


def test_a_refund_in_another_currency_is_rejected() -> None:
    payment = a_completed_payment()

    with pytest.raises(CurrencyMismatch):
        payment.add_refund(a_refund(Money(100, "EUR")), LATER)
    assert payment.refunds == []


def test_a_payment_keeps_one_intent() -> None:
    payment = a_payment()

    payment.attach_intent("pi_1", "secret_1", NOW)
    payment.attach_intent("pi_1", "secret_2", LATER)  # the same intent again is fine

    assert payment.intent_id == "pi_1"
    assert payment.client_secret == "secret_2"
    with pytest.raises(IllegalTransition):
        payment.attach_intent("pi_2", "secret_3", LATER)
    assert payment.intent_id == "pi_1"
    assert payment.client_secret == "secret_2"
