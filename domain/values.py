"""Small value objects that validate themselves on creation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import InvalidValue
from domain.text import control_character

MIN_QUANTITY = 1
MAX_QUANTITY = 99

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is proven by
# the emails we send, not by a regex.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Characters that show nothing (Unicode category Cf: zero-width spaces and joiners, bidi
# controls, the byte order mark, soft hyphens): an address holding one looks exactly like
# another address.
_INVISIBLE = "Cf"
# Matched before upper-casing: "ß".upper() is "SS", which would otherwise pass as a code.
_COUNTRY = re.compile(r"[A-Za-z]{2}")
# RFC 5321's limit on a path; checked as sent and once normalised (NFKC can lengthen).
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True, slots=True)
class Quantity:
    """How many units of one product a cart line or order line holds (1..99)."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidValue("quantity", "must be a whole number")
        if not MIN_QUANTITY <= self.value <= MAX_QUANTITY:
            raise InvalidValue("quantity", f"must be between {MIN_QUANTITY} and {MAX_QUANTITY}")

    def __int__(self) -> int:
        return self.value


def normalize_email(text: str) -> str:
    """The form an address is compared and stored in: Unicode NFKC (fullwidth and other
    compatibility look-alikes become their plain letters), lower-cased, trimmed."""
    return unicodedata.normalize("NFKC", text).lower().strip()


@dataclass(frozen=True, slots=True)
class Email:
    """An email address, compared and stored in its normal form (`normalize_email`):
    `bob@example.com` typed in fullwidth letters is `bob@example.com`. Addresses holding
    control characters or invisible ones (zero-width, bidi controls) are refused: they
    would look like another customer's address."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("email", "must be a string")
        if control_character(self.value.strip()) is not None:
            raise InvalidValue("email", "must not contain control characters")
        if any(unicodedata.category(c) == _INVISIBLE for c in self.value):
            raise InvalidValue("email", "must not contain invisible characters")
        normalized = normalize_email(self.value)
        too_long = max(len(self.value), len(normalized)) > MAX_EMAIL_LENGTH
        if too_long or not _EMAIL.fullmatch(normalized):
            raise InvalidValue("email", "is not a valid email address")
        object.__setattr__(self, "value", normalized)

    @classmethod
    def restored(cls, stored: str) -> Email:
        """An address read back from storage, as it was stored. Rows written before a rule
        was tightened stay readable (a migration normalised those it could, and named the
        rest for an operator); new addresses always go through the checks."""
        email = object.__new__(cls)
        object.__setattr__(email, "value", stored)
        return email

    def __str__(self) -> str:
        return self.value


# What an id can look like: the UUIDs the shop makes (or, in tests, short prefixed
# counters), at most as long as the id columns. Anything else names nothing.
MAX_ID_LENGTH = 64
_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")


def could_be_id(text: str) -> bool:
    """Whether `text` has the shape of an id, so that looking it up is worth a query."""
    return _ID.fullmatch(text) is not None


def required_text(field: str, value: str, max_length: int) -> str:
    """Strip `value` and insist it is non-empty and at most `max_length` characters."""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be a string")
    text = value.strip()
    if not text:
        raise InvalidValue(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    return text


@dataclass(frozen=True, slots=True)
class Address:
    """A shipping address; `country` is an ISO 3166-1 alpha-2 code."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", required_text("name", self.name, 200))
        object.__setattr__(self, "line1", required_text("line1", self.line1, 200))
        object.__setattr__(self, "city", required_text("city", self.city, 100))
        object.__setattr__(self, "postal_code", required_text("postal_code", self.postal_code, 20))
        if self.line2 is not None:
            line2 = self.line2.strip() if isinstance(self.line2, str) else self.line2
            object.__setattr__(self, "line2", required_text("line2", line2, 200) if line2 else None)
        country = self.country.strip() if isinstance(self.country, str) else ""
        if not _COUNTRY.fullmatch(country):
            raise InvalidValue("country", "must be a two-letter ISO 3166-1 code, e.g. US")
        object.__setattr__(self, "country", country.upper())
