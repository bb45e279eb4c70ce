"""Driving the shop over HTTP, as the API's clients would: helpers shared by the e2e tests.

Everything goes through the HTTP client; the container is touched only to play the world
outside the API (the payment provider saying "paid", reading an emailed token).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx import Response
from litestar import Litestar

from adapters.fakes.payment_gateway import FakePaymentGateway
from entrypoints.container import Container
from tests.application import shopping

PASSWORD = "correct horse battery"
ADMIN_EMAIL = "root@example.com"
Client = httpx.AsyncClient


@asynccontextmanager
async def serving(
    app: Litestar, base_url: str = "http://testserver.local"
) -> AsyncIterator[Client]:
    """The app with its lifespan running, and a client talking to it over ASGI.

    Everything runs in the test's own event loop. (Litestar's AsyncTestClient runs the
    app in a portal thread with a loop of its own, while a test also calls the container
    directly: in-memory adapters and the background loop would then span two loops.)
    The lifespan runs in a task of its own, as under a server, so that it starts and
    stops in one task even when a fixture's set-up and tear-down run in two.
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error here
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
    finally:
        stop.set()
        await task


@dataclass
class Account:
    """A signed-in user as a client sees them: their id and the tokens they hold."""

    id: str
    email: str
    access_token: str
    refresh_token: str
    role: str
    password: str = PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def _account(body: dict[str, Any], password: str = PASSWORD) -> Account:
    return Account(
        id=body["user"]["id"],
        email=body["user"]["email"],
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        role=body["user"]["role"],
        password=password,
    )


async def register(client: Client, email: str, full_name: str = "A Shopper") -> Account:
    response = await client.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "full_name": full_name}
    )
    assert response.status_code == 201, response.text
    return _account(response.json())


async def login(client: Client, email: str, password: str = PASSWORD) -> Account:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return _account(response.json(), password)


async def promote(client: Client, admin: Account, account: Account, role: str) -> Account:
    response = await client.patch(
        f"/users/{account.id}", json={"role": role}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return await login(client, account.email)


async def issue_api_key(client: Client, admin: Account, *scopes: str) -> dict[str, str]:
    """Headers carrying a new API key with `scopes`."""
    response = await client.post(
        "/api-keys", json={"name": "partner", "scopes": list(scopes)}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


def a_product(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Mug",
        "description": "A sturdy mug",
        "price": {"amount": 1200, "currency": "USD"},
        "inventory_count": 10,
        "category": "kitchen",
    }
    body.update(overrides)
    return body


async def create_product(client: Client, staff: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/products", json=a_product(**overrides), headers=staff.headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def put_in_cart(client: Client, account: Account, product_id: str, quantity: int) -> None:
    response = await client.put(
        f"/cart/items/{product_id}", json={"quantity": quantity}, headers=account.headers
    )
    assert response.status_code == 200, response.text


def an_address(**overrides: Any) -> dict[str, Any]:
    address: dict[str, Any] = {
        "name": "Ann Archer",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    }
    address.update(overrides)
    return address


async def checkout(
    client: Client, account: Account, key: str = "checkout-1", **address: Any
) -> Response:
    return await client.post(
        "/orders",
        json={"shipping_address": an_address(**address)},
        headers={**account.headers, "Idempotency-Key": key},
    )


async def place_order(
    client: Client, account: Account, product_id: str, quantity: int = 1, key: str = "order-1"
) -> dict[str, Any]:
    """Fill the cart with one product and check out; returns the order."""
    await put_in_cart(client, account, product_id, quantity)
    response = await checkout(client, account, key)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["order"]
    return order


async def pay(container: Container, order_id: str) -> None:
    """The customer pays at the provider and the provider tells the shop."""
    async with container.unit_of_work()() as uow:
        payment = await uow.payments.get_for_order(order_id)
    assert payment is not None
    assert payment.intent_id is not None
    gateway = container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    await container.payment_events().apply_event(gateway.succeed(payment.intent_id))


async def emailed_reset_token(container: Container, email: str) -> str:
    """The one-time token in the password-reset email the worker sends to `email`."""
    return await shopping.emailed_reset_token(container, email)


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status`; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    return body


def error_fields(response: Response) -> set[str]:
    body = assert_problem(response, 400)
    return {error["field"] for error in body.get("errors", [])}
