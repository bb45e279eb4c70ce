"""The shop running for real against localstripe and PostgreSQL, served on a loopback port
so that localstripe can deliver its webhooks to it.

`StripeShop` plays everyone outside the API: the customer paying at the provider (the
plain Stripe SDK, as Stripe.js would), Stripe sending signed events (built and signed
here with Stripe's scheme when localstripe cannot produce them), and the clock or the
worker running a job.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import stripe
import uvicorn
from litestar import Litestar

from domain.payments import Payment
from entrypoints.container import Container
from tests.entrypoints.http.shop_api import Account, create_product, put_in_cart
from tests.polling import eventually
from tests.stripe_server import LocalStripe

# localstripe's card that charges fine (attached to the intent, then confirmed).
GOOD_CARD = "pm_card_visa"
WEBHOOK_ID = "hexmart-e2e"
START_TIMEOUT_SECONDS = 60.0  # a poll: returns as soon as the app serves


@asynccontextmanager
async def serving_on_loopback(app: Litestar) -> AsyncIterator[str]:
    """`app` under uvicorn in this event loop, on a port the kernel picks; yields its URL.

    In this loop (not a subprocess) so the test can still reach into the container.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))

    def started() -> bool:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped before it started serving the app")
        return server.started

    try:
        await eventually(
            started, within=START_TIMEOUT_SECONDS, interval=0.02, message="the app did not start"
        )
    except AssertionError:
        server.should_exit = True
        raise
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Stripe's scheme: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={mac.hexdigest()}"


def intent_id_of(client_secret: str) -> str:
    """What Stripe.js does with a client secret: `pi_..._secret_...` names its intent."""
    return client_secret.split("_secret_")[0]


@dataclass
class StripeShop:
    container: Container
    url: str
    client: httpx.AsyncClient
    localstripe: LocalStripe
    webhook_secret: str
    stripe: stripe.StripeClient
    admin: Account

    # -- the provider --------------------------------------------------------------

    def deliver_webhooks(self) -> None:
        """Have localstripe POST its events to this shop, signed with our secret."""
        self.localstripe.register_webhook(
            WEBHOOK_ID, f"{self.url}/webhooks/stripe", self.webhook_secret
        )

    def stop_delivering_webhooks(self) -> None:
        self.localstripe.unregister_webhook(WEBHOOK_ID)

    async def customer_pays(self, intent_id: str) -> None:
        """The customer attaches a good card to the intent and confirms it."""
        intents = self.stripe.v1.payment_intents
        await intents.update_async(intent_id, {"payment_method": GOOD_CARD})
        confirmed = await intents.confirm_async(intent_id)
        assert confirmed.status == "succeeded", confirmed

    async def intent_at_provider(self, intent_id: str) -> dict[str, Any]:
        found = await self.stripe.v1.payment_intents.retrieve_async(intent_id)
        document: dict[str, Any] = found.to_dict()
        return document

    async def intents_for_order(self, order_id: str) -> list[dict[str, Any]]:
        """Every intent localstripe holds for the order (its metadata names it)."""
        found: list[dict[str, Any]] = []
        page = await self.stripe.v1.payment_intents.list_async({"limit": 100})
        async for intent in page.auto_paging_iter():
            document = intent.to_dict()
            if (document.get("metadata") or {}).get("order_id") == order_id:
                found.append(document)
        return found

    async def refunded_at_provider(self, intent_id: str) -> int:
        """The sum of the refunds localstripe made against the intent."""
        refunds = await self.stripe.v1.refunds.list_async(
            {"payment_intent": intent_id, "limit": 100}
        )
        return sum(int(refund.amount) for refund in refunds.data)

    async def event_about(
        self,
        intent_id: str,
        event_type: str = "payment_intent.succeeded",
        *,
        event_id: str | None = None,
        **changes: Any,
    ) -> bytes:
        """A Stripe event carrying the intent as localstripe holds it, with `changes`
        applied (an event reports the object as it was when it happened)."""
        intent = {**await self.intent_at_provider(intent_id), **changes}
        event = {
            "id": event_id or f"evt_test_{intent_id}_{event_type}_{time.monotonic_ns()}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": intent},
        }
        return json.dumps(event, indent=2, sort_keys=True).encode()

    def signed(self, payload: bytes, *, age_seconds: int = 0) -> dict[str, str]:
        return {
            "Stripe-Signature": sign(
                payload, self.webhook_secret, timestamp=int(time.time()) - age_seconds
            ),
            "Content-Type": "application/json; charset=utf-8",
        }

    async def post_event(
        self, payload: bytes, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/webhooks/stripe",
            content=payload,
            headers=self.signed(payload) if headers is None else headers,
        )

    # -- the shop, through its API ----------------------------------------------------

    async def a_product(self, *, price: int = 2500, stock: int = 10) -> dict[str, Any]:
        return await create_product(
            self.client,
            self.admin,
            price={"amount": price, "currency": "USD"},
            inventory_count=stock,
        )

    async def checkout(self, customer: Account, key: str = "order-1") -> httpx.Response:
        """POST /orders with the customer's cart as it is."""
        return await self.client.post(
            "/orders",
            json={
                "shipping_address": {
                    "name": "Ann Archer",
                    "line1": "1 Main St",
                    "city": "Springfield",
                    "postal_code": "12345",
                    "country": "US",
                }
            },
            headers={**customer.headers, "Idempotency-Key": key},
        )

    async def place_order(
        self, customer: Account, product_id: str, quantity: int = 1, key: str = "order-1"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check out; returns the order and its payment as the API gave them."""
        await put_in_cart(self.client, customer, product_id, quantity)
        response = await self.checkout(customer, key)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body["order"], body["payment"]

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/orders/{order_id}", headers=self.admin.headers)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    async def payment_record(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/orders/{order_id}/payments", headers=self.admin.headers)
        assert response.status_code == 200, response.text
        (record,) = response.json()["items"]
        assert isinstance(record, dict)
        return record

    async def stock_of(self, product_id: str) -> int:
        response = await self.client.get(f"/products/{product_id}")
        assert response.status_code == 200, response.text
        return int(response.json()["inventory_count"])

    async def refund(self, order_id: str, amount: int | None = None) -> httpx.Response:
        body = {} if amount is None else {"amount": {"amount": amount, "currency": "USD"}}
        return await self.client.post(
            f"/orders/{order_id}/refunds", json=body, headers=self.admin.headers
        )

    # -- what the API does not show ---------------------------------------------------

    async def stored_payment(self, order_id: str) -> Payment:
        async with self.container.unit_of_work()() as uow:
            payment = await uow.payments.get_for_order(order_id)
        assert payment is not None
        return payment

    async def outbox_events(self, name: str, order_id: str) -> int:
        """How many `name` events about the order wait in the outbox (nothing relays
        them in these tests: the background loop is off)."""
        async with self.container.unit_of_work()() as uow:
            messages = await uow.outbox.list_unsent(10_000)
        return sum(
            1
            for message in messages
            if message.name == name and message.payload.get("order_id") == order_id
        )
