"""PostgreSQL stopped and started again under load: every route that needs the database
answers 503 problem+json with `Retry-After` while it is down (never a 500, and no request
waits longer than the pool timeout), readiness names `database`, and the shop serves
again by itself once the server is back. Uses a PostgreSQL cluster of the test's own."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from httpx import Response

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade_to_head
from entrypoints.http.app import create_app
from entrypoints.http.errors import PROBLEM_JSON
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    Client,
    create_product,
    login,
    put_in_cart,
    register,
    serving,
)
from tests.polling import eventually
from tests.real_services import PrivatePostgres
from tests.sql_fixtures import use_sql

pytestmark = [pytest.mark.integration, pytest.mark.fault]

POOL_TIMEOUT_SECONDS = 2.0
# What a request may take beyond the pool timeout (the event loop is shared with the load).
SLACK_SECONDS = 2.0
CACHED = {"GET /products", "GET /products/{id}"}


@pytest.fixture
def private_postgres() -> AsyncIterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        upgrade_to_head(server.url)
        yield server
    finally:
        server.close()


@dataclass
class Answer:
    phase: str
    route: str
    status: int
    content_type: str
    retry_after: str | None
    seconds: float


def _routes(
    client: Client, ann: Account, product_id: str
) -> list[tuple[str, Callable[[], Awaitable[Response]]]]:
    emails = itertools.count()
    return [
        ("GET /products", lambda: client.get("/products")),
        ("GET /products/{id}", lambda: client.get(f"/products/{product_id}")),
        ("GET /cart", lambda: client.get("/cart", headers=ann.headers)),
        ("GET /orders", lambda: client.get("/orders", headers=ann.headers)),
        (
            "POST /auth/login",
            lambda: client.post("/auth/login", json={"email": ann.email, "password": PASSWORD}),
        ),
        (
            "POST /auth/register",
            lambda: client.post(
                "/auth/register",
                json={
                    "email": f"new{next(emails)}@example.com",
                    "password": PASSWORD,
                    "full_name": "New Shopper",
                },
            ),
        ),
    ]


async def test_a_database_outage_is_503_everywhere_and_service_resumes_by_itself(
    private_postgres: PrivatePostgres,
) -> None:
    engine = create_engine(
        private_postgres.url, pool_size=4, max_overflow=0, pool_timeout=POOL_TIMEOUT_SECONDS
    )
    shop = in_memory_container(
        settings_for_tests(
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            database_url=private_postgres.url,
            # The load signs in and up far more often than a person would.
            rate_limit_login_per_ip=0,
            rate_limit_login_per_account=0,
            rate_limit_register_per_ip=0,
            rate_limit_general_per_client=0,
        )
    )
    use_sql(shop, engine)
    phase = "up"
    answers: list[Answer] = []
    try:
        async with serving(create_app(shop)) as client:
            admin = await login(client, ADMIN_EMAIL)
            product = await create_product(client, admin)
            ann = await register(client, "ann@example.com", "Ann Archer")
            await put_in_cart(client, ann, product["id"], 1)
            routes = _routes(client, ann, product["id"])

            async def load(offset: int) -> None:
                for route, call in itertools.islice(itertools.cycle(routes), offset, None):
                    if phase == "over":
                        return
                    started, asked_in = time.monotonic(), phase
                    response = await call()
                    answers.append(
                        Answer(
                            asked_in if asked_in == phase else "transition",
                            route,
                            response.status_code,
                            response.headers.get("content-type", ""),
                            response.headers.get("retry-after"),
                            time.monotonic() - started,
                        )
                    )
                    await asyncio.sleep(0.01)

            def answered(in_phase: str) -> set[str]:
                return {a.route for a in answers if a.phase == in_phase}

            everything = {route for route, _ in routes}
            clients = [asyncio.create_task(load(offset)) for offset in range(4)]
            await eventually(lambda: asyncio.sleep(0, len(answers)), lambda n: n >= 12)

            phase = "stopping"
            await asyncio.to_thread(private_postgres.stop)
            phase = "down"
            await eventually(lambda: asyncio.sleep(0, answered("down")), lambda n: n == everything)
            ready = await client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "failed"

            phase = "starting"
            await asyncio.to_thread(private_postgres.start)
            phase = "back"
            await eventually(lambda: client.get("/health/ready"), lambda r: r.status_code == 200)
            await eventually(lambda: asyncio.sleep(0, answered("back")), lambda n: n == everything)
            phase = "over"
            await asyncio.gather(*clients)
    finally:
        await engine.dispose()

    assert [a for a in answers if a.status >= 500 and a.status != 503] == []
    assert [a for a in answers if a.seconds > POOL_TIMEOUT_SECONDS + SLACK_SECONDS] == []
    while_down = [a for a in answers if a.phase == "down"]
    assert {a.route for a in while_down} == {route for route, _ in routes}
    # The catalog cache may still answer a listing or a product it holds.
    assert [a for a in while_down if a.status != 503 and a.route not in CACHED] == []
    assert [a for a in while_down if a.status not in (200, 503)] == []
    unavailable = [a for a in while_down if a.status == 503]
    assert {(a.content_type, a.retry_after) for a in unavailable} == {(PROBLEM_JSON, "5")}
    after = [a for a in answers if a.phase == "back"]
    assert [a for a in after if a.status >= 500] == []
    assert {a.route for a in after} == {route for route, _ in routes}
