"""Two app processes on one PostgreSQL and one Redis: a password reset, a role change or a
deactivation made through one of them ends, at once, every token issued before it by
either, and an API key stops working in both once its creator loses admin rights."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.redis_store.client import create_redis_client
from adapters.redis_store.token_store import RedisTokenStore
from adapters.sql.engine import create_engine
from adapters.system.clock import SystemClock
from adapters.system.ids import UuidGenerator
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Client,
    assert_problem,
    emailed_reset_token,
    issue_api_key,
    login,
    promote,
    register,
    serving,
)
from tests.real_services import SHARED_REDIS_URL, shared_redis
from tests.sql_fixtures import use_sql

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def app_process(url: str, prefix: str) -> AsyncIterator[tuple[Container, Client]]:
    """One app process: its own engine, Redis connection, clock and ids."""
    engine = create_engine(url, pool_size=2, max_overflow=2)
    redis = create_redis_client(SHARED_REDIS_URL)
    shop = in_memory_container(
        settings_for_tests(admin_email=ADMIN_EMAIL, admin_password=PASSWORD, database_url=url)
    )
    shop.token_store.override(providers.Object(RedisTokenStore(redis, prefix=prefix)))
    shop.clock.override(providers.Object(SystemClock()))
    shop.ids.override(providers.Object(UuidGenerator()))
    use_sql(shop, engine)
    try:
        async with serving(create_app(shop, background_jobs=False)) as client:
            yield shop, client
    finally:
        await redis.aclose()
        await engine.dispose()


@pytest.fixture
async def two_apps(
    clean_postgres_url: str,
) -> AsyncIterator[tuple[tuple[Container, Client], tuple[Container, Client]]]:
    async with (
        shared_redis() as (_, prefix),
        app_process(clean_postgres_url, prefix) as first,
        app_process(clean_postgres_url, prefix) as second,
    ):
        yield first, second


async def test_a_password_reset_in_one_process_ends_the_tokens_another_issued(
    two_apps: tuple[tuple[Container, Client], tuple[Container, Client]],
) -> None:
    (_, one), (shop_two, two) = two_apps
    ann = await register(one, "ann@example.com")
    assert (await two.get("/users/me", headers=ann.headers)).status_code == 200

    await two.post("/auth/password-reset", json={"email": ann.email})
    token = await emailed_reset_token(shop_two, ann.email)
    confirmed = await two.post(
        "/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    after = await login(one, ann.email, "a brand new passphrase")

    assert confirmed.status_code == 204
    for process in (one, two):
        assert_problem(await process.get("/users/me", headers=ann.headers), 401)
        refresh = await process.post("/auth/refresh", json={"refresh_token": ann.refresh_token})
        assert_problem(refresh, 401)
        assert (await process.get("/users/me", headers=after.headers)).status_code == 200


@pytest.mark.parametrize(
    "change", [{"role": "staff"}, {"is_active": False}], ids=["role-change", "deactivation"]
)
async def test_an_admins_change_in_one_process_ends_the_tokens_another_issued(
    two_apps: tuple[tuple[Container, Client], tuple[Container, Client]],
    change: dict[str, Any],
) -> None:
    (_, one), (_, two) = two_apps
    admin = await login(two, ADMIN_EMAIL)
    ann = await register(one, "ann@example.com")

    changed = await two.patch(f"/users/{ann.id}", json=change, headers=admin.headers)

    assert changed.status_code == 200
    assert_problem(await one.get("/users/me", headers=ann.headers), 401)
    assert_problem(await one.post("/auth/refresh", json={"refresh_token": ann.refresh_token}), 401)


async def test_an_api_key_stops_in_every_process_once_its_creator_loses_admin_rights(
    two_apps: tuple[tuple[Container, Client], tuple[Container, Client]],
) -> None:
    (_, one), (_, two) = two_apps
    root = await login(one, ADMIN_EMAIL)
    zoe = await promote(one, root, await register(one, "zoe@example.com"), "admin")
    key = await issue_api_key(one, zoe, "orders:read")
    assert (await two.get("/orders", headers=key)).status_code == 200

    await one.patch(f"/users/{zoe.id}", json={"role": "customer"}, headers=root.headers)
    demoted = [await process.get("/orders", headers=key) for process in (one, two)]
    await one.patch(f"/users/{zoe.id}", json={"is_active": False}, headers=root.headers)
    deactivated = [await process.get("/orders", headers=key) for process in (one, two)]

    for response in demoted:
        assert_problem(response, 403)
    for response in deactivated:
        assert_problem(response, 401)
