"""Two `hexmart serve` processes on one PostgreSQL database behind a round-robin client
(what a load balancer does), paying through the local gateway. One is SIGKILLed while
orders pour in, each with its Idempotency-Key and retried on the other process when its
answer is lost: no order is left pending (the dead process's payments are completed and
delivered by the survivor), none is placed twice, and each key still names its order.
Before that, with both up, refunds and cancels work whichever process answers."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from entrypoints.testing import TEST_JWT_SECRET
from tests.entrypoints.http.live_server import PROJECT_ROOT, free_port
from tests.polling import eventually, eventually_sync
from tests.sql_fixtures import postgres_dsn

pytestmark = [pytest.mark.integration, pytest.mark.fault]

ADMIN_EMAIL = "root@example.com"
PASSWORD = "correct horse battery"
SHOPPERS = 4
ORDERS_BEFORE_THE_KILL = 16
ORDERS_AFTER_THE_KILL = 12
# Long enough that the killed process has payments under way when it dies.
COMPLETION_SECONDS = 2.0
START_SECONDS = 120.0  # a cold start on a saturated machine; returns as soon as it serves
SETTLE_SECONDS = 60.0  # a poll: returns as soon as its condition holds


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def start_server(workdir: Path, database_url: str, name: str) -> Server:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEXMART_")}
    env.update(
        {
            "HEXMART_DATABASE_URL": database_url,
            "HEXMART_DATA_DIR": str(workdir / name),
            "HEXMART_JWT_SECRET": TEST_JWT_SECRET,
            "HEXMART_ADMIN_EMAIL": ADMIN_EMAIL,
            "HEXMART_ADMIN_PASSWORD": PASSWORD,
            "HEXMART_LOCAL_PAYMENTS_COMPLETION_SECONDS": str(COMPLETION_SECONDS),
            "HEXMART_RATE_LIMIT_GENERAL_PER_CLIENT": "0",
            "HEXMART_RATE_LIMIT_LOGIN_PER_IP": "0",
            "HEXMART_RATE_LIMIT_REGISTER_PER_IP": "0",
            "HEXMART_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    log = workdir / f"{name}.log"
    command = [sys.executable, "-m", "entrypoints.testing", "serve", "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


def wait_until_ready(server: Server) -> None:
    def ready() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"hexmart serve exited:\n{server.log.read_text()}")
        return httpx.get(f"{server.url}/health/ready", timeout=1.0).status_code == 200

    eventually_sync(
        ready,
        within=START_SECONDS,
        interval=0.1,
        ignoring=(httpx.TransportError,),
        message=lambda: f"hexmart serve did not start:\n{server.log.read_text()}",
    )


@pytest.fixture
def servers(clean_postgres_url: str, tmp_path: Path) -> Iterator[list[Server]]:
    with ExitStack() as stack:
        started = []
        for name in ("first", "second"):
            server = start_server(tmp_path, clean_postgres_url, name)
            stack.callback(_stop, server)
            started.append(server)
        for server in started:
            wait_until_ready(server)
        yield started


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@dataclass
class Balancer:
    """Sends each request to the next server in turn; a request whose answer is lost (a
    dead process) is sent again, unchanged, to the next one."""

    client: httpx.AsyncClient
    urls: list[str]
    turns: Iterator[int] = field(default_factory=itertools.count)
    answered_by: dict[str, str] = field(default_factory=dict)

    async def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            url = self.urls[next(self.turns) % len(self.urls)]
            try:
                response = await self.client.request(method, f"{url}{path}", **options)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                continue
            if response.status_code < 500 or time.monotonic() > deadline:
                response.extensions["server"] = url
                return response


@dataclass
class Shopper:
    headers: dict[str, str]
    placed: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order id
    answered_by: dict[str, str] = field(default_factory=dict)  # order id -> server URL


async def sign_in(balancer: Balancer, email: str) -> dict[str, str]:
    response = await balancer.send(
        "POST", "/auth/register", json={"email": email, "password": PASSWORD, "full_name": "S"}
    )
    if response.status_code == 409:  # the first try went in; its answer was lost
        response = await balancer.send(
            "POST", "/auth/login", json={"email": email, "password": PASSWORD}
        )
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def place_order(
    balancer: Balancer, shopper: Shopper, product_id: str, key: str
) -> dict[str, Any]:
    while True:
        filled = await balancer.send(
            "PUT", f"/cart/items/{product_id}", json={"quantity": 1}, headers=shopper.headers
        )
        assert filled.status_code == 200, filled.text
        response = await balancer.send(
            "POST",
            "/orders",
            json={"shipping_address": ADDRESS},
            headers={**shopper.headers, "Idempotency-Key": key},
        )
        if response.status_code == 201:
            body: dict[str, Any] = response.json()
            order_id = body["order"]["id"]
            shopper.placed[key] = order_id
            shopper.answered_by[order_id] = response.extensions["server"]
            return body
        # A 5xx past the deadline is an error; anything else is a bug in the test.
        raise AssertionError(f"{response.status_code}: {response.text}")


ADDRESS = {
    "name": "Ann Archer",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def order_statuses(database_url: str) -> dict[str, str]:
    with psycopg.connect(postgres_dsn(database_url)) as connection:
        return dict(connection.execute("SELECT id, status FROM orders").fetchall())


def pending_intents_of(database_url: str, order_ids: list[str]) -> list[str]:
    with psycopg.connect(postgres_dsn(database_url)) as connection:
        rows = connection.execute(
            "SELECT order_id FROM local_payment_intents "
            "WHERE outcome = 'pending' AND order_id = ANY(%s)",
            (order_ids,),
        ).fetchall()
    return [order_id for (order_id,) in rows]


async def until_paid(balancer: Balancer, headers: dict[str, str], order_id: str) -> None:
    async def order() -> Any:
        return (await balancer.send("GET", f"/orders/{order_id}", headers=headers)).json()

    await eventually(
        order, lambda body: body["status"] == "paid", within=SETTLE_SECONDS, interval=0.1
    )


async def test_a_process_killed_under_load_strands_no_order_and_doubles_none(
    servers: list[Server], clean_postgres_url: str
) -> None:
    first, second = servers
    async with httpx.AsyncClient(timeout=10.0) as client:
        both = Balancer(client, [first.url, second.url])
        admin = await balancer_login(both)
        product = await both.send(
            "POST",
            "/products",
            json={
                "name": "Mug",
                "description": "A sturdy mug",
                "price": {"amount": 1200, "currency": "USD"},
                "inventory_count": 10_000,
                "category": "kitchen",
            },
            headers=admin,
        )
        assert product.status_code == 201, product.text
        mug = product.json()["id"]

        # With both up, a paid order is refunded and another cancelled on each process.
        ann = Shopper(await sign_in(both, "ann@example.com"))
        for server in (first, second):
            only = Balancer(client, [server.url])
            other = Balancer(client, [(second if server is first else first).url])
            refunded = (await place_order(only, ann, mug, f"refund-{server.url}"))["order"]
            cancelled = (await place_order(only, ann, mug, f"cancel-{server.url}"))["order"]
            await until_paid(only, ann.headers, refunded["id"])
            await until_paid(only, ann.headers, cancelled["id"])
            refund = await other.send(
                "POST", f"/orders/{refunded['id']}/refunds", json={}, headers=admin
            )
            assert refund.status_code == 201, refund.text
            cancel = await other.send(
                "POST", f"/orders/{cancelled['id']}/cancel", json={}, headers=ann.headers
            )
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["refunded_amount"]["amount"] == 1200

        # Orders pour in; one process dies half-way.
        shoppers = [
            Shopper(await sign_in(both, f"shopper{n}@example.com")) for n in range(SHOPPERS)
        ]
        half_way, enough, killed = asyncio.Event(), asyncio.Event(), asyncio.Event()

        def placed() -> int:
            return sum(len(shopper.placed) for shopper in shoppers)

        async def shop(shopper: Shopper, name: str) -> None:
            for n in itertools.count():
                if enough.is_set():
                    return
                await place_order(both, shopper, mug, f"{name}-{n}")
                if placed() >= ORDERS_BEFORE_THE_KILL:
                    half_way.set()
                if killed.is_set() and placed() >= ORDERS_BEFORE_THE_KILL + ORDERS_AFTER_THE_KILL:
                    enough.set()

        async def kill_half_way() -> None:
            await half_way.wait()
            first.kill()
            killed.set()

        async def watch_the_kill() -> list[str]:
            await killed.wait()
            by_the_dead = [
                order_id
                for shopper in shoppers
                for order_id, url in shopper.answered_by.items()
                if url == first.url
            ]
            return await asyncio.to_thread(pending_intents_of, clean_postgres_url, by_the_dead)

        results = await asyncio.gather(
            kill_half_way(),
            watch_the_kill(),
            *(shop(shopper, f"shopper{n}") for n, shopper in enumerate(shoppers)),
        )
        stranded: list[str] = results[1]
        assert stranded, "the kill stranded no payment; the test proves nothing"

        # Every order gets paid: the survivor completes what the dead process left.
        keys = {key: order_id for shopper in shoppers for key, order_id in shopper.placed.items()}
        statuses = await eventually(
            lambda: asyncio.to_thread(order_statuses, clean_postgres_url),
            lambda statuses: all(statuses.get(order_id) == "paid" for order_id in keys.values()),
            within=SETTLE_SECONDS,
            interval=0.2,
            message="still not paid",
        )

        # None doubled: one order per key (the four before the load, then the load's).
        assert len(statuses) == 4 + len(keys)
        assert len(set(keys.values())) == len(keys)
        # And each key still names its order, asked again of whichever process is up.
        for shopper in shoppers:
            for key, order_id in list(shopper.placed.items())[-3:]:
                again = await both.send(
                    "POST",
                    "/orders",
                    json={"shipping_address": ADDRESS},
                    headers={**shopper.headers, "Idempotency-Key": key},
                )
                assert again.status_code == 201, again.text
                assert again.json()["order"]["id"] == order_id
                assert again.json()["order"]["status"] == "paid"


async def balancer_login(balancer: Balancer) -> dict[str, str]:
    response = await balancer.send(
        "POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
