"""Sign-up, sign-in, refresh-token rotation, sign-out, password reset and access tokens."""

from __future__ import annotations

from datetime import timedelta

import bcrypt
import pytest
from dependency_injector import providers

from application.credentials import digest
from application.ports.persistence import ConcurrencyConflict, PageRequest
from application.users import UserChanges
from domain.errors import (
    AccountDisabled,
    AuthenticationFailed,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidToken,
    InvalidValue,
    NotFound,
    PermissionDenied,
    WeakPassword,
)
from domain.users import Role, User
from domain.values import Email
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from tests.application.shopping import (
    PASSWORD,
    Account,
    KeyIssuer,
    clock,
    emailed_reset_token,
    outbox_events,
    sign_in,
)

FIRST_PAGE = PageRequest(limit=100)


# --- register ------------------------------------------------------------------------------


async def test_register_creates_a_signed_in_customer(shop: Container) -> None:
    tokens = await shop.authentication().register(
        email="  Ann@Example.COM ", password=PASSWORD, full_name="Ann Archer"
    )

    assert tokens.token_type == "bearer"
    assert tokens.expires_in == 900
    assert tokens.user.email.value == "ann@example.com"
    assert tokens.user.role is Role.CUSTOMER
    principal = await shop.authentication().authenticate_access_token(tokens.access_token)
    assert principal.user_id == tokens.user.id
    assert principal.role is Role.CUSTOMER
    welcome = await outbox_events(shop, "user_registered")
    assert [event["email"] for event in welcome] == ["ann@example.com"]


async def test_register_stores_only_a_slow_hash_of_the_password(shop: Container) -> None:
    tokens = await shop.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann"
    )

    async with shop.unit_of_work()() as uow:
        stored = await uow.users.get(tokens.user.id)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


async def test_register_refuses_an_email_that_is_taken_in_any_case(
    shop: Container, customer: Account
) -> None:
    with pytest.raises(EmailAlreadyRegistered):
        await shop.authentication().register(
            email="ANN@example.com", password="another fine password", full_name="Ann Two"
        )


@pytest.mark.parametrize(
    "password",
    ["short1!", "password123", "QWERTYUIOP", "aaaaaaaaaaaa", "abababababab", "x" * 257],
    ids=["too-short", "common", "common-any-case", "one-char", "two-chars", "too-long"],
)
async def test_register_refuses_a_weak_password(shop: Container, password: str) -> None:
    with pytest.raises(WeakPassword):
        await shop.authentication().register(
            email="ann@example.com", password=password, full_name="Ann"
        )

    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email="ann@example.com", password=password)


@pytest.mark.parametrize("email", ["ann", "ann@example", "ann @example.com", "a@b@c.com", ""])
async def test_register_refuses_a_malformed_email(shop: Container, email: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.authentication().register(email=email, password=PASSWORD, full_name="Ann")

    assert refused.value.field == "email"


async def test_register_refuses_a_blank_name(shop: Container) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.authentication().register(
            email="ann@example.com", password=PASSWORD, full_name="   "
        )

    assert refused.value.field == "full_name"


# --- login ---------------------------------------------------------------------------------


async def test_login_with_the_right_password_signs_in(shop: Container, customer: Account) -> None:
    tokens = await shop.authentication().login(email="ANN@example.com", password=PASSWORD)

    principal = await shop.authentication().authenticate_access_token(tokens.access_token)
    assert principal.user_id == customer.id
    assert tokens.refresh_token != customer.tokens.refresh_token


async def test_wrong_password_and_unknown_email_fail_alike(
    shop: Container, customer: Account
) -> None:
    with pytest.raises(InvalidCredentials) as wrong_password:
        await shop.authentication().login(email="ann@example.com", password="not my password!")
    with pytest.raises(InvalidCredentials) as unknown_email:
        await shop.authentication().login(email="nobody@example.com", password=PASSWORD)
    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email="not an email", password=PASSWORD)

    assert str(wrong_password.value) == str(unknown_email.value)


async def test_disabled_account_is_told_so_only_after_the_right_password(
    shop: Container, customer: Account, admin: Account
) -> None:
    await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(is_active=False)
    )

    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email=customer.email, password="not my password!")
    with pytest.raises(AccountDisabled):
        await shop.authentication().login(email=customer.email, password=PASSWORD)


async def test_login_upgrades_a_legacy_bcrypt_hash_to_argon2(shop: Container) -> None:
    legacy_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    now = clock(shop).now()
    async with shop.unit_of_work()() as uow:
        await uow.users.add(
            User(
                id="legacy-user",
                email=Email("old@example.com"),
                full_name="Old Timer",
                password_hash=legacy_hash,
                role=Role.CUSTOMER,
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
        await uow.commit()

    await shop.authentication().login(email="old@example.com", password=PASSWORD)

    async with shop.unit_of_work()() as uow:
        upgraded = await uow.users.get("legacy-user")
    assert upgraded is not None
    assert upgraded.password_hash.startswith("$argon2id$")
    # The upgraded hash still lets the same password in, and no other.
    await shop.authentication().login(email="old@example.com", password=PASSWORD)
    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email="old@example.com", password="wrong password 1")


async def test_login_keeps_a_current_argon2_hash(shop: Container, customer: Account) -> None:
    async with shop.unit_of_work()() as uow:
        before = await uow.users.get(customer.id)

    await shop.authentication().login(email=customer.email, password=PASSWORD)

    async with shop.unit_of_work()() as uow:
        after = await uow.users.get(customer.id)
    assert before is not None
    assert after is not None
    assert after.password_hash == before.password_hash


# --- refresh -------------------------------------------------------------------------------


async def test_refresh_rotates_the_refresh_token(shop: Container, customer: Account) -> None:
    auth = shop.authentication()

    renewed = await auth.refresh(customer.tokens.refresh_token)

    assert renewed.refresh_token != customer.tokens.refresh_token
    assert renewed.user.id == customer.id
    principal = await auth.authenticate_access_token(renewed.access_token)
    assert principal.user_id == customer.id
    assert (await auth.refresh(renewed.refresh_token)).user.id == customer.id


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    shop: Container, customer: Account
) -> None:
    auth = shop.authentication()
    newest = await auth.refresh(customer.tokens.refresh_token)

    with pytest.raises(InvalidToken):
        await auth.refresh(customer.tokens.refresh_token)
    with pytest.raises(InvalidToken):
        await auth.refresh(newest.refresh_token)


async def test_reuse_in_one_session_leaves_other_sessions_signed_in(
    shop: Container, customer: Account
) -> None:
    auth = shop.authentication()
    laptop = await auth.login(email=customer.email, password=PASSWORD)
    await auth.refresh(customer.tokens.refresh_token)

    with pytest.raises(InvalidToken):
        await auth.refresh(customer.tokens.refresh_token)

    assert (await auth.refresh(laptop.refresh_token)).user.id == customer.id


@pytest.mark.parametrize(
    "token",
    ["", "no-dot-here", ".secret", "family.", "unknown-family.some-secret", "x" * 600 + ".y"],
)
async def test_refresh_refuses_malformed_and_unknown_tokens(shop: Container, token: str) -> None:
    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(token)


async def test_refresh_token_expires_after_its_lifetime(shop: Container, customer: Account) -> None:
    clock(shop).advance(timedelta(days=30, seconds=1))

    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)


async def test_refresh_refuses_a_user_deactivated_by_an_admin(
    shop: Container, customer: Account, admin: Account
) -> None:
    await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(is_active=False)
    )

    with pytest.raises(AuthenticationFailed):
        await shop.authentication().refresh(customer.tokens.refresh_token)


async def test_refresh_refuses_a_disabled_user_whose_tokens_were_not_revoked(
    shop: Container, customer: Account
) -> None:
    # Deactivated behind the use cases' back (say, straight in the database).
    async with shop.unit_of_work()() as uow:
        user = await uow.users.get(customer.id)
        assert user is not None
        user.set_active(False, clock(shop).now())
        await uow.users.save(user)
        await uow.commit()

    with pytest.raises(AccountDisabled):
        await shop.authentication().refresh(customer.tokens.refresh_token)
    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)


# --- logout --------------------------------------------------------------------------------


async def test_logout_stops_that_refresh_token(shop: Container, customer: Account) -> None:
    await shop.authentication().logout(customer.principal, customer.tokens.refresh_token)

    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)


async def test_logout_with_someone_elses_token_leaves_it_working(
    shop: Container, customer: Account, other_customer: Account
) -> None:
    await shop.authentication().logout(other_customer.principal, customer.tokens.refresh_token)

    renewed = await shop.authentication().refresh(customer.tokens.refresh_token)
    assert renewed.user.id == customer.id


async def test_logout_ends_only_the_session_it_names(shop: Container, customer: Account) -> None:
    laptop = await shop.authentication().login(email=customer.email, password=PASSWORD)

    await shop.authentication().logout(customer.principal, customer.tokens.refresh_token)

    assert (await shop.authentication().refresh(laptop.refresh_token)).user.id == customer.id


async def test_logout_needs_a_signed_in_user_and_a_well_formed_token(
    shop: Container, customer: Account, api_key: KeyIssuer
) -> None:
    key = await api_key("orders:read")

    with pytest.raises(PermissionDenied):
        await shop.authentication().logout(key, customer.tokens.refresh_token)
    with pytest.raises(InvalidToken):
        await shop.authentication().logout(customer.principal, "not-a-refresh-token")

    assert (await shop.authentication().refresh(customer.tokens.refresh_token)).user.id == (
        customer.id
    )


# --- password reset ------------------------------------------------------------------------


async def _reset_token(shop: Container, email: str) -> str:
    await shop.authentication().request_password_reset(email)
    return await emailed_reset_token(shop, email)


async def test_password_reset_for_an_unknown_email_does_nothing(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset("nobody@example.com")
    await shop.authentication().request_password_reset("not an email")

    assert await outbox_events(shop, "password_reset_requested") == []


async def test_password_reset_request_names_the_user_and_no_token(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset("ANN@example.com")

    [request] = await outbox_events(shop, "password_reset_requested")
    assert request.keys() == {"user_id", "expires_at", "password_fingerprint"}
    assert request["user_id"] == customer.id
    assert request["expires_at"] == "2026-01-01T01:00:00+00:00"


async def test_password_reset_email_links_to_a_token_that_works_once(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset("ANN@example.com")
    token = await emailed_reset_token(shop, customer.email)

    assert len(token) >= 32
    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )
    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token=token, new_password="a brand new passphrase"
        )


async def test_password_reset_changes_the_password_once(shop: Container, customer: Account) -> None:
    token = await _reset_token(shop, customer.email)

    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )

    await shop.authentication().login(email=customer.email, password="a brand new passphrase")
    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email=customer.email, password=PASSWORD)
    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token=token, new_password="yet another passphrase"
        )
    await shop.authentication().login(email=customer.email, password="a brand new passphrase")


async def test_a_password_change_voids_every_outstanding_reset_token(
    shop: Container, customer: Account
) -> None:
    first = await _reset_token(shop, customer.email)
    second = await _reset_token(shop, customer.email)
    await shop.authentication().confirm_password_reset(
        token=first, new_password="a brand new passphrase"
    )

    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token=second, new_password="an attacker's passphrase"
        )
    await shop.authentication().login(email=customer.email, password="a brand new passphrase")


async def test_changing_the_password_in_the_profile_voids_reset_tokens(
    shop: Container, customer: Account
) -> None:
    token = await _reset_token(shop, customer.email)
    await shop.user_accounts().update_me(
        customer.principal, current_password=PASSWORD, new_password="a brand new passphrase"
    )

    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token=token, new_password="an attacker's passphrase"
        )


async def test_password_reset_signs_out_every_session(shop: Container, customer: Account) -> None:
    laptop = await shop.authentication().login(email=customer.email, password=PASSWORD)
    token = await _reset_token(shop, customer.email)

    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )

    for refresh_token in (customer.tokens.refresh_token, laptop.refresh_token):
        with pytest.raises(InvalidToken):
            await shop.authentication().refresh(refresh_token)


async def test_expired_password_reset_token_is_refused(shop: Container, customer: Account) -> None:
    token = await _reset_token(shop, customer.email)
    clock(shop).advance(timedelta(hours=1))

    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token=token, new_password="a brand new passphrase"
        )
    await shop.authentication().login(email=customer.email, password=PASSWORD)


async def test_weak_new_password_does_not_burn_the_reset_token(
    shop: Container, customer: Account
) -> None:
    token = await _reset_token(shop, customer.email)

    with pytest.raises(WeakPassword):
        await shop.authentication().confirm_password_reset(token=token, new_password="password123")

    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )
    await shop.authentication().login(email=customer.email, password="a brand new passphrase")


async def test_unknown_password_reset_token_is_refused(shop: Container, customer: Account) -> None:
    with pytest.raises(InvalidToken):
        await shop.authentication().confirm_password_reset(
            token="made-up-token", new_password="a brand new passphrase"
        )


async def test_disabled_account_gets_no_password_reset(
    shop: Container, customer: Account, admin: Account
) -> None:
    await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(is_active=False)
    )

    await shop.authentication().request_password_reset(customer.email)

    assert await outbox_events(shop, "password_reset_requested") == []


# --- access tokens -------------------------------------------------------------------------


async def test_access_token_expires(shop: Container, customer: Account) -> None:
    clock(shop).advance(timedelta(minutes=14))
    assert (
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)
    ).user_id == customer.id

    clock(shop).advance(timedelta(minutes=2))

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
async def test_garbage_access_token_is_refused(shop: Container, token: str) -> None:
    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(token)


async def test_tampered_access_token_is_refused(shop: Container, customer: Account) -> None:
    header, payload, signature = customer.tokens.access_token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(forged)


async def test_access_token_of_a_deactivated_user_stops_working_at_once(
    shop: Container, customer: Account, admin: Account
) -> None:
    await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(is_active=False)
    )

    with pytest.raises(AccountDisabled):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)


async def test_a_role_change_ends_every_token_issued_before_it(
    shop: Container, customer: Account, admin: Account
) -> None:
    await shop.user_accounts().change_user(admin.principal, customer.id, UserChanges(Role.STAFF))

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)
    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)
    # Signing in again, within the same second, gets a working token with the new role.
    again = await sign_in(shop, customer.email)
    assert again.principal.role is Role.STAFF


async def test_a_password_reset_ends_access_tokens_issued_before_it_not_after(
    shop: Container, customer: Account
) -> None:
    token = await _reset_token(shop, customer.email)

    # The clock stands still: the old token, the reset and the new sign-in share one second.
    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )
    after = await shop.authentication().login(
        email=customer.email, password="a brand new passphrase"
    )

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)
    signed_in = await shop.authentication().authenticate_access_token(after.access_token)
    assert signed_in.user_id == customer.id
    assert (await shop.authentication().refresh(after.refresh_token)).user.id == customer.id


async def test_a_password_change_in_the_profile_ends_every_token_issued_before_it(
    shop: Container, customer: Account
) -> None:
    laptop = await shop.authentication().login(email=customer.email, password=PASSWORD)

    await shop.user_accounts().update_me(
        customer.principal, current_password=PASSWORD, new_password="a brand new passphrase"
    )

    for tokens in (customer.tokens, laptop):
        with pytest.raises(InvalidToken):
            await shop.authentication().authenticate_access_token(tokens.access_token)
        with pytest.raises(InvalidToken):
            await shop.authentication().refresh(tokens.refresh_token)
    await sign_in(shop, customer.email, "a brand new passphrase")


async def test_a_refresh_token_from_before_a_reset_is_refused_even_if_its_revocation_was_lost(
    shop: Container, customer: Account
) -> None:
    async def lost(user_id: str) -> None:
        """A token store that missed the revocation (e.g. Redis flushed or failed over)."""

    shop.token_store().revoke_user = lost  # type: ignore[method-assign]
    token = await _reset_token(shop, customer.email)
    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )

    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)


async def test_tokens_of_a_deactivated_user_stay_dead_after_reactivation(
    shop: Container, customer: Account, admin: Account
) -> None:
    accounts = shop.user_accounts()
    await accounts.change_user(admin.principal, customer.id, UserChanges(is_active=False))
    await accounts.change_user(admin.principal, customer.id, UserChanges(is_active=True))

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)
    await sign_in(shop, customer.email)


async def test_a_rename_or_a_hash_upgrade_keeps_the_sessions(
    shop: Container, customer: Account
) -> None:
    await shop.user_accounts().update_me(customer.principal, full_name="Ann B. Archer")
    async with shop.unit_of_work()() as uow:
        user = await uow.users.get(customer.id)
        assert user is not None
        user.upgrade_password_hash(user.password_hash, clock(shop).now())
        await uow.users.save(user)
        await uow.commit()

    principal = await shop.authentication().authenticate_access_token(customer.tokens.access_token)
    assert principal.user_id == customer.id


# --- API keys ------------------------------------------------------------------------------


async def test_api_key_is_shown_once_and_stored_only_as_a_digest(
    shop: Container, admin: Account
) -> None:
    issued = await shop.api_keys().create(
        admin.principal, name="warehouse", scopes=["orders:read", "orders:write"]
    )

    assert issued.key.startswith("hxm_")
    async with shop.unit_of_work()() as uow:
        stored = await uow.api_keys.get_by_hash(digest(issued.key))
    assert stored is not None
    assert stored.id == issued.api_key.id
    assert stored.key_hash == digest(issued.key)
    assert issued.key not in repr(stored)
    assert issued.key.startswith(stored.prefix)
    listed = await shop.api_keys().list_keys(admin.principal, FIRST_PAGE)
    assert [key.id for key in listed.items] == [issued.api_key.id]
    assert issued.key not in repr(listed.items)


async def test_api_key_authenticates_with_exactly_its_scopes(
    shop: Container, admin: Account
) -> None:
    issued = await shop.api_keys().create(
        admin.principal, name="catalog sync", scopes=["products:read", "products:write"]
    )

    principal = await shop.authentication().authenticate_api_key(issued.key)

    assert principal.api_key_id == issued.api_key.id
    assert {scope.value for scope in principal.scopes} == {"products:read", "products:write"}
    assert principal.user_id is None
    assert principal.role is None


async def test_unknown_api_key_is_refused(shop: Container) -> None:
    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_api_key("hxm_not-a-real-key")


async def test_revoked_api_key_stops_working_at_once(shop: Container, admin: Account) -> None:
    issued = await shop.api_keys().create(admin.principal, name="old", scopes=["orders:read"])
    kept = await shop.api_keys().create(admin.principal, name="kept", scopes=["orders:read"])

    await shop.api_keys().revoke(admin.principal, issued.api_key.id)

    with pytest.raises(InvalidToken):
        await shop.authentication().authenticate_api_key(issued.key)
    assert (await shop.authentication().authenticate_api_key(kept.key)).api_key_id == (
        kept.api_key.id
    )
    listed = await shop.api_keys().list_keys(admin.principal, FIRST_PAGE)
    assert [key.id for key in listed.items] == [kept.api_key.id]


async def test_an_api_key_dies_with_its_creators_activity_and_is_refused_without_admin_rights(
    shop: Container, admin: Account
) -> None:
    other = await shop.user_accounts().create_user(
        admin.principal,
        email="zoe@example.com",
        password=PASSWORD,
        full_name="Zoe Admin",
        role=Role.ADMIN,
    )
    zoe = await sign_in(shop, other.email.value)
    demoted_key = await shop.api_keys().create(zoe.principal, name="a", scopes=["orders:read"])
    kept_key = await shop.api_keys().create(admin.principal, name="b", scopes=["orders:read"])
    accounts, auth = shop.user_accounts(), shop.authentication()

    await accounts.change_user(admin.principal, zoe.id, UserChanges(role=Role.CUSTOMER))
    with pytest.raises(PermissionDenied):
        await auth.authenticate_api_key(demoted_key.key)

    await accounts.change_user(admin.principal, zoe.id, UserChanges(is_active=False))
    with pytest.raises(InvalidToken):
        await auth.authenticate_api_key(demoted_key.key)
    assert (await auth.authenticate_api_key(kept_key.key)).api_key_id == kept_key.api_key.id

    # Made an active administrator again, Zoe needs a new key: the old one stays refused.
    await accounts.change_user(
        admin.principal, zoe.id, UserChanges(role=Role.ADMIN, is_active=True)
    )
    with pytest.raises(PermissionDenied):
        await auth.authenticate_api_key(demoted_key.key)
    zoe = await sign_in(shop, other.email.value)
    new_key = await shop.api_keys().create(zoe.principal, name="c", scopes=["orders:read"])
    assert (await auth.authenticate_api_key(new_key.key)).api_key_id == new_key.api_key.id


async def test_an_admin_demoted_while_signed_in_cannot_create_a_key(
    shop: Container, admin: Account
) -> None:
    """The rights are read when the key is made, not taken from the caller's token."""
    other = await shop.user_accounts().create_user(
        admin.principal,
        email="zoe@example.com",
        password=PASSWORD,
        full_name="Zoe Admin",
        role=Role.ADMIN,
    )
    zoe = await sign_in(shop, other.email.value)
    await shop.user_accounts().change_user(admin.principal, zoe.id, UserChanges(role=Role.CUSTOMER))

    with pytest.raises(PermissionDenied):
        await shop.api_keys().create(zoe.principal, name="late", scopes=["orders:read"])


async def test_revoking_an_unknown_api_key_is_not_found(shop: Container, admin: Account) -> None:
    with pytest.raises(NotFound):
        await shop.api_keys().revoke(admin.principal, "no-such-key")


async def test_only_admins_manage_api_keys(
    shop: Container, admin: Account, staff: Account, customer: Account
) -> None:
    issued = await shop.api_keys().create(admin.principal, name="k", scopes=["orders:read"])
    key_principal = await shop.authentication().authenticate_api_key(issued.key)

    for outsider in (staff.principal, customer.principal, key_principal):
        with pytest.raises(PermissionDenied):
            await shop.api_keys().create(outsider, name="mine", scopes=["orders:read"])
        with pytest.raises(PermissionDenied):
            await shop.api_keys().list_keys(outsider, FIRST_PAGE)
        with pytest.raises(PermissionDenied):
            await shop.api_keys().revoke(outsider, issued.api_key.id)
    assert (await shop.authentication().authenticate_api_key(issued.key)).api_key_id is not None


@pytest.mark.parametrize("scopes", [["orders:delete"], ["admin"], []])
async def test_api_key_with_unknown_or_no_scope_is_refused(
    shop: Container, admin: Account, scopes: list[str]
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.api_keys().create(admin.principal, name="bad", scopes=scopes)

    assert refused.value.field == "scopes"
    assert (await shop.api_keys().list_keys(admin.principal, FIRST_PAGE)).items == []


async def test_signing_in_again_after_login_gives_an_independent_session(
    shop: Container, customer: Account
) -> None:
    again = await sign_in(shop, customer.email)

    assert again.tokens.refresh_token != customer.tokens.refresh_token
    assert again.principal == customer.principal


async def test_register_retried_after_a_conflict_still_records_the_welcome_event() -> None:
    """A transaction the store aborts is run again; the second run must write the
    UserRegistered event too, or the welcome email would be lost."""
    shop = in_memory_container()
    real_factory = shop.unit_of_work()
    aborted: list[bool] = []

    class AbortFirstCommit:
        def __init__(self) -> None:
            self._uow = real_factory()

        async def __aenter__(self) -> AbortFirstCommit:
            await self._uow.__aenter__()
            return self

        async def __aexit__(self, *exc: object) -> None:
            await self._uow.__aexit__(*exc)  # type: ignore[arg-type]

        def __getattr__(self, name: str) -> object:
            return getattr(self._uow, name)

        async def commit(self) -> None:
            if not aborted:
                aborted.append(True)
                raise ConcurrencyConflict("serialization failure")
            await self._uow.commit()

    shop.unit_of_work.override(providers.Object(AbortFirstCommit))

    await shop.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann Archer"
    )

    assert aborted == [True]
    async with real_factory() as uow:
        messages = await uow.outbox.list_unsent(10)
    assert [message.name for message in messages] == ["user_registered"]
