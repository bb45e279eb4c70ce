"""The message of every domain error: clients read it as the problem's detail, the CLI
prints it, so it is pinned word for word."""

from __future__ import annotations

from domain.errors import (
    AccountDisabled,
    EarlierRefundRecovered,
    EmailAlreadyRegistered,
    EmptyCart,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCredentials,
    InvalidToken,
    InvalidValue,
    NotFound,
    OutOfStock,
    WeakPassword,
)
from domain.money import Money


def test_fixed_messages() -> None:
    assert EmptyCart().message == "the cart is empty"
    assert EmailAlreadyRegistered().message == "an account with this email already exists"
    assert IdempotencyKeyReused().message == (
        "this Idempotency-Key was already used with a different request"
    )
    assert InvalidCredentials().message == "invalid email or password"
    assert InvalidToken().message == "invalid or expired token"
    assert InvalidToken("token revoked").message == "token revoked"
    assert AccountDisabled().message == "this account is disabled"
    assert str(AccountDisabled()) == "this account is disabled"


def test_messages_that_name_what_went_wrong() -> None:
    missing = NotFound("order", "o-1")
    assert (missing.message, missing.kind, missing.ident) == ("order o-1 not found", "order", "o-1")
    assert OutOfStock("p-1", 3, 2).message == "out of stock (product p-1: 3 requested, 2 in stock)"
    assert OutOfStock("p-1", 3, 0).message == "out of stock (product p-1: 3 requested, 0 in stock)"
    unknown = OutOfStock("p-1", 3)
    assert (unknown.message, unknown.available) == ("out of stock (product p-1: 3 requested)", None)
    moved = IllegalTransition("order", "paid", "pending")
    assert moved.message == "order cannot go from paid to pending"
    invalid = InvalidValue("email", "is not valid")
    assert (invalid.message, str(invalid)) == ("email: is not valid", "email: is not valid")
    weak = WeakPassword("is too short")
    assert (weak.field, weak.reason, weak.message) == (
        "password",
        "is too short",
        "password: is too short",
    )


def test_a_recovered_refund_says_what_was_recorded_and_what_is_left() -> None:
    error = EarlierRefundRecovered(Money(500, "USD"), Money(1500, "USD"))
    assert (error.recovered, error.refundable) == (Money(500, "USD"), Money(1500, "USD"))
    assert error.message == (
        "an earlier refund of 500 USD made at the payment provider but not recorded here "
        "(its answer was lost, or it was made outside the shop) is now recorded; 1500 USD "
        "is left to refund, and this refund was not made: send the request again if "
        "another refund is still wanted"
    )
