"""GET /ws/orders/{id}: the order's owner, staff and admins see each status change live,
also one made in another process (through Redis); anyone else is refused with a close
code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar

from adapters.inprocess.rate_limiter import InMemoryRateLimiter
from adapters.redis_store.client import create_redis_client
from adapters.redis_store.order_updates import RedisOrderUpdates
from adapters.sql.engine import create_engine
from adapters.sql.local_payment_gateway import SqlLocalPaymentGateway
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import OrderUpdate
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import container_for_tests, in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    Client,
    create_product,
    login,
    pay,
    place_order,
    register,
    serving,
)
from tests.entrypoints.http.websocket_client import WebSocketSession
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    WorkerProcess,
    until_worker_polls,
)
from tests.real_services import SHARED_REDIS_URL, free_port, shared_redis
from tests.sql_fixtures import use_sql


def watch(app: Litestar, order_id: str, token: str | None = None) -> WebSocketSession:
    return WebSocketSession(app, f"/ws/orders/{order_id}", query=f"token={token}" if token else "")


async def statuses_until(ws: WebSocketSession, wanted: str, within: float = 20.0) -> list[str]:
    """The statuses the socket shows, up to and including `wanted`."""
    deadline = time.monotonic() + within
    seen: list[str] = []
    while wanted not in seen:
        message = await ws.receive_json(within=max(0.1, deadline - time.monotonic()))
        assert set(message) == {"order_id", "status", "updated_at"}
        seen.append(message["status"])
    return seen


async def intent_of(container: Container, order_id: str) -> str:
    async with container.unit_of_work()() as uow:
        payment = await uow.payments.get_for_order(order_id)
    assert payment is not None
    assert payment.intent_id is not None
    return payment.intent_id


# --- who may watch ------------------------------------------------------------------------


@pytest.fixture
async def order(client: Client, customer: Account, mug: dict[str, Any]) -> dict[str, Any]:
    return await place_order(client, customer, mug["id"])


async def test_the_owner_sees_the_order_as_it_stands_on_connecting(
    app: Litestar, customer: Account, order: dict[str, Any]
) -> None:
    async with watch(app, order["id"], customer.access_token) as ws:
        message = await ws.receive_json()

    assert message == {
        "order_id": order["id"],
        "status": "pending",
        "updated_at": order["updated_at"],
    }


async def test_the_socket_handshake_is_never_cached(
    app: Litestar, customer: Account, order: dict[str, Any]
) -> None:
    async with watch(app, order["id"], customer.access_token) as ws:
        await ws.receive_json()

    assert ws.accept_headers["cache-control"] == "no-store"


async def test_the_token_may_come_as_the_first_message(
    app: Litestar, customer: Account, order: dict[str, Any]
) -> None:
    async with watch(app, order["id"]) as ws:
        await ws.send_text(f'{{"token": "{customer.access_token}"}}')
        message = await ws.receive_json()

    assert message["status"] == "pending"


async def test_staff_and_admins_may_watch_any_order(
    app: Litestar, staff: Account, admin: Account, order: dict[str, Any]
) -> None:
    for account in (staff, admin):
        async with watch(app, order["id"], account.access_token) as ws:
            assert (await ws.receive_json())["order_id"] == order["id"]


async def test_another_customer_is_refused_with_4403(
    app: Litestar, other_customer: Account, order: dict[str, Any]
) -> None:
    async with watch(app, order["id"], other_customer.access_token) as ws:
        closed = await ws.closed()
    async with watch(app, "no-such-order", other_customer.access_token) as ws:
        unknown = await ws.closed()

    assert closed.code == 4403
    assert unknown.code == 4403  # the same answer: whether an order exists is not told


@pytest.mark.parametrize("order_id", ["a\x00b", "x" * 65, "a.b"])
async def test_an_order_id_that_cannot_be_an_id_is_refused_with_4403(
    app: Litestar, customer: Account, order_id: str
) -> None:
    async with watch(app, order_id, customer.access_token) as ws:
        closed = await ws.closed()

    assert closed.code == 4403


@pytest.mark.parametrize("token", ["not-a-jwt", "Bearer nonsense"])
async def test_a_bad_token_is_refused_with_4401(
    app: Litestar, order: dict[str, Any], token: str
) -> None:
    async with watch(app, order["id"], token) as ws:
        closed = await ws.closed()

    assert closed.code == 4401


async def test_a_missing_token_is_refused_with_4401(app: Litestar, order: dict[str, Any]) -> None:
    async with watch(app, order["id"]) as ws:
        await ws.send_text("   ")
        closed = await ws.closed()

    assert closed.code == 4401


async def test_a_client_that_leaves_before_sending_a_token_is_let_go(
    app: Litestar, order: dict[str, Any]
) -> None:
    async with watch(app, order["id"]) as ws:
        assert ws.accepted
    # Leaving the block disconnected it; the server's handler ended without an error.


# --- updates in one process (the embedded default) ----------------------------------------


@pytest.fixture
async def embedded(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[Litestar, Client]]:
    """The embedded default, as `hexmart serve` runs it: SQLite, the in-process queue and
    relay, the local payment gateway (completing payments when told to)."""
    container = container_for_tests(
        settings_for_tests(
            database_url=sqlite_url,
            data_dir=tmp_path / "var",
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
        )
    )
    app = create_app(container)
    async with serving(app) as client:
        yield app, client


async def test_on_the_embedded_default_the_owner_sees_paid_and_shipped_live(
    embedded: tuple[Litestar, Client],
) -> None:
    app, client = embedded
    container: Container = app.state["container"]
    admin = await login(client, ADMIN_EMAIL)
    ann = await register(client, "ann@example.com")
    mug = await create_product(client, admin)
    order = await place_order(client, ann, mug["id"])

    async with watch(app, order["id"], ann.access_token) as ws:
        assert (await ws.receive_json())["status"] == "pending"
        gateway = container.payment_gateway()
        assert isinstance(gateway, SqlLocalPaymentGateway)
        await gateway.complete(await intent_of(container, order["id"]))
        paid = await statuses_until(ws, "paid")
        shipped = await client.post(f"/orders/{order['id']}/ship", json={}, headers=admin.headers)
        assert shipped.status_code == 200, shipped.text
        after = await statuses_until(ws, "shipped")

    assert paid == ["paid"]
    assert after == ["shipped"]


# --- updates from another process, through Redis ------------------------------------------


@pytest.mark.integration
@pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL)
async def test_a_socket_sees_paid_when_a_worker_in_another_process_handles_the_event(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The app (this process) commits the payment; only the worker process relays and
    handles the order's events, so `paid` can reach the socket only through Redis."""
    engine = create_engine(sqlite_url)
    shop = in_memory_container(settings_for_tests(admin_email=ADMIN_EMAIL, admin_password=PASSWORD))
    use_sql(shop, engine)
    redis = create_redis_client(SHARED_REDIS_URL)
    shop.order_updates.override(providers.Object(RedisOrderUpdates(redis)))
    app = create_app(shop, background_jobs=False)
    async with shared_redis() as (queue_redis, prefix), serving(app) as client:
        admin = await login(client, ADMIN_EMAIL)
        ann = await register(client, "ann@example.com")
        mug = await create_product(client, admin)
        order = await place_order(client, ann, mug["id"])
        worker = WorkerProcess(
            tmp_path,
            Queue(queue_redis, prefix),
            {"HEXMART_DATABASE_URL": sqlite_url},
            relay_every_seconds=1,
        )
        try:
            await until_worker_polls(Queue(queue_redis, prefix))
            async with watch(app, order["id"], ann.access_token) as ws:
                assert (await ws.receive_json())["status"] == "pending"
                await pay(shop, order["id"])
                seen = await statuses_until(ws, "paid", within=90.0)
        finally:
            stopped = worker.terminate()  # a failure above is the one reported
    assert stopped == 0, worker.log
    await shop.order_updates().aclose()
    await redis.aclose()
    await engine.dispose()

    assert seen == ["paid"]
    assert "order_paid" not in [job.payload["name"] for job in shop.task_queue().jobs]


@pytest.mark.integration
async def test_with_redis_down_a_socket_is_closed_with_try_again_later(
    app: Litestar, container: Container, customer: Account, order: dict[str, Any]
) -> None:
    nobody_listens = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    container.order_updates.override(providers.Object(RedisOrderUpdates(nobody_listens)))
    try:
        async with watch(app, order["id"], customer.access_token) as ws:
            closed = await ws.closed()
    finally:
        await nobody_listens.aclose()

    assert closed.code == 1013


class _OrdersWithTheDatabaseDown:
    async def get_order(self, *_: object) -> None:
        raise ServiceUnavailable("the database does not answer")


async def test_with_the_database_down_a_socket_is_closed_with_try_again_later(
    app: Litestar, container: Container, customer: Account, order: dict[str, Any]
) -> None:
    container.orders.override(providers.Object(_OrdersWithTheDatabaseDown()))
    async with watch(app, order["id"], customer.access_token) as ws:
        closed = await ws.closed()

    assert closed.code == 1013


# --- an open socket keeps checking who watches, and connecting is rate limited -------------


def with_settings(container: Container, **changes: Any) -> None:
    container.settings.override(providers.Object(container.settings().replace(**changes)))


async def test_a_user_deactivated_while_watching_is_disconnected_with_4401(
    container: Container,
    client: Client,
    admin: Account,
    customer: Account,
    order: dict[str, Any],
) -> None:
    with_settings(container, live_updates_recheck_seconds=1)
    app = create_app(container)
    async with watch(app, order["id"], customer.access_token) as ws:
        assert (await ws.receive_json())["status"] == "pending"
        response = await client.patch(
            f"/users/{customer.id}", json={"is_active": False}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        closed = await ws.closed(within=10)

    assert closed.code == 4401


async def test_a_socket_whose_access_token_expires_is_disconnected_with_4401(
    container: Container, customer: Account, order: dict[str, Any]
) -> None:
    with_settings(container, live_updates_recheck_seconds=1)
    app = create_app(container)
    async with watch(app, order["id"], customer.access_token) as ws:
        assert (await ws.receive_json())["status"] == "pending"
        container.clock().advance(container.settings().auth.access_token_ttl_seconds + 60)
        closed = await ws.closed(within=10)

    assert closed.code == 4401


async def test_staff_demoted_while_watching_is_disconnected_with_4401(
    container: Container,
    client: Client,
    admin: Account,
    staff: Account,
    order: dict[str, Any],
) -> None:
    with_settings(container, live_updates_recheck_seconds=1)
    app = create_app(container)
    async with watch(app, order["id"], staff.access_token) as ws:
        assert (await ws.receive_json())["status"] == "pending"
        response = await client.patch(
            f"/users/{staff.id}", json={"role": "customer"}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        closed = await ws.closed(within=10)

    # A role change ends every token issued before it, the socket's included.
    assert closed.code == 4401


class _CountedOrders:
    """The shop's orders, counting the reads made after `count_from_now`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.counted = 0
        self.counting = False
        self.read_twice = asyncio.Event()

    def count_from_now(self) -> None:
        self.counting = True

    async def get_order(self, *args: Any) -> Any:
        if self.counting:
            self.counted += 1
            if self.counted >= 2:
                self.read_twice.set()
        return await self.inner.get_order(*args)


async def test_a_watcher_still_allowed_stays_connected_across_rechecks(
    container: Container, customer: Account, order: dict[str, Any]
) -> None:
    with_settings(container, live_updates_recheck_seconds=1)
    orders = _CountedOrders(container.orders())
    container.orders.override(providers.Object(orders))
    app = create_app(container)
    async with watch(app, order["id"], customer.access_token) as ws:
        first = await ws.receive_json()
        orders.count_from_now()
        await asyncio.wait_for(orders.read_twice.wait(), 10)  # two rechecks passed
        later = datetime.fromisoformat(first["updated_at"]) + timedelta(seconds=1)
        await container.order_updates().publish(
            OrderUpdate(order_id=order["id"], status="cancelled", updated_at=later)
        )
        assert await statuses_until(ws, "cancelled") == ["cancelled"]


async def test_connections_over_the_general_rate_limit_are_closed_with_4429(
    container: Container, customer: Account, order: dict[str, Any]
) -> None:
    with_settings(container, rate_limit_general_per_client=2)
    # A limiter of its own: the requests that set up the order are forgotten.
    container.rate_limiter.override(providers.Object(InMemoryRateLimiter(container.clock())))
    app = create_app(container)
    for _ in range(2):
        async with watch(app, order["id"], customer.access_token) as ws:
            assert (await ws.receive_json())["order_id"] == order["id"]
    async with watch(app, order["id"], customer.access_token) as ws:
        closed = await ws.closed()

    assert closed.code == 4429
    assert "try again in" in closed.reason


class _OrdersDownAfterConnecting:
    """The shop's orders until `go_down`; then the database does not answer, and every
    refused call is counted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.refused = 0
        self.refused_twice = asyncio.Event()

    async def get_order(self, *args: Any) -> Any:
        if not self.down:
            return await self.inner.get_order(*args)
        self.refused += 1
        if self.refused >= 2:
            self.refused_twice.set()
        raise ServiceUnavailable("the database does not answer")


async def test_a_database_outage_during_rechecks_keeps_the_socket_open(
    container: Container, customer: Account, order: dict[str, Any]
) -> None:
    with_settings(container, live_updates_recheck_seconds=1)
    orders = _OrdersDownAfterConnecting(container.orders())
    container.orders.override(providers.Object(orders))
    app = create_app(container)
    async with watch(app, order["id"], customer.access_token) as ws:
        first = await ws.receive_json()
        orders.down = True
        await asyncio.wait_for(orders.refused_twice.wait(), 10)  # two rechecks failed
        orders.down = False
        later = datetime.fromisoformat(first["updated_at"]) + timedelta(seconds=1)
        await container.order_updates().publish(
            OrderUpdate(order_id=order["id"], status="cancelled", updated_at=later)
        )
        assert await statuses_until(ws, "cancelled") == ["cancelled"]


class _AuthenticationDown:
    async def authenticate_access_token(self, token: str) -> Any:
        raise ServiceUnavailable("the database does not answer")


async def test_an_outage_while_counting_a_signed_in_connection_closes_it_with_1013(
    app: Litestar, container: Container, customer: Account, order: dict[str, Any]
) -> None:
    container.authentication.override(providers.Object(_AuthenticationDown()))
    headers = ((b"authorization", f"Bearer {customer.access_token}".encode()),)
    session = WebSocketSession(app, f"/ws/orders/{order['id']}", headers=headers)
    async with session as ws:
        closed = await ws.closed()

    assert closed.code == 1013
