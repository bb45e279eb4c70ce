"""Quantity, Email and Address validate themselves on creation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.values import (
    MAX_ID_LENGTH,
    Address,
    Email,
    Quantity,
    could_be_id,
    normalize_email,
    required_text,
)

# --- Quantity ---------------------------------------------------------------------------


@given(value=st.integers(min_value=1, max_value=99))
def test_quantities_from_1_to_99_are_accepted(value: int) -> None:
    quantity = Quantity(value)
    assert quantity.value == value
    assert int(quantity) == value


@given(value=st.one_of(st.integers(max_value=0), st.integers(min_value=100)))
def test_quantities_outside_1_to_99_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as raised:
        Quantity(value)
    assert raised.value.field == "quantity"


@pytest.mark.parametrize("value", [0, 100, -1, True, False, 1.0, 5.5, "3", None])
def test_zero_hundred_negative_bool_float_and_text_quantities_are_rejected(value: object) -> None:
    with pytest.raises(InvalidValue):
        Quantity(value)  # type: ignore[arg-type]


# --- Email ------------------------------------------------------------------------------

local_parts = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", min_size=1, max_size=30
)
labels = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20
)


@given(
    local=local_parts,
    domain=labels,
    tld=labels,
    padding=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_email_is_stored_trimmed_and_lower_cased(
    local: str, domain: str, tld: str, padding: str
) -> None:
    raw = f"{padding}{local}@{domain}.{tld}{padding}"

    email = Email(raw)

    assert email.value == f"{local}@{domain}.{tld}".lower()
    assert str(email) == email.value


@given(local=local_parts, domain=labels, tld=labels)
def test_emails_differing_only_in_case_are_equal(local: str, domain: str, tld: str) -> None:
    address = f"{local}@{domain}.{tld}"
    assert Email(address.upper()) == Email(address.lower())


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plainaddress",
        "no-at.example.com",
        "two@@example.com",
        "a@b@example.com",
        "user@localhost",
        "user name@example.com",
        "user@exa mple.com",
        "@example.com",
        "user@.",
        "user@example.",
    ],
)
def test_malformed_emails_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Email(raw)
    assert raised.value.field == "email"


@pytest.mark.parametrize("raw", [None, 42, b"a@example.com"])
def test_an_email_must_be_a_string(raw: object) -> None:
    with pytest.raises(InvalidValue):
        Email(raw)  # type: ignore[arg-type]


def test_an_email_longer_than_254_characters_is_rejected() -> None:
    longest = "a" * 242 + "@example.com"  # 254 characters
    assert Email(longest).value == longest
    with pytest.raises(InvalidValue):
        Email("a" + longest)


@given(text=st.text(max_size=40))
def test_whatever_email_is_accepted_has_exactly_one_at_and_a_dotted_domain(text: str) -> None:
    try:
        email = Email(text)
    except InvalidValue:
        return
    local, _, domain = email.value.partition("@")
    assert email.value.count("@") == 1
    assert local
    assert "." in domain[1:-1]
    assert not any(c.isspace() for c in email.value)
    assert email.value == email.value.lower()


# --- Address ----------------------------------------------------------------------------


def address(**overrides: object) -> Address:
    fields: dict[str, object] = {
        "name": "Grace Hopper",
        "line1": "1 Navy Way",
        "city": "Arlington",
        "postal_code": "22202",
        "country": "US",
    }
    fields.update(overrides)
    return Address(**fields)  # type: ignore[arg-type]


def test_a_complete_address_is_kept_with_its_fields_trimmed() -> None:
    result = address(
        name="  Grace Hopper ", line1=" 1 Navy Way", city="Arlington  ", line2=" Apt 2 "
    )

    assert result.name == "Grace Hopper"
    assert result.line1 == "1 Navy Way"
    assert result.city == "Arlington"
    assert result.line2 == "Apt 2"
    assert result.country == "US"


@pytest.mark.parametrize("field", ["name", "line1", "city", "postal_code"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_required_address_fields_may_not_be_blank(field: str, blank: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        address(**{field: blank})
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("field", "limit"), [("name", 200), ("line1", 200), ("city", 100), ("postal_code", 20)]
)
def test_address_fields_have_a_maximum_length(field: str, limit: int) -> None:
    assert getattr(address(**{field: "x" * limit}), field) == "x" * limit
    with pytest.raises(InvalidValue):
        address(**{field: "x" * (limit + 1)})


@pytest.mark.parametrize("line2", [None, "", "   ", "\n"])
def test_a_missing_or_blank_second_line_is_stored_as_none(line2: str | None) -> None:
    assert address(line2=line2).line2 is None


def test_a_second_line_longer_than_200_characters_is_rejected() -> None:
    with pytest.raises(InvalidValue) as raised:
        address(line2="x" * 201)
    assert raised.value.field == "line2"


def test_a_second_line_that_is_not_text_is_rejected() -> None:
    with pytest.raises(InvalidValue):
        address(line2=12)


@given(country=st.text(max_size=4))
def test_country_is_accepted_only_as_two_ascii_letters_and_stored_upper_case(
    country: str,
) -> None:
    stripped = country.strip()
    is_two_letters = len(stripped) == 2 and all(c.isascii() and c.isalpha() for c in stripped)
    if is_two_letters:
        assert address(country=country).country == stripped.upper()
    else:
        with pytest.raises(InvalidValue) as raised:
            address(country=country)
        assert raised.value.field == "country"


@pytest.mark.parametrize("country", ["USA", "U", "", "1A", "U S", None, "ß", "ﬀ"])
def test_malformed_country_codes_are_rejected(country: object) -> None:
    with pytest.raises(InvalidValue):
        address(country=country)


def test_required_text_strips_and_enforces_its_limit() -> None:
    assert required_text("title", "  hello ", 5) == "hello"
    with pytest.raises(InvalidValue):
        required_text("title", "hello!", 5)
    with pytest.raises(InvalidValue):
        required_text("title", 5, 5)  # type: ignore[arg-type]


# --- Email look-alikes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "look_alike",
    [
        "\uff42\uff4f\uff42@example.com",  # fullwidth letters
        "BOB@EXAMPLE.COM",
        "bob\uff20example.com",  # fullwidth at sign
        "\uff42ob@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        "ᵇob@example.com",  # modifier letter small b
    ],
)
def test_look_alike_addresses_normalise_to_the_same_address(look_alike: str) -> None:
    assert Email(look_alike) == Email("bob@example.com")
    assert Email(look_alike).value == "bob@example.com"


def test_normalize_email_is_nfkc_then_lower_case() -> None:
    assert normalize_email(" \uff22\uff2f\uff22@Example.COM ") == "bob@example.com"
    assert normalize_email("ﬁle@example.com") == "file@example.com"  # the fi ligature


@pytest.mark.parametrize(
    "raw",
    [
        "bob\u200b@example.com",  # zero-width space
        "bob\u200d@example.com",  # zero-width joiner
        "\u202ebob@example.com",  # right-to-left override
        "bob@exam\u2066ple.com",  # left-to-right isolate
        "\ufeffbob@example.com",  # byte order mark
        "bo\u00adb@example.com",  # soft hyphen
    ],
)
def test_addresses_with_invisible_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Email(raw)

    assert raised.value.field == "email"
    assert "invisible" in raised.value.reason


@pytest.mark.parametrize(
    "raw", ["bob\x00@example.com", "bob@exa\x07mple.com", "bo\x85b@example.com"]
)
def test_addresses_with_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Email(raw)

    assert raised.value.field == "email"


def test_a_stored_address_is_restored_as_it_was_stored() -> None:
    legacy = "bob\u200b@example.com"  # written before invisible characters were refused

    assert Email.restored(legacy).value == legacy


# --- Ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["0190a1b2-0000-7000-8000-000000000001", "order-000001", "a", "x" * MAX_ID_LENGTH]
)
def test_ids_the_shop_makes_could_be_ids(text: str) -> None:
    assert could_be_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00",
        "a\x00",
        "x" * (MAX_ID_LENGTH + 1),
        "\uff42\uff4f\uff42",
        "a b",
        "a/b",
        "a.b",
        "é",
        "'--",
    ],
)
def test_text_that_no_id_can_look_like_is_not_an_id(text: str) -> None:
    assert not could_be_id(text)
