"""Money: integer minor units plus an ISO 4217 currency code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

from domain.currencies import is_iso_4217
from domain.errors import CurrencyMismatch, InvalidValue

# Large enough for any real price or order total, small enough for a signed 64-bit column.
MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise InvalidValue("amount", "must be an integer number of minor units")
        if not -MAX_AMOUNT <= self.amount <= MAX_AMOUNT:
            raise InvalidValue("amount", f"must be between -{MAX_AMOUNT} and {MAX_AMOUNT}")
        if not is_iso_4217(self.currency):
            raise InvalidValue("currency", "must be a current ISO 4217 currency code, e.g. USD")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def sum_money(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Exact sum of amounts that must all be in `currency` (the empty sum is zero)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
