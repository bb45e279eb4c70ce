"""No stored trace of a password reset can reset a password: a dump of the database (the
outbox included), of everything the shop keeps in Redis (the job queue, the token store)
and of the logs of a failing email job holds no usable token; only the email does."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from dependency_injector import providers
from redis.asyncio import Redis
from sqlalchemy import select

from adapters.arq_queue.serialization import deserialize
from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.redis_store.token_store import RedisTokenStore
from adapters.sql.engine import create_engine
from adapters.sql.tables import include_in_schema, metadata
from application.ports.errors import ServiceUnavailable
from entrypoints import worker
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.application.shopping import mailer, reset_token_in
from tests.entrypoints.http.shop_api import register, serving
from tests.real_services import SHARED_REDIS_URL, shared_redis

pytestmark = pytest.mark.integration

NEW_PASSWORD = "an attacker's passphrase"
# Anything long enough to be a token: reset tokens are 43 URL-safe characters; digests,
# ids and job ids are caught too and must all fail.
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_%-]{20,}")


@dataclass
class RedisShop:
    container: Container
    redis: Redis
    prefix: str


@pytest.fixture
async def shop(container: Container) -> AsyncIterator[RedisShop]:
    """The shop on SQLite or PostgreSQL whose token store and job queue are in Redis, as
    in production."""
    async with shared_redis() as (redis, prefix):
        queue_redis = create_arq_redis(SHARED_REDIS_URL, queue_name=f"{prefix}queue")
        queue = ArqTaskQueue(queue_redis, queue_name=f"{prefix}queue", job_id_prefix=prefix)
        container.task_queue.override(providers.Object(queue))
        container.token_store.override(providers.Object(RedisTokenStore(redis, prefix=prefix)))
        try:
            yield RedisShop(container, redis, prefix)
        finally:
            await queue_redis.aclose()


async def database_dump(container: Container) -> str:
    engine = create_engine(container.settings().database.url)
    try:
        async with engine.connect() as connection:
            rows = [
                str(row)
                for table in metadata.sorted_tables
                if include_in_schema(table, engine.dialect.name)
                for row in await connection.execute(select(table))
            ]
    finally:
        await engine.dispose()
    return "\n".join(rows)


async def redis_dump(redis: Redis, prefix: str) -> str:
    lines: list[str] = []
    async for key in redis.scan_iter(match=f"*{prefix}*"):
        kind = (await redis.type(key)).decode()
        value: object
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = await redis.smembers(key)
        else:
            value = await redis.lrange(key, 0, -1)
        lines.append(f"{key!r} {kind} {value!r}")
    return "\n".join(lines)


async def queued_reset_job(redis: Redis, prefix: str) -> dict[str, object]:
    """The payload of the password-reset job waiting in the arq queue."""
    async for key in redis.scan_iter(match=f"arq:job:{prefix}*"):
        raw = await redis.get(key)
        assert raw is not None
        payload: dict[str, object] = deserialize(raw)["a"][0]
        if payload["name"] == "password_reset_requested":
            return payload
    raise AssertionError("no password reset job in the queue")


async def test_no_dump_of_the_database_redis_or_logs_resets_a_password(
    shop: RedisShop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    container = shop.container
    async with serving(create_app(container, background_jobs=False)) as client:
        ann = await register(client, "ann@example.com", "Ann Archer")
        asked = await client.post("/auth/password-reset", json={"email": ann.email})
        assert asked.status_code == 202
        await container.outbox_relay().relay_all()
        job = await queued_reset_job(shop.redis, shop.prefix)
        # The mail server stays down until the job's last try: the worker logs the
        # payload of a job it gives up on.
        mailer(container).go_down()
        with pytest.raises(ServiceUnavailable):
            await worker.handle_event({"container": container, "job_try": worker.MAX_TRIES}, job)
        assert "giving up on event" in caplog.text

        dumps = "\n".join(
            [
                await database_dump(container),
                await redis_dump(shop.redis, shop.prefix),
                caplog.text,
            ]
        )
        candidates = set(TOKEN_LIKE.findall(dumps))
        assert len(candidates) > 5, dumps
        for candidate in sorted(candidates):
            tried = await client.post(
                "/auth/password-reset/confirm",
                json={"token": candidate, "new_password": NEW_PASSWORD},
            )
            assert tried.status_code == 401, f"{candidate!r} from a dump reset the password"

        # The email, once the mail server is back, carries a token that works.
        mailer(container).come_back()
        assert await worker.handle_event({"container": container, "job_try": 1}, job) is True
        [email] = [m for m in mailer(container).sent if "Reset" in m.subject]
        token = reset_token_in(email)
        assert token not in dumps
        assert token not in await redis_dump(shop.redis, shop.prefix)
        reset = await client.post(
            "/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert reset.status_code == 204, reset.text
        signed_in = await client.post(
            "/auth/login", json={"email": ann.email, "password": NEW_PASSWORD}
        )
        assert signed_in.status_code == 200
