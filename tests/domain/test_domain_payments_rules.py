"""Payment rules no other test pins: what each change bumps, and exact refusals."""

from __future__ import annotations

import pytest

from domain.errors import IllegalTransition, RefundExceedsPayment
from domain.money import Money
from domain.payments import Payment, PaymentOutcome, PaymentStatus, Refund
from tests.domain.builders import LATER, NOW, usd
from tests.refusals import fails_with, refused


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


def test_a_new_payment_is_pending_at_version_one_without_an_intent() -> None:
    payment = a_payment()
    assert (payment.status, payment.version) == (PaymentStatus.PENDING, 1)
    assert (payment.created_at, payment.updated_at) == (NOW, NOW)
    assert (payment.intent_id, payment.client_secret, payment.refunds) == (None, None, [])
    assert (payment.order_id, payment.user_id, payment.provider) == ("o-1", "u-1", "local")


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payment_for_nothing_names_the_amount(amount: int) -> None:
    with refused("amount", "a payment must be for a positive amount"):
        a_payment(amount)


def test_a_payment_for_one_minor_unit_is_allowed() -> None:
    assert a_payment(1).amount == usd(1)


def test_attaching_an_intent_keeps_its_secret_and_bumps_the_version() -> None:
    payment = a_payment()
    payment.attach_intent("pi_1", "secret_1", LATER)
    assert (payment.intent_id, payment.client_secret) == ("pi_1", "secret_1")
    assert (payment.updated_at, payment.version) == (LATER, 2)
    payment.attach_intent("pi_1", None, NOW)
    assert (payment.client_secret, payment.updated_at, payment.version) == (None, NOW, 3)
    with pytest.raises(IllegalTransition) as raised:
        payment.attach_intent("pi_2", "secret_2", LATER)
    assert raised.value.message == "payment cannot go from intent pi_1 to intent pi_2"
    assert (payment.intent_id, payment.version) == ("pi_1", 3)


def test_an_outcome_that_moves_the_payment_bumps_the_version() -> None:
    payment = a_payment()
    assert payment.apply_outcome(PaymentOutcome.FAILED, LATER) is True
    assert (payment.status, payment.updated_at, payment.version) == (
        PaymentStatus.FAILED,
        LATER,
        2,
    )
    assert payment.apply_outcome(PaymentOutcome.PENDING, NOW) is False
    assert (payment.updated_at, payment.version) == (LATER, 2)


def test_a_cancelled_payment_moves_only_to_completed() -> None:
    payment = a_payment()
    assert payment.apply_outcome(PaymentOutcome.CANCELLED, NOW)
    assert payment.refundable_amount == usd(0)
    assert payment.apply_outcome(PaymentOutcome.FAILED, LATER) is False
    assert payment.apply_outcome(PaymentOutcome.SUCCEEDED, LATER) is True
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.refundable_amount == usd(10_000)


def test_adding_refunds_bumps_the_version_and_moves_the_status() -> None:
    payment = a_payment()
    payment.apply_outcome(PaymentOutcome.SUCCEEDED, NOW)
    version = payment.version
    first = a_refund(usd(4000))
    payment.add_refund(first, LATER)
    assert (payment.status, payment.updated_at, payment.version) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        LATER,
        version + 1,
    )
    assert (payment.refunds, payment.refunded_amount, payment.refundable_amount) == (
        [first],
        usd(4000),
        usd(6000),
    )
    payment.add_refund(a_refund(usd(6000), "r-2"), NOW)
    assert (payment.status, payment.updated_at, payment.version) == (
        PaymentStatus.REFUNDED,
        NOW,
        version + 2,
    )
    assert payment.refundable_amount == usd(0)


def test_refund_refusals_say_why() -> None:
    with fails_with(IllegalTransition, "payment cannot go from pending to refunded"):
        a_payment().add_refund(a_refund(usd(1)), LATER)
    payment = a_payment()
    payment.apply_outcome(PaymentOutcome.SUCCEEDED, NOW)
    with refused("amount", "a refund must be positive"):
        payment.add_refund(a_refund(usd(0)), LATER)
    with fails_with(
        RefundExceedsPayment, "refund of 10001 USD exceeds the 10000 USD left to refund"
    ):
        payment.add_refund(a_refund(usd(10_001)), LATER)
    assert (payment.refunds, payment.version) == ([], 2)
    payment.add_refund(a_refund(usd(10_000)), LATER)
    assert payment.status is PaymentStatus.REFUNDED
