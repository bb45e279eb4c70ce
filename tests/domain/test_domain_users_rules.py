"""User and API key rules at their exact limits, and what each change bumps."""

from __future__ import annotations

import pytest

from domain.errors import WeakPassword
from domain.users import ApiKey, Role, Scope, User, check_password_strength, parse_scopes
from domain.values import Email
from tests.domain.builders import LATER, NOW
from tests.refusals import refused


def a_user(role: Role = Role.CUSTOMER, full_name: str = "Ada Lovelace") -> User:
    return User.register(
        user_id="u-1",
        email=Email("ada@example.com"),
        full_name=full_name,
        password_hash="hash",
        now=NOW,
        role=role,
    )


def an_api_key(name: str = "Importer", scopes: frozenset[Scope] | None = None) -> ApiKey:
    return ApiKey(
        id="k-1",
        name=name,
        scopes=frozenset({Scope.PRODUCTS_READ}) if scopes is None else scopes,
        key_hash="h",
        prefix="hm_1",
        created_by="u-1",
        created_at=NOW,
    )


def test_a_full_name_may_be_200_characters_but_not_201() -> None:
    assert a_user(full_name="n" * 200).full_name == "n" * 200
    with refused("full_name", "must be at most 200 characters"):
        a_user(full_name="n" * 201)
    user = a_user()
    user.rename(" " + "m" * 200 + " ", LATER)
    assert (user.full_name, user.updated_at, user.version) == ("m" * 200, LATER, 2)
    with refused("full_name", "must be at most 200 characters"):
        user.rename("m" * 201, NOW)
    with refused("full_name", "must not be empty"):
        user.rename("  ", NOW)
    assert (user.full_name, user.version) == ("m" * 200, 2)


def test_an_api_key_name_may_be_100_characters_but_not_101() -> None:
    assert an_api_key(" " + "k" * 100 + " ").name == "k" * 100
    with refused("name", "must be at most 100 characters"):
        an_api_key("k" * 101)
    with refused("name", "must not be empty"):
        an_api_key(" ")
    with refused("scopes", "at least one scope is required"):
        an_api_key(scopes=frozenset())
    assert an_api_key().creator_role_epoch == 0


def test_scope_refusals_list_what_is_allowed() -> None:
    with refused(
        "scopes",
        "unknown scope 'orders:delete'; allowed: "
        "products:read, products:write, orders:read, orders:write",
    ):
        parse_scopes(["products:read", "orders:delete"])
    with refused("scopes", "at least one scope is required"):
        parse_scopes([])


def test_password_refusals_say_why() -> None:
    with refused("password", "must be at least 10 characters"):
        check_password_strength("a1b2c3d4e")
    assert check_password_strength("a1b2c3d4e5") == "a1b2c3d4e5"
    assert check_password_strength("a1b2" * 64) == "a1b2" * 64
    with refused("password", "must be at most 256 characters"):
        check_password_strength("a1b2" * 64 + "x")
    with refused("password", "is too common; choose a less guessable one"):
        check_password_strength("PASSWORD123")
    with refused("password", "is too common; choose a less guessable one"):
        check_password_strength("ababababab")
    assert check_password_strength("abcabcabca") == "abcabcabca"
    with pytest.raises(WeakPassword) as raised:
        check_password_strength(None)  # type: ignore[arg-type]
    assert (raised.value.field, raised.value.reason) == ("password", "must be a string")


def test_changing_the_role_ends_sessions_and_bumps_both_epochs_only_when_it_changes() -> None:
    user = a_user()
    assert (user.token_epoch, user.role_epoch, user.version) == (0, 0, 1)
    user.set_role(Role.CUSTOMER, LATER)
    assert (user.token_epoch, user.role_epoch) == (0, 0)
    assert (user.updated_at, user.version) == (LATER, 2)
    user.set_role(Role.ADMIN, NOW)
    assert (user.role, user.token_epoch, user.role_epoch) == (Role.ADMIN, 1, 1)
    assert (user.updated_at, user.version) == (NOW, 3)


def test_deactivating_ends_sessions_and_reactivating_does_not() -> None:
    user = a_user()
    user.set_active(True, LATER)
    assert (user.is_active, user.token_epoch, user.role_epoch) == (True, 0, 0)
    assert (user.updated_at, user.version) == (LATER, 2)
    user.set_active(False, NOW)
    assert (user.is_active, user.token_epoch, user.role_epoch) == (False, 1, 1)
    assert (user.updated_at, user.version) == (NOW, 3)
    user.set_active(False, LATER)
    assert (user.token_epoch, user.role_epoch, user.version) == (1, 1, 4)
    user.set_active(True, NOW)
    assert (user.is_active, user.token_epoch, user.role_epoch, user.version) == (True, 1, 1, 5)


def test_a_new_password_ends_sessions_and_a_rehash_does_not() -> None:
    user = a_user()
    user.set_password_hash("new", LATER)
    assert (user.password_hash, user.token_epoch, user.role_epoch) == ("new", 1, 0)
    assert (user.updated_at, user.version) == (LATER, 2)
    user.upgrade_password_hash("stronger", NOW)
    assert (user.password_hash, user.token_epoch) == ("stronger", 1)
    assert (user.updated_at, user.version) == (NOW, 3)


def test_a_registered_user_is_active_with_both_times_now() -> None:
    user = a_user(Role.STAFF)
    assert (user.role, user.is_active, user.created_at, user.updated_at) == (
        Role.STAFF,
        True,
        NOW,
        NOW,
    )
    assert a_user().role is Role.CUSTOMER
    assert (
        User.register(
            user_id="u-2", email=Email("b@example.com"), full_name="B", password_hash="h", now=NOW
        ).role
        is Role.CUSTOMER
    )


def test_each_end_of_sessions_moves_the_token_epoch_by_one() -> None:
    user = a_user()
    user.end_sessions()
    user.end_sessions()
    assert (user.token_epoch, user.role_epoch, user.version) == (2, 0, 1)
    user.set_password_hash("again", LATER)
    assert user.token_epoch == 3


def test_each_role_change_or_deactivation_moves_the_role_epoch_by_one() -> None:
    user = a_user()
    user.set_role(Role.STAFF, LATER)
    user.set_role(Role.ADMIN, LATER)
    assert (user.role_epoch, user.token_epoch) == (2, 2)
    user.set_active(False, LATER)
    assert (user.role_epoch, user.token_epoch) == (3, 3)
    other = a_user()
    other.set_active(False, LATER)
    other.set_active(True, LATER)
    other.set_active(False, LATER)
    assert (other.role_epoch, other.token_epoch) == (2, 2)
