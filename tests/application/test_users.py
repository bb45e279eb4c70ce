"""The user's own profile, user administration, and bootstrapping the first admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.ports.persistence import PageRequest
from application.principal import Principal
from application.users import UserChanges
from domain.errors import (
    AccountDisabled,
    AuthenticationFailed,
    Conflict,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidToken,
    InvalidValue,
    NotFound,
    PermissionDenied,
    WeakPassword,
)
from domain.users import Role
from entrypoints.container import Container
from tests.application.shopping import (
    PASSWORD,
    Account,
    KeyIssuer,
    clock,
    every_page,
    sign_in,
)

NEW_PASSWORD = "a brand new passphrase"


# --- the user's own profile ----------------------------------------------------------------


async def test_get_me_returns_the_callers_account(shop: Container, customer: Account) -> None:
    me = await shop.user_accounts().get_me(customer.principal)

    assert me.id == customer.id
    assert me.email.value == "ann@example.com"
    assert me.full_name == "Ann Archer"
    assert me.role is Role.CUSTOMER


async def test_get_me_is_for_users_not_api_keys(shop: Container, api_key: KeyIssuer) -> None:
    key = await api_key("orders:read")

    with pytest.raises(PermissionDenied):
        await shop.user_accounts().get_me(key)


async def test_update_me_renames(shop: Container, customer: Account) -> None:
    clock(shop).advance(60)

    renamed = await shop.user_accounts().update_me(customer.principal, full_name="  Ann B. ")

    assert renamed.full_name == "Ann B."
    assert renamed.updated_at > renamed.created_at
    assert (await shop.user_accounts().get_me(customer.principal)).full_name == "Ann B."


async def test_update_me_refuses_a_blank_name(shop: Container, customer: Account) -> None:
    with pytest.raises(InvalidValue):
        await shop.user_accounts().update_me(customer.principal, full_name="  ")

    assert (await shop.user_accounts().get_me(customer.principal)).full_name == "Ann Archer"


async def test_password_change_needs_the_current_password(
    shop: Container, customer: Account
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.user_accounts().update_me(
            customer.principal, current_password="not my password!", new_password=NEW_PASSWORD
        )

    assert refused.value.field == "current_password"
    await shop.authentication().login(email=customer.email, password=PASSWORD)
    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email=customer.email, password=NEW_PASSWORD)


@pytest.mark.parametrize(
    "fields",
    [{"current_password": PASSWORD}, {"new_password": NEW_PASSWORD}],
    ids=["current-only", "new-only"],
)
async def test_password_change_needs_both_passwords(
    shop: Container, customer: Account, fields: dict[str, str]
) -> None:
    with pytest.raises(InvalidValue):
        await shop.user_accounts().update_me(customer.principal, **fields)

    await shop.authentication().login(email=customer.email, password=PASSWORD)


async def test_password_change_refuses_a_weak_new_password(
    shop: Container, customer: Account
) -> None:
    with pytest.raises(WeakPassword):
        await shop.user_accounts().update_me(
            customer.principal, current_password=PASSWORD, new_password="qwerty1234"
        )

    await shop.authentication().login(email=customer.email, password=PASSWORD)


async def test_password_change_takes_effect_and_revokes_refresh_tokens(
    shop: Container, customer: Account
) -> None:
    await shop.user_accounts().update_me(
        customer.principal, current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)
    with pytest.raises(InvalidCredentials):
        await shop.authentication().login(email=customer.email, password=PASSWORD)
    await shop.authentication().login(email=customer.email, password=NEW_PASSWORD)


async def test_renaming_alone_keeps_the_sessions(shop: Container, customer: Account) -> None:
    await shop.user_accounts().update_me(customer.principal, full_name="Ann B.")

    assert (await shop.authentication().refresh(customer.tokens.refresh_token)).user.id == (
        customer.id
    )


# --- administration ------------------------------------------------------------------------


async def test_admin_lists_every_user_page_by_page(
    shop: Container, admin: Account, customer: Account, other_customer: Account
) -> None:
    for n in range(4):
        clock(shop).advance(1)
        await shop.authentication().register(
            email=f"user{n}@example.com", password=PASSWORD, full_name=f"User {n}"
        )

    users = await every_page(
        lambda page: shop.user_accounts().list_users(admin.principal, page), limit=2
    )

    emails = [user.email.value for user in users]
    assert sorted(emails) == sorted(
        ["root@example.com", "ann@example.com", "bob@example.com"]
        + [f"user{n}@example.com" for n in range(4)]
    )
    assert len(set(emails)) == len(emails)
    # Registration order, oldest first; the last four were registered a second apart.
    assert emails[-4:] == [f"user{n}@example.com" for n in range(4)]


async def test_user_listing_refuses_a_bad_page_size_or_cursor(
    shop: Container, admin: Account
) -> None:
    pages: list[Callable[[], PageRequest]] = [
        lambda: PageRequest(limit=0),
        lambda: PageRequest(limit=101),
        lambda: PageRequest(cursor="garbage!"),
    ]
    for page in pages:
        with pytest.raises(InvalidValue):
            await shop.user_accounts().list_users(admin.principal, page())


async def test_admin_gets_one_user(shop: Container, admin: Account, customer: Account) -> None:
    user = await shop.user_accounts().get_user(admin.principal, customer.id)

    assert user.email.value == customer.email


async def test_admin_getting_an_unknown_user_is_not_found(shop: Container, admin: Account) -> None:
    with pytest.raises(NotFound):
        await shop.user_accounts().get_user(admin.principal, "no-such-user")
    with pytest.raises(NotFound):
        await shop.user_accounts().change_user(
            admin.principal, "no-such-user", UserChanges(role=Role.STAFF)
        )


async def test_only_admins_administer_users(
    shop: Container, admin: Account, staff: Account, customer: Account, api_key: KeyIssuer
) -> None:
    key = await api_key("orders:read", "orders:write", "products:read", "products:write")

    for outsider in (staff.principal, customer.principal, key):
        with pytest.raises(PermissionDenied):
            await shop.user_accounts().list_users(outsider, PageRequest())
        with pytest.raises(PermissionDenied):
            await shop.user_accounts().get_user(outsider, customer.id)
        with pytest.raises(PermissionDenied):
            await shop.user_accounts().change_user(outsider, customer.id, UserChanges(Role.ADMIN))
        with pytest.raises(PermissionDenied):
            await shop.user_accounts().create_user(
                outsider,
                email="new@example.com",
                password=PASSWORD,
                full_name="New",
                role=Role.ADMIN,
            )
    assert (await shop.user_accounts().get_me(customer.principal)).role is Role.CUSTOMER


async def test_admin_changes_a_role(shop: Container, admin: Account, customer: Account) -> None:
    changed = await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(role=Role.STAFF)
    )

    assert changed.role is Role.STAFF
    assert (await shop.user_accounts().get_me(customer.principal)).role is Role.STAFF


async def test_deactivating_a_user_signs_them_out_everywhere(
    shop: Container, admin: Account, customer: Account
) -> None:
    laptop = await shop.authentication().login(email=customer.email, password=PASSWORD)

    changed = await shop.user_accounts().change_user(
        admin.principal, customer.id, UserChanges(is_active=False)
    )

    assert changed.is_active is False
    for refresh_token in (customer.tokens.refresh_token, laptop.refresh_token):
        with pytest.raises(AuthenticationFailed):
            await shop.authentication().refresh(refresh_token)
    with pytest.raises(AccountDisabled):
        await shop.authentication().authenticate_access_token(customer.tokens.access_token)


async def test_reactivated_user_signs_in_afresh_and_old_sessions_stay_ended(
    shop: Container, admin: Account, customer: Account
) -> None:
    accounts = shop.user_accounts()
    await accounts.change_user(admin.principal, customer.id, UserChanges(is_active=False))

    await accounts.change_user(admin.principal, customer.id, UserChanges(is_active=True))

    with pytest.raises(InvalidToken):
        await shop.authentication().refresh(customer.tokens.refresh_token)
    again = await sign_in(shop, customer.email)
    assert again.principal.user_id == customer.id


@pytest.mark.parametrize(
    "changes",
    [UserChanges(role=Role.STAFF), UserChanges(role=Role.CUSTOMER), UserChanges(is_active=False)],
    ids=["to-staff", "to-customer", "deactivate"],
)
async def test_admin_cannot_lock_themselves_out(
    shop: Container, admin: Account, changes: UserChanges
) -> None:
    with pytest.raises(Conflict):
        await shop.user_accounts().change_user(admin.principal, admin.id, changes)

    me = await shop.user_accounts().get_me(admin.principal)
    assert me.role is Role.ADMIN
    assert me.is_active
    assert (await shop.authentication().refresh(admin.tokens.refresh_token)).user.id == admin.id


async def test_admin_may_demote_another_admin(
    shop: Container, admin: Account, customer: Account
) -> None:
    accounts = shop.user_accounts()
    await accounts.change_user(admin.principal, customer.id, UserChanges(role=Role.ADMIN))
    promoted = await sign_in(shop, customer.email)

    await accounts.change_user(promoted.principal, admin.id, UserChanges(role=Role.CUSTOMER))

    assert (await accounts.get_user(promoted.principal, admin.id)).role is Role.CUSTOMER


async def test_admin_creates_an_account_with_any_role(shop: Container, admin: Account) -> None:
    created = await shop.user_accounts().create_user(
        admin.principal,
        email="Sue@Example.com",
        password=PASSWORD,
        full_name="Sue Staff",
        role=Role.STAFF,
    )

    assert created.role is Role.STAFF
    signed_in = await sign_in(shop, "sue@example.com")
    assert signed_in.principal.role is Role.STAFF
    with pytest.raises(EmailAlreadyRegistered):
        await shop.user_accounts().create_user(
            admin.principal,
            email="sue@example.com",
            password=PASSWORD,
            full_name="Sue Again",
            role=Role.CUSTOMER,
        )


# --- the first admin -----------------------------------------------------------------------


async def test_first_admin_is_created_once(shop: Container) -> None:
    accounts = shop.user_accounts()

    first = await accounts.ensure_first_admin(email="root@example.com", password=PASSWORD)
    second = await accounts.ensure_first_admin(email="other@example.com", password=PASSWORD)

    assert first is not None
    assert first.role is Role.ADMIN
    assert second is None
    admin = await sign_in(shop, "root@example.com")
    assert admin.principal.is_admin
    users = await every_page(lambda page: accounts.list_users(admin.principal, page))
    assert [user.email.value for user in users] == ["root@example.com"]


async def test_first_admin_promotes_an_existing_account_and_keeps_its_password(
    shop: Container, customer: Account
) -> None:
    promoted = await shop.user_accounts().ensure_first_admin(
        email=customer.email, password="ignored password here"
    )

    assert promoted is not None
    assert promoted.id == customer.id
    assert promoted.role is Role.ADMIN
    again = await sign_in(shop, customer.email, PASSWORD)
    assert again.principal.is_admin


async def test_first_admin_reactivates_a_deactivated_account_it_promotes(
    shop: Container, customer: Account
) -> None:
    await shop.user_accounts().change_user(
        Principal.system(), customer.id, UserChanges(is_active=False)
    )

    promoted = await shop.user_accounts().ensure_first_admin(
        email=customer.email, password="ignored password here"
    )

    assert promoted is not None
    assert promoted.is_active
    again = await sign_in(shop, customer.email, PASSWORD)
    assert again.principal.is_admin


async def test_first_admin_refuses_a_weak_password(shop: Container) -> None:
    with pytest.raises(WeakPassword):
        await shop.user_accounts().ensure_first_admin(
            email="root@example.com", password="changeme123"
        )

    assert await shop.user_accounts().ensure_first_admin(
        email="root@example.com", password=PASSWORD
    )


async def test_system_principal_acts_as_admin(shop: Container, customer: Account) -> None:
    changed = await shop.user_accounts().change_user(
        Principal.system(), customer.id, UserChanges(role=Role.STAFF)
    )

    assert changed.role is Role.STAFF
