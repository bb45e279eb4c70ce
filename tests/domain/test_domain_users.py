"""Users: password strength, roles, scopes and API keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, WeakPassword
from domain.events import UserRegistered
from domain.users import (
    COMMON_PASSWORDS,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ApiKey,
    Role,
    Scope,
    User,
    check_password_strength,
    parse_scopes,
)
from domain.values import Email
from tests.domain.builders import LATER, NOW

# --- passwords --------------------------------------------------------------------------


@given(password=st.text(min_size=MIN_PASSWORD_LENGTH, max_size=MAX_PASSWORD_LENGTH))
def test_a_password_of_allowed_length_is_accepted_unless_common_or_repetitive(
    password: str,
) -> None:
    weak = password.lower() in COMMON_PASSWORDS or len(set(password)) < 3
    if weak:
        with pytest.raises(WeakPassword):
            check_password_strength(password)
    else:
        assert check_password_strength(password) == password


@given(password=st.text(max_size=MIN_PASSWORD_LENGTH - 1))
def test_a_password_shorter_than_the_minimum_is_rejected(password: str) -> None:
    with pytest.raises(WeakPassword) as raised:
        check_password_strength(password)
    assert raised.value.field == "password"


@given(extra=st.integers(min_value=1, max_value=100))
def test_a_password_longer_than_the_maximum_is_rejected(extra: int) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(("xyz" * MAX_PASSWORD_LENGTH)[: MAX_PASSWORD_LENGTH + extra])


def test_the_length_bounds_themselves_are_accepted() -> None:
    assert check_password_strength("abcdefgh1!") == "abcdefgh1!"
    longest = ("xyz" * MAX_PASSWORD_LENGTH)[:MAX_PASSWORD_LENGTH]
    assert check_password_strength(longest) == longest


@pytest.mark.parametrize("password", sorted(COMMON_PASSWORDS))
def test_every_common_password_is_rejected_in_any_case(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(password)
    with pytest.raises(WeakPassword):
        check_password_strength(password.upper())


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "abababababab", "Password123", "PASSWORD123"])
def test_repetitive_and_well_known_passwords_are_rejected(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(password)


@pytest.mark.parametrize("password", [None, 1234567890, b"long enough bytes"])
def test_a_password_must_be_a_string(password: object) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(password)  # type: ignore[arg-type]


# --- scopes and roles -------------------------------------------------------------------


@given(scopes=st.lists(st.sampled_from(list(Scope)), min_size=1, max_size=8))
def test_known_scopes_parse_into_a_set(scopes: list[Scope]) -> None:
    assert parse_scopes([scope.value for scope in scopes]) == frozenset(scopes)


def test_parse_scopes_accepts_the_documented_names() -> None:
    assert parse_scopes(["products:read", "products:write", "orders:read", "orders:write"]) == {
        Scope.PRODUCTS_READ,
        Scope.PRODUCTS_WRITE,
        Scope.ORDERS_READ,
        Scope.ORDERS_WRITE,
    }


@pytest.mark.parametrize(
    "values", [["admin"], ["products:read", "products:delete"], ["PRODUCTS:READ"], ["*"]]
)
def test_an_unknown_scope_is_rejected(values: list[str]) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_scopes(values)
    assert raised.value.field == "scopes"


def test_at_least_one_scope_is_required() -> None:
    with pytest.raises(InvalidValue):
        parse_scopes([])


def test_roles_are_customer_staff_and_admin() -> None:
    assert {role.value for role in Role} == {"customer", "staff", "admin"}
    assert Role("admin") is Role.ADMIN


# --- users ------------------------------------------------------------------------------


def a_user(role: Role = Role.CUSTOMER) -> User:
    return User.register(
        user_id="u-1",
        email=Email("Ada@Example.com"),
        full_name="  Ada Lovelace ",
        password_hash="hash",
        now=NOW,
        role=role,
    )


def test_registering_creates_an_active_customer_and_records_user_registered() -> None:
    user = User.register(
        user_id="u-1",
        email=Email("Ada@Example.com"),
        full_name="  Ada Lovelace ",
        password_hash="hash",
        now=NOW,
    )

    assert user.role is Role.CUSTOMER
    assert user.is_active
    assert not user.is_staff
    assert user.full_name == "Ada Lovelace"
    assert user.pull_events() == [
        UserRegistered(user_id="u-1", email="ada@example.com", full_name="Ada Lovelace")
    ]
    assert user.pull_events() == []


@pytest.mark.parametrize(
    ("role", "is_staff"), [(Role.CUSTOMER, False), (Role.STAFF, True), (Role.ADMIN, True)]
)
def test_staff_and_admins_count_as_staff(role: Role, is_staff: bool) -> None:
    assert a_user(role).is_staff is is_staff


def test_a_user_needs_a_name() -> None:
    with pytest.raises(InvalidValue):
        User.register(
            user_id="u-1", email=Email("a@example.com"), full_name="  ", password_hash="h", now=NOW
        )


def test_changing_a_user_bumps_version_and_updated_at() -> None:
    user = a_user()

    user.rename(" Augusta Ada King ", LATER)
    user.set_role(Role.STAFF, LATER)
    user.set_active(False, LATER)
    user.set_password_hash("new-hash", LATER)

    assert user.full_name == "Augusta Ada King"
    assert user.is_staff
    assert not user.is_active
    assert user.password_hash == "new-hash"
    assert user.version == 5
    assert user.updated_at == LATER


def test_renaming_to_blank_is_rejected_and_keeps_the_old_name() -> None:
    user = a_user()
    with pytest.raises(InvalidValue):
        user.rename("", LATER)
    assert user.full_name == "Ada Lovelace"


# --- API keys ---------------------------------------------------------------------------


def an_api_key(scopes: frozenset[Scope]) -> ApiKey:
    return ApiKey(
        id="k-1",
        name=" integration ",
        scopes=scopes,
        key_hash="h",
        prefix="hx_",
        created_by="u-admin",
        created_at=NOW,
    )


def test_an_api_key_without_scopes_is_rejected() -> None:
    with pytest.raises(InvalidValue):
        an_api_key(frozenset())


def test_a_key_keeps_its_name_and_scopes() -> None:
    key = an_api_key(frozenset({Scope.PRODUCTS_READ}))

    assert key.name == "integration"
    assert key.scopes == frozenset({Scope.PRODUCTS_READ})
