"""Running `hexmart` admin commands in-process with click's CliRunner.

`env` is a clean HEXMART_* environment in an empty working folder (the embedded default:
a SQLite file there); `hexmart(...)` runs a command with it and returns click's result,
with stdout and stderr apart."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from dependency_injector import providers
from sqlalchemy.engine import make_url

from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.system.clock import SystemClock
from application.catalog import NewProduct
from application.principal import Principal
from domain.money import Money
from domain.orders import Order
from domain.users import Role
from entrypoints import cli
from entrypoints.commands.runtime import Composition
from entrypoints.container import Container, start_services, stop_services
from entrypoints.settings import Settings
from entrypoints.testing import container_for_tests
from tests.application.shopping import an_address
from tests.sql_fixtures import POSTGRES_SERVER_URL, postgres_dsn

Hexmart = Callable[..., Result]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("HEXMART_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {
        "HEXMART_DATA_DIR": str(tmp_path / "var"),
        "HEXMART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}",
    }


@pytest.fixture
def overrides() -> dict[str, object]:
    """Providers the commands' containers replace by these objects (by provider name)."""
    return {}


def composed(overrides: dict[str, object]) -> Callable[[Settings], Container]:
    """entrypoints.testing's composition, with `overrides`."""

    def build(settings: Settings) -> Container:
        built = container_for_tests(settings)
        for name, value in overrides.items():
            getattr(built, name).override(providers.Object(value))
        return built

    return build


@pytest.fixture
def hexmart(env: dict[str, str], overrides: dict[str, object]) -> Hexmart:
    composition = Composition(build_container=composed(overrides))

    def run(*args: str, input: str | None = None, **more_env: str) -> Result:
        return CliRunner().invoke(
            cli.main,
            list(args),
            env=env | more_env,
            input=input,
            catch_exceptions=False,
            obj=composition,
        )

    return run


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, never migrated."""
    name = f"hexmart_test_{secrets.token_hex(6)}_cli"
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(postgres_dsn(POSTGRES_SERVER_URL), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_line_error(result: Result) -> str:
    """The command's error: exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, env: dict[str, str]) -> str:
    """Both databases: the embedded SQLite file, and the session's PostgreSQL database
    (migrated, emptied for this test). Sets HEXMART_DATABASE_URL in `env`."""
    if request.param == "postgresql":
        env["HEXMART_DATABASE_URL"] = request.getfixturevalue("clean_postgres_url")
    return env["HEXMART_DATABASE_URL"]


@pytest.fixture
def gateway() -> FakePaymentGateway:
    """The payment provider every container of the test talks to (the CLI's included)."""
    return FakePaymentGateway(SystemClock())


Scene = Callable[[Callable[[Container], Awaitable[Any]]], Any]


@pytest.fixture
def shop(
    env: dict[str, str],
    database: str,
    gateway: FakePaymentGateway,
    overrides: dict[str, object],
) -> Scene:
    """Runs `work(container)` on the test's database, to set the scene or look at it
    through the use cases (in its own event loop, as each command runs in its own); the
    admin commands get the same payment provider."""

    overrides["payment_gateway"] = gateway
    build = composed(overrides)

    def run_with(work: Callable[[Container], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            container = build(Settings.from_mapping(env))
            await start_services(container)
            try:
                return await work(container)
            finally:
                await stop_services(container)

        return asyncio.run(main())

    return run_with


def paid_order(shop: Scene, *, quantity: int = 2, price: int = 1250) -> Order:
    result: Order = shop(lambda container: _paid_order(container, quantity, price))
    return result


async def _paid_order(shop: Container, quantity: int, price: int) -> Order:
    """A customer's order of one product, paid."""
    system = Principal.system()
    suffix = secrets.token_hex(3)
    product = await shop.catalog().create_product(
        system,
        NewProduct(f"Mug {suffix}", "", Money(price, "USD"), 10, "kitchen", sku=f"MUG-{suffix}"),
    )
    customer = await shop.user_accounts().create_user(
        system,
        email=f"ann-{suffix}@example.com",
        password="a long enough password",
        full_name="Ann",
        role=Role.CUSTOMER,
    )
    actor = Principal.user(customer.id, Role.CUSTOMER)
    await shop.carts().set_item(actor, product.id, quantity)
    placed = await shop.orders().place_order(
        actor, idempotency_key=f"k-{suffix}", shipping_address=an_address()
    )
    gateway = shop.payment_gateway()
    assert placed.payment.intent_id is not None
    await shop.payment_events().apply_event(gateway.succeed(placed.payment.intent_id))
    return await shop.orders().get_order(system, placed.order.id)
