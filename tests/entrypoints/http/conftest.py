"""Fixtures for the end-to-end HTTP tests.

The app under test is always built from the `container` fixture: override it (or
parametrise it) to run the same suite against other adapters, e.g. PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from adapters.sql.engine import create_engine
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.live_server import LiveServer, running_server
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    Client,
    create_product,
    login,
    promote,
    register,
    serving,
)
from tests.sql_fixtures import use_sql

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Litestar announces what breaks in 3.0 with deprecation warnings: fail on them here.
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(
                pytest.mark.filterwarnings("error::litestar.exceptions.LitestarDeprecationWarning")
            )
            item.add_marker(pytest.mark.filterwarnings("error::DeprecationWarning:litestar.*"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def container(request: pytest.FixtureRequest) -> AsyncIterator[Container]:
    """The shop behind the API, once on the embedded default's SQLite database and once on
    PostgreSQL; every other port in memory (payments, email, queue, clock are steerable),
    the first admin configured."""
    url_fixture = "sqlite_url" if request.param == "sqlite" else "clean_postgres_url"
    url: str = request.getfixturevalue(url_fixture)
    engine = create_engine(url, pool_size=5, max_overflow=10)
    shop = in_memory_container(
        settings_for_tests(admin_email=ADMIN_EMAIL, admin_password=PASSWORD, database_url=url)
    )
    use_sql(shop, engine)
    try:
        yield shop
    finally:
        await engine.dispose()


@pytest.fixture
def app(container: Container) -> Litestar:
    return create_app(container)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    async with serving(app) as test_client:
        yield test_client


@pytest.fixture
async def admin(client: Client) -> Account:
    return await login(client, ADMIN_EMAIL)


@pytest.fixture
async def staff(client: Client, admin: Account) -> Account:
    sam = await register(client, "sam@example.com", "Sam Staff")
    return await promote(client, admin, sam, "staff")


@pytest.fixture
async def customer(client: Client) -> Account:
    return await register(client, "ann@example.com", "Ann Archer")


@pytest.fixture
async def other_customer(client: Client) -> Account:
    return await register(client, "bob@example.com", "Bob Baker")


@pytest.fixture
async def mug(client: Client, staff: Account) -> dict[str, Any]:
    return await create_product(client, staff)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`hexmart serve --demo` on a free loopback port, shared by the tests that need one."""
    with running_server(tmp_path_factory.mktemp("live-server")) as server:
        yield server
