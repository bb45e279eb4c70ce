"""Refresh tokens kept in Redis: a revoked one is refused, by every app process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dependency_injector import providers

from adapters.redis_store.client import create_redis_client
from adapters.redis_store.token_store import RedisTokenStore
from domain.errors import InvalidToken
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from tests.application.shopping import PASSWORD, emailed_reset_token
from tests.real_services import SHARED_REDIS_URL, shared_redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with shared_redis() as (_, prefix):
        yield prefix


@pytest.fixture
async def app_processes(prefix: str) -> AsyncIterator[tuple[Container, Container]]:
    """Two app processes: one database, one Redis, a Redis connection each."""
    first, second = in_memory_container(), in_memory_container()
    second.unit_of_work.override(providers.Object(first.unit_of_work()))
    second.clock.override(providers.Object(first.clock()))
    clients = [create_redis_client(SHARED_REDIS_URL) for _ in range(2)]
    for app, client in zip((first, second), clients, strict=True):
        app.token_store.override(providers.Object(RedisTokenStore(client, prefix=prefix)))
    yield first, second
    for client in clients:
        await client.aclose()


async def test_a_refresh_token_revoked_at_logout_is_refused_everywhere(
    app_processes: tuple[Container, Container],
) -> None:
    first, second = app_processes
    tokens = await first.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann Archer"
    )
    ann = await first.authentication().authenticate_access_token(tokens.access_token)

    await first.authentication().logout(ann, tokens.refresh_token)

    for app in (first, second):
        with pytest.raises(InvalidToken):
            await app.authentication().refresh(tokens.refresh_token)


async def test_a_password_reset_revokes_every_session_of_the_user(
    app_processes: tuple[Container, Container],
) -> None:
    first, second = app_processes
    auth = first.authentication()
    await auth.register(email="ann@example.com", password=PASSWORD, full_name="Ann Archer")
    laptop = await auth.login(email="ann@example.com", password=PASSWORD)
    phone = await second.authentication().login(email="ann@example.com", password=PASSWORD)

    await second.authentication().request_password_reset("ann@example.com")
    token = await emailed_reset_token(second, "ann@example.com")
    await auth.confirm_password_reset(token=token, new_password="a new pass 123")

    for session in (laptop, phone):
        with pytest.raises(InvalidToken):
            await second.authentication().refresh(session.refresh_token)


async def test_a_spent_refresh_token_replayed_at_another_process_ends_the_session(
    app_processes: tuple[Container, Container],
) -> None:
    first, second = app_processes
    stolen = await first.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann Archer"
    )
    rotated = await first.authentication().refresh(stolen.refresh_token)

    with pytest.raises(InvalidToken, match="already used"):
        await second.authentication().refresh(stolen.refresh_token)
    with pytest.raises(InvalidToken):
        await first.authentication().refresh(rotated.refresh_token)
