"""`hexmart users ...` and `hexmart api-keys ...`: accounts and third-party keys."""

from __future__ import annotations

import secrets
import sys
from typing import TYPE_CHECKING, Any

import click

from entrypoints.commands.runtime import (
    EXIT_USAGE,
    acting,
    confirm,
    fail,
    json_option,
    print_record,
    print_table,
    run,
    show,
    yes_option,
)

if TYPE_CHECKING:
    from application.principal import Principal
    from domain.users import ApiKey, User
    from entrypoints.container import Container

ROLES = click.Choice(["admin", "staff", "customer"])
USER_COLUMNS = ("id", "email", "full_name", "role", "active", "created_at")


def user_record(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "full_name": user.full_name,
        "role": user.role.value,
        "active": user.is_active,
        "created_at": user.created_at,
    }


async def find_user(container: Container, actor: Principal, who: str) -> User:
    """A user by email (anything with an @) or by id."""
    accounts = container.user_accounts()
    if "@" in who:
        return await accounts.get_user_by_email(actor, who)
    return await accounts.get_user(actor, who)


@click.group()
def users() -> None:
    """User accounts: create, list, show, change role, (de)activate, reset password."""


@users.command("create")
@click.option("--email", required=True, help="The new user's email.")
@click.option("--role", type=ROLES, required=True, help="admin, staff or customer.")
@click.option("--full-name", default=None, help="Defaults to the part of the email before @.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.option(
    "--generate-password",
    is_flag=True,
    help="Make a strong password and print it once (the default without a terminal).",
)
@json_option
@acting
def users_create(
    email: str,
    role: str,
    full_name: str | None,
    password_stdin: bool,
    generate_password: bool,
    as_json: bool,
) -> None:
    """Create an account (the first administrator, staff, or a customer).

    The password comes from a prompt, from --password-stdin, or is generated and printed
    once (--generate-password, or when there is no terminal to ask on)."""
    from domain.users import Role

    generated = False
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: no password on standard input", EXIT_USAGE)
    elif generate_password or not sys.stdin.isatty():
        password = secrets.token_urlsafe(16)
        generated = True
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    name = full_name or email.split("@", 1)[0] or email

    async def create(container: Container, actor: Principal) -> User:
        return await container.user_accounts().create_user(
            actor, email=email, password=password, full_name=name, role=Role(role)
        )

    user = run(create)
    record = user_record(user)
    if generated:
        record["password"] = password
    if as_json:
        show(record, True, lambda: None)
        return
    click.echo(f"created {user.role.value} {user.email.value} ({user.id})")
    if generated:
        click.echo(f"password (shown once): {password}")


@users.command("list")
@click.option("--role", type=ROLES, default=None, help="Only users with this role.")
@json_option
@acting
def users_list(role: str | None, as_json: bool) -> None:
    """Every user (or those with --role), oldest first."""
    from application.ports.persistence import MAX_PAGE_SIZE, PageRequest

    async def every_user(container: Container, actor: Principal) -> list[User]:
        accounts = container.user_accounts()
        found: list[User] = []
        cursor: str | None = None
        while True:
            page = await accounts.list_users(actor, PageRequest(MAX_PAGE_SIZE, cursor))
            found.extend(u for u in page.items if role is None or u.role.value == role)
            cursor = page.next_cursor
            if cursor is None:
                return found

    records = [user_record(u) for u in run(every_user)]
    show(records, as_json, lambda: print_table(records, USER_COLUMNS))


@users.command("show")
@click.argument("who", metavar="EMAIL|ID")
@json_option
@acting
def users_show(who: str, as_json: bool) -> None:
    """One user."""

    async def get(container: Container, actor: Principal) -> User:
        return await find_user(container, actor, who)

    record = user_record(run(get))
    show(record, as_json, lambda: print_record(record))


def _change(who: str, **changes: Any) -> User:
    from application.users import UserChanges

    async def change(container: Container, actor: Principal) -> User:
        user = await find_user(container, actor, who)
        return await container.user_accounts().change_user(actor, user.id, UserChanges(**changes))

    return run(change)


@users.command("set-role")
@click.argument("who", metavar="EMAIL|ID")
@click.argument("role", type=ROLES)
@yes_option()
@acting
def users_set_role(who: str, role: str, yes: bool) -> None:
    """Change a user's role."""
    from domain.users import Role

    confirm(f"Make {who} {role}?", yes)
    user = _change(who, role=Role(role))
    click.echo(f"{user.email.value} is now {user.role.value}")


@users.command("deactivate")
@click.argument("who", metavar="EMAIL|ID")
@yes_option()
@acting
def users_deactivate(who: str, yes: bool) -> None:
    """Stop a user from signing in (their sessions end)."""
    confirm(f"Deactivate {who}? They are signed out everywhere.", yes)
    user = _change(who, is_active=False)
    click.echo(f"{user.email.value} is deactivated")


@users.command("activate")
@click.argument("who", metavar="EMAIL|ID")
@acting
def users_activate(who: str) -> None:
    """Let a deactivated user sign in again."""
    user = _change(who, is_active=True)
    click.echo(f"{user.email.value} is active")


@users.command("send-password-reset")
@click.argument("who", metavar="EMAIL|ID")
@acting
def users_send_password_reset(who: str) -> None:
    """Email the user a one-time password reset link (through the outbox)."""
    from entrypoints.commands.runtime import load_settings

    settings = load_settings()
    if settings.redis.url is None:
        fail(
            "send-password-reset needs HEXMART_REDIS_URL: without Redis, reset tokens live "
            "in the server's memory, so ask for one through POST /auth/password-reset",
            EXIT_USAGE,
        )

    async def send(container: Container, actor: Principal) -> User:
        user = await find_user(container, actor, who)
        if not user.is_active:
            from domain.errors import Conflict

            raise Conflict(f"{user.email.value} is deactivated; activate it first")
        await container.authentication().request_password_reset(user.email.value)
        return user

    user = run(send, settings=settings)
    click.echo(f"a password reset email to {user.email.value} is queued")


# API keys -------------------------------------------------------------------------------

KEY_COLUMNS = ("id", "name", "prefix", "scopes", "created_by", "created_at")


def key_record(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(scope.value for scope in key.scopes),
        "created_by": key.created_by,
        "created_at": key.created_at,
    }


@click.group("api-keys")
def api_keys() -> None:
    """Scoped API keys for third-party programs."""


@api_keys.command("create")
@click.option(
    "--owner", required=True, metavar="EMAIL", help="The staff or admin user it acts for."
)
@click.option("--name", required=True, help="What the key is for.")
@click.option(
    "--scopes",
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="products:read, products:write, orders:read, orders:write; repeat the option "
    "or separate with commas.",
)
@json_option
@acting
def api_keys_create(owner: str, name: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Create a key; the key itself is printed once and never again."""
    from application.api_keys import IssuedApiKey

    wanted = [scope.strip() for value in scopes for scope in value.split(",") if scope.strip()]

    async def create(container: Container, actor: Principal) -> IssuedApiKey:
        owner_user = await container.user_accounts().get_user_by_email(actor, owner)
        return await container.api_keys().create(
            actor, name=name, scopes=wanted, owner_id=owner_user.id
        )

    issued = run(create)
    record = key_record(issued.api_key) | {"key": issued.key}
    if as_json:
        show(record, True, lambda: None)
        return
    click.echo(f"created API key {issued.api_key.id} ({name})")
    click.echo(f"key (shown once): {issued.key}")


@api_keys.command("list")
@json_option
@acting
def api_keys_list(as_json: bool) -> None:
    """Every API key (never the keys themselves)."""
    from application.ports.persistence import MAX_PAGE_SIZE, PageRequest

    async def every_key(container: Container, actor: Principal) -> list[ApiKey]:
        found: list[ApiKey] = []
        cursor: str | None = None
        while True:
            page = await container.api_keys().list_keys(actor, PageRequest(MAX_PAGE_SIZE, cursor))
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return found

    records = [key_record(k) for k in run(every_key)]
    show(records, as_json, lambda: print_table(records, KEY_COLUMNS))


@api_keys.command("revoke")
@click.argument("key_id", metavar="ID")
@yes_option()
@acting
def api_keys_revoke(key_id: str, yes: bool) -> None:
    """Delete a key: it stops working at once."""
    confirm(f"Revoke API key {key_id}?", yes)

    async def revoke(container: Container, actor: Principal) -> None:
        await container.api_keys().revoke(actor, key_id)

    run(revoke)
    click.echo(f"API key {key_id} revoked")
