"""Money: integer minor units and a currency; no mixing currencies; exact totals."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.currencies import ISO_4217_CODES
from domain.errors import CurrencyMismatch, InvalidValue
from domain.money import MAX_AMOUNT, Money, sum_money
from tests.domain.builders import currencies, money, valid_amounts

BINARY_OPERATIONS: list[Callable[[Money, Money], Any]] = [
    operator.add,
    operator.sub,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
]

small_amounts = st.integers(min_value=-(10**12), max_value=10**12)


@given(amount=valid_amounts, currency=currencies)
def test_money_keeps_its_integer_amount_and_currency(amount: int, currency: str) -> None:
    value = Money(amount, currency)

    assert value.amount == amount
    assert type(value.amount) is int
    assert value.currency == currency
    assert str(value) == f"{amount} {currency}"


@given(
    a=valid_amounts,
    b=valid_amounts,
    pair=st.lists(currencies, min_size=2, max_size=2, unique=True),
    operation=st.sampled_from(BINARY_OPERATIONS),
)
def test_arithmetic_and_ordering_across_currencies_raise_currency_mismatch(
    a: int, b: int, pair: list[str], operation: Callable[[Money, Money], Any]
) -> None:
    with pytest.raises(CurrencyMismatch):
        operation(Money(a, pair[0]), Money(b, pair[1]))


@given(a=valid_amounts, pair=st.lists(currencies, min_size=2, max_size=2, unique=True))
def test_same_amount_in_different_currencies_is_not_equal(a: int, pair: list[str]) -> None:
    assert Money(a, pair[0]) != Money(a, pair[1])


@given(a=small_amounts, b=small_amounts, currency=currencies)
def test_addition_and_subtraction_are_exact_integer_arithmetic(
    a: int, b: int, currency: str
) -> None:
    assert Money(a, currency) + Money(b, currency) == Money(a + b, currency)
    assert Money(a, currency) - Money(b, currency) == Money(a - b, currency)


@given(a=small_amounts, b=small_amounts, currency=currencies)
def test_comparison_follows_the_amounts_in_one_currency(a: int, b: int, currency: str) -> None:
    x, y = Money(a, currency), Money(b, currency)

    assert (x < y) == (a < b)
    assert (x <= y) == (a <= b)
    assert (x > y) == (a > b)
    assert (x >= y) == (a >= b)
    assert (x == y) == (a == b)


@given(
    amounts=st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=200),
    currency=currencies,
)
def test_sum_money_equals_the_sum_of_the_integer_amounts(amounts: list[int], currency: str) -> None:
    total = sum_money([Money(a, currency) for a in amounts], currency)

    assert total == Money(sum(amounts), currency)


def test_sum_of_no_amounts_is_zero_in_the_requested_currency() -> None:
    assert sum_money([], "EUR") == Money(0, "EUR")
    assert sum_money((), "JPY") == Money.zero("JPY")


@given(
    amounts=st.lists(small_amounts, min_size=1, max_size=20),
    stranger=st.integers(min_value=0, max_value=19),
)
def test_sum_money_refuses_an_amount_in_another_currency(amounts: list[int], stranger: int) -> None:
    values = [Money(a, "USD") for a in amounts]
    values[stranger % len(values)] = Money(1, "EUR")

    with pytest.raises(CurrencyMismatch):
        sum_money(values, "USD")


def test_sum_of_tenths_is_exact_where_floats_would_drift() -> None:
    # 0.10 ten times is not 1.0 in floating point; in minor units it is exactly 100.
    assert sum_money([Money(10, "USD")] * 10, "USD") == Money(100, "USD")


@given(
    amount=st.integers(min_value=-(10**6), max_value=10**6),
    factor=st.integers(min_value=-(10**6), max_value=10**6),
    currency=currencies,
)
def test_multiplying_by_an_integer_scales_the_amount_exactly(
    amount: int, factor: int, currency: str
) -> None:
    assert Money(amount, currency) * factor == Money(amount * factor, currency)
    assert factor * Money(amount, currency) == Money(amount * factor, currency)


@pytest.mark.parametrize("factor", [1.5, 2.0, True, "2", None])
def test_multiplying_by_anything_but_an_integer_is_a_type_error(factor: object) -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") * factor  # type: ignore[operator]


def test_multiplying_beyond_the_maximum_amount_is_rejected() -> None:
    with pytest.raises(InvalidValue):
        Money(MAX_AMOUNT, "USD") * 2


@given(amount=st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_amount_is_rejected_even_when_it_is_whole(amount: float) -> None:
    with pytest.raises(InvalidValue) as raised:
        Money(amount, "USD")  # type: ignore[arg-type]
    assert raised.value.field == "amount"


@pytest.mark.parametrize("amount", [True, False, "100", None, 1.0, 100.0])
def test_bool_and_non_integer_amounts_are_rejected(amount: object) -> None:
    with pytest.raises(InvalidValue):
        Money(amount, "USD")  # type: ignore[arg-type]


@given(
    amount=st.one_of(st.integers(min_value=MAX_AMOUNT + 1), st.integers(max_value=-MAX_AMOUNT - 1))
)
def test_amounts_outside_the_storable_range_are_rejected(amount: int) -> None:
    with pytest.raises(InvalidValue):
        Money(amount, "USD")


@pytest.mark.parametrize("amount", [MAX_AMOUNT, -MAX_AMOUNT, 0])
def test_the_range_bounds_themselves_are_accepted(amount: int) -> None:
    assert Money(amount, "USD").amount == amount


def test_adding_past_the_maximum_is_rejected_rather_than_wrapping() -> None:
    with pytest.raises(InvalidValue):
        Money(MAX_AMOUNT, "USD") + Money(1, "USD")


@given(currency=st.text(max_size=5))
def test_only_current_iso_4217_codes_make_a_currency(currency: str) -> None:
    if currency in ISO_4217_CODES:
        assert Money(1, currency).currency == currency
    else:
        with pytest.raises(InvalidValue) as raised:
            Money(1, currency)
        assert raised.value.field == "currency"


def test_every_iso_4217_code_is_three_upper_case_letters() -> None:
    assert all(len(c) == 3 and all("A" <= x <= "Z" for x in c) for c in ISO_4217_CODES)


@pytest.mark.parametrize("currency", ["QQQ", "ABC", "HRK", "ZWL", "XYZ"])
def test_three_letters_that_name_no_current_currency_are_rejected(currency: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Money(1, currency)
    assert raised.value.field == "currency"


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "GBP", "CHF", "XCG", "ZWG"])
def test_current_currencies_are_accepted(currency: str) -> None:
    assert Money(1, currency).currency == currency


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", " USD", "US1", "", None, 840])
def test_malformed_currency_codes_are_rejected(currency: object) -> None:
    with pytest.raises(InvalidValue):
        Money(1, currency)  # type: ignore[arg-type]


@given(value=money("EUR"))
def test_is_positive_means_strictly_above_zero(value: Money) -> None:
    assert value.is_positive == (value.amount > 0)


@given(currency=currencies)
def test_zero_is_zero_in_that_currency(currency: str) -> None:
    zero = Money.zero(currency)
    assert zero.amount == 0
    assert zero.currency == currency
    assert not zero.is_positive


def test_money_is_immutable_and_hashable_by_value() -> None:
    value = Money(100, "USD")
    with pytest.raises(AttributeError):
        value.amount = 200  # type: ignore[misc]
    assert len({Money(100, "USD"), Money(100, "USD"), Money(100, "EUR")}) == 2
