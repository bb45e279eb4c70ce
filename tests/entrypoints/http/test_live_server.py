"""The quick start for real: `hexmart serve --demo` in its own process, driven over TCP
like curl would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.entrypoints.http.live_server import LiveServer
from tests.entrypoints.http.shop_api import an_address
from tests.polling import eventually_sync


def test_the_banner_says_where_it_listens_and_what_serves_each_port(
    live_server: LiveServer,
) -> None:
    banner = live_server.banner

    assert f"hexmart listening on {live_server.url}" in banner
    assert f"{live_server.url}/schema" in banner
    assert "payments: local gateway" in banner
    assert "database:" in banner
    assert live_server.admin_email in banner


def test_a_newcomer_buys_something_with_curl(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0) as http:
        registered = http.post(
            "/auth/register",
            json={"email": "curl@example.com", "password": "my long passphrase", "full_name": "C"},
        )
        assert registered.status_code == 201, registered.text
        auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}

        products = http.get("/products", params={"in_stock": "true", "limit": 3}).json()["items"]
        assert len(products) == 3
        for product in products:
            put = http.put(f"/cart/items/{product['id']}", json={"quantity": 1}, headers=auth)
            assert put.status_code == 200, put.text

        placed = http.post(
            "/orders",
            json={"shipping_address": an_address()},
            headers={**auth, "Idempotency-Key": "curl-1", "X-Request-ID": "curl-checkout"},
        )
        assert placed.status_code == 201, placed.text
        assert placed.headers["x-request-id"] == "curl-checkout"
        order_id = placed.json()["order"]["id"]

        def order() -> dict[str, Any]:
            body: dict[str, Any] = http.get(f"/orders/{order_id}", headers=auth).json()
            return body

        eventually_sync(order, lambda o: o["status"] == "paid")  # the local gateway pays

        admin = http.post(
            "/auth/login",
            json={"email": live_server.admin_email, "password": live_server.admin_password},
        )
        assert admin.status_code == 200, admin.text
        assert admin.json()["user"]["role"] == "admin"


async def test_the_served_app_upgrades_live_order_updates_to_a_websocket(
    live_server: LiveServer,
) -> None:
    """The quick start's server really speaks WebSocket (uvicorn needs a library for it)."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10.0) as http:
        registered = await http.post(
            "/auth/register",
            json={"email": "ws@example.com", "password": "my long passphrase", "full_name": "W"},
        )
        assert registered.status_code == 201, registered.text
        token = registered.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        [product] = (await http.get("/products", params={"limit": 1})).json()["items"]
        await http.put(f"/cart/items/{product['id']}", json={"quantity": 1}, headers=auth)
        placed = await http.post(
            "/orders",
            json={"shipping_address": an_address()},
            headers={**auth, "Idempotency-Key": "ws-1"},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order"]["id"]

    ws_url = live_server.url.replace("http://", "ws://")
    async with websockets.connect(f"{ws_url}/ws/orders/{order_id}?token={token}") as socket:
        statuses = []
        while "paid" not in statuses:  # the local gateway pays a moment later
            update = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            assert update["order_id"] == order_id
            statuses.append(update["status"])
    assert statuses[-1] == "paid"
