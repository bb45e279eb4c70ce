"""A database out of reach is `ServiceUnavailable` from the SQL unit of work, on both
databases: a pool with no free connection within its timeout, and a server (or file)
that cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from application.ports.errors import ServiceUnavailable
from tests.real_services import free_port
from tests.sql_fixtures import sql_units_of_work


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "clean_postgres_url"
    )
    return url


async def test_no_free_connection_within_the_pool_timeout_is_service_unavailable(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with sql_units_of_work(engine)() as holding:
            await holding.users.get("someone")  # the only connection is in use
            with pytest.raises(ServiceUnavailable, match="no free connection"):
                async with sql_units_of_work(engine)():
                    pass
    finally:
        await engine.dispose()


async def _unreachable_engine(kind: str, tmp_path: Path) -> AsyncEngine:
    if kind == "postgresql":
        return create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shop")
    folder = tmp_path / "gone"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'shop.db'}")
    folder.rmdir()  # the volume went away under the app
    return engine


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_database_that_cannot_be_reached_is_service_unavailable(
    kind: str, tmp_path: Path
) -> None:
    engine = await _unreachable_engine(kind, tmp_path)
    try:
        with pytest.raises(ServiceUnavailable, match=r"^the database is unavailable$"):
            async with sql_units_of_work(engine)() as uow:
                await uow.users.get("someone")
    finally:
        await engine.dispose()
