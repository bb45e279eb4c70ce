"""Value objects: the field and reason each refusal shows, at the exact limits."""

from __future__ import annotations

import pytest

from domain.text import control_character
from domain.values import Address, Email, Quantity, could_be_id, required_text
from tests.refusals import refused


def an_address(**changes: object) -> Address:
    fields: dict[str, object] = {
        "name": "Ada",
        "line1": "1 Road",
        "city": "London",
        "postal_code": "N1",
        "country": "gb",
    }
    fields.update(changes)
    return Address(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 100, -1])
def test_a_quantity_is_between_1_and_99(value: int) -> None:
    with refused("quantity", "must be between 1 and 99"):
        Quantity(value)


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_a_quantity_is_a_whole_number(value: object) -> None:
    with refused("quantity", "must be a whole number"):
        Quantity(value)  # type: ignore[arg-type]


def test_quantity_bounds_and_integer_value() -> None:
    assert int(Quantity(1)) == 1
    assert int(Quantity(99)) == 99


def test_email_refusals_say_why() -> None:
    with refused("email", "must be a string"):
        Email(5)  # type: ignore[arg-type]
    with refused("email", "must not contain control characters"):
        Email("a\x00b@example.com")
    with refused("email", "must not contain invisible characters"):
        Email("a\u200bb@example.com")
    with refused("email", "is not a valid email address"):
        Email("no-at-sign.example.com")
    local = "a" * 64
    fits = f"{local}@{'d' * (254 - 64 - 1 - 4)}.com"
    assert len(fits) == 254
    assert Email(fits).value == fits
    with refused("email", "is not a valid email address"):
        Email("a" + fits)
    # Normalising may lengthen an address past the limit: the ligature ﬀ becomes "ff".
    stretched = "\ufb00" + fits[1:]
    assert len(stretched) == 254
    with refused("email", "is not a valid email address"):
        Email(stretched)
    assert str(Email(" Ada@Example.COM ")) == "ada@example.com"


def test_address_limits_are_exact() -> None:
    address = an_address(
        name="n" * 200, line1="l" * 200, city="c" * 100, postal_code="p" * 20, line2="s" * 200
    )
    assert (len(address.name), len(address.line1), len(address.city)) == (200, 200, 100)
    assert (len(address.postal_code), len(address.line2 or "")) == (20, 200)
    for field, limit in (("name", 200), ("line1", 200), ("city", 100), ("postal_code", 20)):
        with refused(field, f"must be at most {limit} characters"):
            an_address(**{field: "x" * (limit + 1)})
    with refused("line2", "must be at most 200 characters"):
        an_address(line2="x" * 201)
    with refused("line2", "must be a string"):
        an_address(line2=5)
    assert an_address(line2="  second  ").line2 == "second"
    assert an_address(line2="   ").line2 is None


@pytest.mark.parametrize("country", ["G", "GBR", "1A", "", None, "ß"])
def test_a_country_is_two_letters(country: object) -> None:
    with refused("country", "must be a two-letter ISO 3166-1 code, e.g. US"):
        an_address(country=country)


def test_a_country_is_trimmed_and_upper_cased() -> None:
    assert an_address(country=" fr ").country == "FR"


def test_required_text_names_its_field() -> None:
    assert required_text("title", "  abc  ", 3) == "abc"
    with refused("title", "must be at most 3 characters"):
        required_text("title", "abcd", 3)
    with refused("title", "must not be empty"):
        required_text("title", " \t ", 3)
    with refused("title", "must be a string"):
        required_text("title", None, 3)  # type: ignore[arg-type]


def test_an_id_is_1_to_64_letters_digits_dashes_or_underscores() -> None:
    assert could_be_id("a" * 64)
    assert could_be_id("A-z_9")
    assert not could_be_id("a" * 65)
    assert not could_be_id("")
    assert not could_be_id("a b")
    assert not could_be_id("a.b")


def test_the_first_refused_control_character_is_the_one_found() -> None:
    assert control_character("a\x07b\x01") == "\x07"
    assert control_character("a\x85b", multiline=True) == "\x85"
    assert control_character("a\tb\nc\rd", multiline=True) is None
    assert control_character("a\tb") == "\t"
    assert control_character("plain text") is None
