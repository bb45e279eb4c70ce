"""HEXMART_DATABASE_REPLICA_URL against a real streaming replica: a private primary
(initdb + pg_ctl) and a standby made from it with pg_basebackup. Replay on the standby is
paused to make lag certain: catalog listings (read from the replica) miss what the primary
has, while everything in a customer's own flow (cart, checkout, the order page, the
payment) reads the primary, so lag never shows anyone a stale copy of their own order."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.sql.migrate import upgrade_to_head
from entrypoints.container import Container, stop_services
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Client,
    an_address,
    create_product,
    login,
    pay,
    promote,
    put_in_cart,
    register,
    serving,
)
from tests.polling import eventually
from tests.real_services import PrivatePostgres, free_port
from tests.sql_fixtures import postgres_dsn

pytestmark = [pytest.mark.integration, pytest.mark.fault]

CATCH_UP_SECONDS = 60.0


class StreamingReplica(PrivatePostgres):
    """A hot standby of `primary`, copied with pg_basebackup (-R: it follows the primary)."""

    def __init__(self, primary: PrivatePostgres) -> None:
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.folder = Path(tempfile.mkdtemp(prefix="hexmart-pg-replica-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream", "--no-sync",
        )  # fmt: skip


@pytest.fixture(scope="module")
def replication() -> Iterator[tuple[PrivatePostgres, StreamingReplica]]:
    primary = PrivatePostgres()
    replica: StreamingReplica | None = None
    try:
        primary.start()
        upgrade_to_head(primary.url)
        replica = StreamingReplica(primary)
        replica.start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.close()
        primary.close()


def on_replica(replica: StreamingReplica, query: str) -> None:
    with psycopg.connect(postgres_dsn(replica.url), autocommit=True) as connection:
        connection.execute(query)


@pytest.fixture
async def shop(
    replication: tuple[PrivatePostgres, StreamingReplica],
) -> AsyncIterator[Container]:
    primary, replica = replication
    settings = settings_for_tests(
        database_url=primary.url,
        database_replica_url=replica.url,
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        catalog_cache_ttl_seconds=0,
    )
    container = in_memory_container(settings)
    # The real database wiring: the primary engine, and the replica for listings.
    container.unit_of_work.reset_override()
    # Real ids: the database outlives each test's container.
    container.ids.reset_override()
    yield container
    on_replica(replica, "SELECT pg_wal_replay_resume()")
    await stop_services(container)


async def listed(client: Client) -> set[str]:
    response = await client.get("/products")
    assert response.status_code == 200, response.text
    return {product["id"] for product in response.json()["items"]}


async def until_listed(client: Client, product_id: str) -> None:
    await eventually(
        lambda: listed(client),
        lambda ids: product_id in ids,
        within=CATCH_UP_SECONDS,
        message="the replica never caught up",
    )


async def test_listings_read_the_replica_and_a_customers_own_flow_the_primary(
    shop: Container, replication: tuple[PrivatePostgres, StreamingReplica]
) -> None:
    _, replica = replication
    async with serving(create_app(shop, background_jobs=False)) as client:
        admin = await login(client, ADMIN_EMAIL)
        staff = await promote(client, admin, await register(client, "sam@example.com"), "staff")
        mug = await create_product(client, staff, name="Mug", inventory_count=10)
        await until_listed(client, mug["id"])

        ready = await client.get("/health/ready")
        assert ready.json()["checks"] == {
            "database": "ok",
            "database_replica": "ok",
            "outbox": "ok",
        }

        # From here the replica lags: it replays nothing.
        on_replica(replica, "SELECT pg_wal_replay_pause()")
        lamp = await create_product(client, staff, name="Lamp", inventory_count=3)
        assert lamp["id"] not in await listed(client)  # the listing comes from the replica
        assert (await client.get(f"/products/{lamp['id']}")).status_code == 200  # primary

        ann = await register(client, "ann@example.com")
        await put_in_cart(client, ann, lamp["id"], 2)
        cart = await client.get("/cart", headers=ann.headers)
        assert [line["product_id"] for line in cart.json()["items"]] == [lamp["id"]]
        placed = await client.post(
            "/orders",
            json={"shipping_address": an_address()},
            headers={**ann.headers, "Idempotency-Key": "replica-1"},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order"]["id"]
        page = await client.get(f"/orders/{order_id}", headers=ann.headers)
        assert page.status_code == 200
        assert page.json()["status"] == "pending"
        assert order_id in {
            o["id"] for o in (await client.get("/orders", headers=ann.headers)).json()["items"]
        }
        await pay(shop, order_id)
        paid = await client.get(f"/orders/{order_id}", headers=ann.headers)
        assert paid.json()["status"] == "paid"
        assert (await client.get(f"/products/{lamp['id']}")).json()["inventory_count"] == 1

        # Still lagging: the listing has not seen the lamp at all.
        assert lamp["id"] not in await listed(client)
        on_replica(replica, "SELECT pg_wal_replay_resume()")
        await until_listed(client, lamp["id"])


async def test_a_replica_down_degrades_readiness_without_failing_it(
    shop: Container, replication: tuple[PrivatePostgres, StreamingReplica]
) -> None:
    _, replica = replication
    async with serving(create_app(shop, background_jobs=False)) as client:
        replica.stop()
        try:
            ready = await client.get("/health/ready")
            listing = await client.get("/products")
            registered = await client.post(
                "/auth/register",
                json={"email": "cy@example.com", "password": PASSWORD, "full_name": "Cy"},
            )
        finally:
            replica.start()
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "database_replica": "failed", "outbox": "ok"},
    }
    assert listing.status_code == 503  # listings need the replica
    assert registered.status_code == 201, registered.text  # everything else goes on


def test_the_banner_names_the_replica_without_its_password() -> None:
    settings = settings_for_tests(
        database_url="postgresql+psycopg://hexmart:secret@primary/hexmart",
        database_replica_url="postgresql+psycopg://hexmart:secret@replica/hexmart",
    )
    adapters = settings.describe_adapters()
    assert adapters["database replica (catalog listings)"] == (
        "postgresql+psycopg://hexmart:***@replica/hexmart"
    )
