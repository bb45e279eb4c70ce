"""The production topology, proven on this machine over HTTPS through nginx (the committed
deploy/nginx/hexmart.conf) in front of two `hexmart serve` processes and two workers on one
PostgreSQL database and one Redis (tests/deploy/topology.py). Run alone with
`./dev pytest -m topology`."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import websockets

from tests.deploy.topology import ADMIN_EMAIL, PASSWORD, Topology, running_topology
from tests.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.topology]

ADDRESS = {
    "name": "Ann Archer",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}
SETTLE_SECONDS = 30.0
BUYERS = 50


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    with running_topology(tmp_path_factory.mktemp("topology")) as running:
        yield running


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def register(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return bearer(
        await client.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "full_name": "S"}
        )
    )


async def admin(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(
        await client.post("/auth/login", json={"email": ADMIN_EMAIL, "password": PASSWORD})
    )


async def new_product(client: httpx.AsyncClient, stock: int, name: str = "Mug") -> str:
    response = await client.post(
        "/products",
        json={
            "name": name,
            "description": "A sturdy mug for every morning, made to last and easy to clean",
            "price": {"amount": 1200, "currency": "USD"},
            "inventory_count": stock,
            "category": "kitchen",
        },
        headers=await admin(client),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def order(
    client: httpx.AsyncClient, headers: dict[str, str], product: str, key: str
) -> httpx.Response:
    filled = await client.put(f"/cart/items/{product}", json={"quantity": 1}, headers=headers)
    assert filled.status_code == 200, filled.text
    return await client.post(
        "/orders",
        json={"shipping_address": ADDRESS},
        headers={**headers, "Idempotency-Key": key},
    )


def orders_of(topology: Topology, product: str) -> list[str]:
    rows = topology.sql("SELECT DISTINCT order_id FROM order_lines WHERE product_id = %s", product)
    return [str(order_id) for (order_id,) in rows]


def answered_by(topology: Topology, method: str, path: str) -> set[str]:
    """The app processes nginx sent `method path` to (its access log)."""
    upstreams = set()
    for line in topology.access_log.read_text().splitlines():
        if f" {method} {path} " in line:
            upstreams.add(line.split(" upstream=")[-1].split(", ")[-1])
    return upstreams


def both_apps(topology: Topology) -> set[str]:
    return {f"127.0.0.1:{app.port}" for app in topology.apps}


async def test_the_customer_journey_through_nginx(topology: Topology) -> None:
    # Plain HTTP only redirects to HTTPS.
    async with httpx.AsyncClient(base_url=topology.http_url) as plain:
        redirect = await plain.get("/products?limit=1")
    assert redirect.status_code == 301
    assert redirect.headers["location"].startswith("https://")

    async with topology.client("127.0.0.2") as client:
        mug = await new_product(client, stock=10)
        ann = await register(client, "ann@example.com")

        listing = await client.get("/products", headers={"Accept-Encoding": "gzip"})
        assert listing.status_code == 200
        assert listing.headers["content-encoding"] == "gzip"  # JSON is compressed
        assert "max-age=" in listing.headers["strict-transport-security"]
        assert [p["id"] for p in listing.json()["items"]] == [mug]
        assert (await client.get("/metrics")).status_code == 404  # never public
        # A body over the app's limit stops at the edge.
        too_big = await client.post("/auth/login", content=b"x" * (1024 * 1024 + 1))
        assert too_big.status_code == 413
        # The client's request id is passed on to the app, or nginx makes one.
        await client.get("/health/live?traced", headers={"X-Request-ID": "journey-trace-1"})
        await client.get("/health/live?untraced")
        ids = [line.split(" rid=")[1].split(" ")[0]
               for line in topology.access_log.read_text().splitlines()
               if " GET /health/live " in line][-2:]  # fmt: skip
        assert ids[0] == "journey-trace-1"
        assert len(ids[1]) == 32
        assert (await client.get("/health/ready")).status_code == 200

        emails_before = len(topology.smtp.received_by("ann@example.com"))
        placed = await order(client, ann, mug, "journey-1")
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order"]["id"]

        # A WebSocket through nginx sees the order paid.
        token = ann["Authorization"].removeprefix("Bearer ")
        ws_url = topology.https_url.replace("https://", "wss://")
        statuses = []
        async with websockets.connect(
            f"{ws_url}/ws/orders/{order_id}?token={token}", ssl=topology.ssl_context
        ) as socket:
            while "paid" not in statuses:
                message = json.loads(await asyncio.wait_for(socket.recv(), SETTLE_SECONDS))
                statuses.append(message["status"])

        # The worker emails the customer.
        await eventually(
            lambda: len(topology.smtp.received_by("ann@example.com")) != emails_before,
            within=SETTLE_SECONDS,
            interval=0.1,
            message="no email reached the customer",
        )

        refund = await client.post(
            f"/orders/{order_id}/refunds", json={}, headers=await admin(client)
        )
        assert refund.status_code == 201, refund.text
        # The refund is the customer's to see, whichever process answers.
        refunded = await client.get(f"/orders/{order_id}", headers=ann)
        assert refunded.json()["refunded_amount"]["amount"] == 1200, refunded.text
    assert topology.upstreams_used().keys() >= both_apps(topology)


async def test_fifty_buyers_for_the_last_five_units_get_exactly_five_orders(
    topology: Topology,
) -> None:
    async with topology.client("127.0.0.2") as client:
        last = await new_product(client, stock=5, name="Last mugs")

    async def buyer(n: int) -> int:
        async with topology.client(f"127.0.1.{n + 1}") as client:
            headers = await register(client, f"buyer{n}@example.com")
            filled = await client.put(f"/cart/items/{last}", json={"quantity": 1}, headers=headers)
            assert filled.status_code == 200, filled.text
            carts_filled.append(n)
            if len(carts_filled) == BUYERS:
                go.set()  # every cart holds one: now they all order at once
            await go.wait()
            placed = await client.post(
                "/orders",
                json={"shipping_address": ADDRESS},
                headers={**headers, "Idempotency-Key": f"last-{n}"},
            )
            assert placed.status_code in (201, 409), placed.text
            return placed.status_code

    go, carts_filled = asyncio.Event(), []
    buyers = [asyncio.create_task(buyer(n)) for n in range(BUYERS)]
    codes = await asyncio.gather(*buyers)
    assert codes.count(201) == 5
    assert codes.count(409) == BUYERS - 5
    async with topology.client("127.0.0.2") as client:
        product = await client.get(f"/products/{last}")
    assert product.json()["inventory_count"] == 0
    assert len(orders_of(topology, last)) == 5
    assert answered_by(topology, "POST", "/orders") >= both_apps(topology)


async def test_rate_limits_key_on_the_real_client_across_both_processes(
    topology: Topology,
) -> None:
    limit = 10  # HEXMART_RATE_LIMIT_REGISTER_PER_IP's default
    async with topology.client("127.0.2.1") as client:
        codes = []
        for n in range(limit + 2):
            # A forged X-Forwarded-For changes nothing: nginx replaces it.
            response = await client.post(
                "/auth/register",
                json={"email": f"spoofer{n}@example.com", "password": PASSWORD, "full_name": "S"},
                headers={"X-Forwarded-For": f"10.1.2.{n}"},
            )
            codes.append(response.status_code)
    assert codes == [201] * limit + [429, 429]
    assert answered_by(topology, "POST", "/auth/register") >= both_apps(topology)
    # Another client address has its own allowance.
    async with topology.client("127.0.2.2") as other:
        await register(other, "honest@example.com")


@dataclass
class Load:
    """Shoppers placing orders without pause; every answer is recorded."""

    topology: Topology
    product: str
    retry_lost_answers: bool
    statuses: list[int] = field(default_factory=list)
    placed: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order id
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> shopper headers
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    shoppers: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, shoppers: int) -> None:
        self.shoppers = [asyncio.create_task(self.shopper(n)) for n in range(shoppers)]

    async def orders_go_on(self, more: int) -> None:
        """Wait until `more` orders were placed (a shopper that failed fails the test)."""
        target = len(self.placed) + more

        def placed_enough() -> bool:
            if len(self.placed) >= target:
                return True
            for shopper in self.shoppers:
                if shopper.done():
                    shopper.result()  # raises what the shopper failed with
                    raise AssertionError("a shopper stopped")
            return False

        await eventually(
            placed_enough,
            within=SETTLE_SECONDS,
            message=lambda: f"orders stalled at {len(self.placed)}",
        )

    async def shopper(self, n: int) -> None:
        async with self.topology.client(f"127.0.{3 + n}.1") as client:
            headers = await register(client, f"load{n}-{self.product}@example.com")
            for i in itertools.count():
                if self.stop.is_set():
                    return
                key = f"load-{n}-{i}"
                self.keys[key] = headers
                while True:
                    try:
                        response = await order(client, headers, self.product, key)
                    except (httpx.TransportError, AssertionError):
                        if not self.retry_lost_answers:
                            raise
                        await asyncio.sleep(0.05)
                        continue
                    self.statuses.append(response.status_code)
                    if response.status_code == 201:
                        self.placed[key] = response.json()["order"]["id"]
                        break
                    if not self.retry_lost_answers or response.status_code < 500:
                        raise AssertionError(f"{response.status_code}: {response.text}")
                    await asyncio.sleep(0.05)


async def test_a_rolling_restart_under_load_fails_no_request(topology: Topology) -> None:
    async with topology.client("127.0.0.2") as client:
        product = await new_product(client, stock=100_000, name="Rolling mugs")
    load = Load(topology, product, retry_lost_answers=False)
    load.start(shoppers=4)

    await load.orders_go_on(8)
    for app in topology.apps:
        # uvicorn drains, then exits by the signal it was sent.
        assert await asyncio.to_thread(app.stop, signal.SIGTERM) in (0, -signal.SIGTERM)
        await load.orders_go_on(4)  # served by the other process alone
        answers_before = topology.answers_from(app)
        app.start()
        await asyncio.to_thread(app.wait_until_ready)
        # The next process goes down only once this one takes requests again.
        await asyncio.to_thread(topology.wait_until_back_in_rotation, app, answers_before)
        await load.orders_go_on(4)
    load.stop.set()
    await asyncio.gather(*load.shoppers)

    assert set(load.statuses) == {201}, "a request failed during the restart"
    assert sorted(orders_of(topology, product)) == sorted(load.placed.values())


async def test_a_killed_process_is_routed_around_and_loses_no_order(
    topology: Topology,
) -> None:
    async with topology.client("127.0.0.2") as client:
        product = await new_product(client, stock=100_000, name="Killed mugs")
    load = Load(topology, product, retry_lost_answers=True)
    load.start(shoppers=4)

    first = topology.apps[0]
    try:
        await load.orders_go_on(8)
        await asyncio.to_thread(first.stop, signal.SIGKILL)
        await load.orders_go_on(12)  # nginx sends everything to the survivor
        load.stop.set()
        await asyncio.gather(*load.shoppers)
    finally:
        if first.process is not None and first.process.poll() is not None:
            first.start()
            await asyncio.to_thread(first.wait_until_ready)

    # Every 201 has its order, none doubled, and each key still names its order.
    assert sorted(orders_of(topology, product)) == sorted(load.placed.values())
    async with topology.client("127.0.0.2") as client:
        for key, order_id in list(load.placed.items())[-6:]:
            again = await client.post(
                "/orders",
                json={"shipping_address": ADDRESS},
                headers={**load.keys[key], "Idempotency-Key": key},
            )
            assert again.status_code == 201, again.text
            assert again.json()["order"]["id"] == order_id
