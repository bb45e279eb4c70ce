"""Money's limits and messages, written out as numbers (not read back from the module)."""

from __future__ import annotations

import pytest

from domain.errors import CurrencyMismatch
from domain.money import Money, sum_money
from tests.refusals import fails_with, refused

LIMIT = 1_000_000_000_000_000  # 10**15 minor units, written out


def test_the_largest_amount_is_ten_to_the_fifteenth_minor_units_either_way() -> None:
    assert Money(LIMIT, "USD").amount == LIMIT
    assert Money(-LIMIT, "USD").amount == -LIMIT
    reason = f"must be between -{LIMIT} and {LIMIT}"
    with refused("amount", reason):
        Money(LIMIT + 1, "USD")
    with refused("amount", reason):
        Money(-LIMIT - 1, "USD")


@pytest.mark.parametrize("amount", [1.0, True, "5", None])
def test_an_amount_that_is_not_an_integer_names_minor_units(amount: object) -> None:
    with refused("amount", "must be an integer number of minor units"):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["usd", "ZZZ", "", None])
def test_an_unknown_currency_names_the_standard(currency: object) -> None:
    with refused("currency", "must be a current ISO 4217 currency code, e.g. USD"):
        Money(1, currency)  # type: ignore[arg-type]


def test_mixing_currencies_names_both() -> None:
    with fails_with(CurrencyMismatch, "cannot combine USD with EUR"):
        Money(1, "USD") + Money(1, "EUR")
    with fails_with(CurrencyMismatch, "cannot combine EUR with USD"):
        Money(1, "EUR") - Money(1, "USD")
    with fails_with(CurrencyMismatch, "cannot combine USD with GBP"):
        sum_money([Money(1, "GBP")], "USD")


def test_comparisons_are_strict_or_not_as_their_operator_says() -> None:
    one, two = Money(1, "USD"), Money(2, "USD")
    assert one < two
    assert not two < one
    assert not one < Money(1, "USD")
    assert one <= Money(1, "USD")
    assert not two <= one
    assert two > one
    assert not one > two
    assert not one > Money(1, "USD")
    assert one >= Money(1, "USD")
    assert not one >= two
    for compare in (
        Money.__lt__,
        Money.__le__,
        Money.__gt__,
        Money.__ge__,
    ):
        with fails_with(CurrencyMismatch, "cannot combine USD with EUR"):
            compare(one, Money(1, "EUR"))


def test_money_reads_as_amount_then_currency() -> None:
    assert str(Money(-250, "EUR")) == "-250 EUR"


def test_multiplying_by_a_bool_is_not_multiplication() -> None:
    assert Money(3, "USD").__mul__(True) is NotImplemented
    assert 2 * Money(3, "USD") == Money(6, "USD")
