"""README's promise, in-process: a newcomer registers, browses the demo shop, fills a cart
and places an order that the local payment gateway pays by itself."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.local_payment_gateway import SqlLocalPaymentGateway
from entrypoints.container import Container
from entrypoints.demo import DemoAdmin, seed_demo_shop
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import Client, an_address, serving
from tests.polling import eventually

DEMO_ADMIN = DemoAdmin(email="admin@demo.hexmart.test", password="demo admin passphrase")


@pytest.fixture
def local_shop(tmp_path: Path) -> Container:
    """In memory, but with the embedded default's gateway, which completes payments (its
    records in a SQLite file of its own)."""
    container = in_memory_container(
        settings_for_tests(
            local_payments_auto_complete=True,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}",
        )
    )
    container.payment_gateway.reset_override()
    assert isinstance(container.payment_gateway(), SqlLocalPaymentGateway)
    return container


@pytest.fixture
async def demo_client(local_shop: Container) -> AsyncIterator[Client]:
    app = create_app(
        local_shop, startup_tasks=[functools.partial(seed_demo_shop, admin=DEMO_ADMIN)]
    )
    async with serving(app) as client:
        yield client


async def test_register_browse_fill_a_cart_and_the_local_gateway_pays(
    demo_client: Client,
) -> None:
    client = demo_client
    # curl -X POST /auth/register -d '{"email": ..., "password": ..., "full_name": ...}'
    registered = await client.post(
        "/auth/register",
        json={"email": "newcomer@example.com", "password": "my long passphrase", "full_name": "N"},
    )
    assert registered.status_code == 201
    auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}

    # curl '/products?category=kitchen&in_stock=true&sort=price'
    listing = await client.get(
        "/products", params={"category": "kitchen", "in_stock": "true", "sort": "price"}
    )
    kitchen = listing.json()["items"]
    assert len(kitchen) >= 5
    cheapest, dearest = kitchen[0], kitchen[-1]
    assert cheapest["price"]["amount"] <= dearest["price"]["amount"]

    # curl -X PUT /cart/items/<id> -d '{"quantity": 2}'
    for product, quantity in ((cheapest, 2), (dearest, 1)):
        response = await client.put(
            f"/cart/items/{product['id']}", json={"quantity": quantity}, headers=auth
        )
        assert response.status_code == 200
    cart = (await client.get("/cart", headers=auth)).json()
    expected_total = 2 * cheapest["price"]["amount"] + dearest["price"]["amount"]
    assert cart["total"]["amount"] == expected_total

    # curl -X POST /orders -H 'Idempotency-Key: ...' -d '{"shipping_address": {...}}'
    placed = await client.post(
        "/orders",
        json={"shipping_address": an_address()},
        headers={**auth, "Idempotency-Key": "first-order"},
    )
    assert placed.status_code == 201
    order_id = placed.json()["order"]["id"]
    assert placed.json()["payment"]["provider"] == "local"

    # The local gateway completes the payment a moment later: poll the order.
    async def order() -> dict[str, Any]:
        body: dict[str, Any] = (await client.get(f"/orders/{order_id}", headers=auth)).json()
        return body

    paid = await eventually(order, lambda o: o["status"] == "paid")
    assert paid["total_amount"]["amount"] == expected_total
    payments = (await client.get(f"/orders/{order_id}/payments", headers=auth)).json()
    assert payments["items"][0]["status"] == "completed"

    # The demo admin ships it.
    admin = await client.post(
        "/auth/login", json={"email": DEMO_ADMIN.email, "password": DEMO_ADMIN.password}
    )
    admin_auth = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    shipped = await client.post(f"/orders/{order_id}/ship", headers=admin_auth)
    assert shipped.json()["status"] == "shipped"
