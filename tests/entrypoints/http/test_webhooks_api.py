"""POST /webhooks/stripe on the HTTP suite's shop (SQLite and PostgreSQL, the in-memory
payment gateway signing like Stripe). The Stripe adapter itself, with localstripe, is in
tests/payments/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.fakes.payment_gateway import FakePaymentGateway
from entrypoints.container import Container
from tests.entrypoints.http.shop_api import Account, Client, assert_problem, place_order


async def _success_event(container: Container, order_id: str) -> bytes:
    async with container.unit_of_work()() as uow:
        payment = await uow.payments.get_for_order(order_id)
    assert payment is not None
    assert payment.intent_id is not None
    gateway = container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    return gateway.event_payload(gateway.succeed(payment.intent_id))


async def _order_status(client: Client, account: Account, order_id: str) -> str:
    response = await client.get(f"/orders/{order_id}", headers=account.headers)
    status: str = response.json()["status"]
    return status


async def test_a_signed_event_marks_the_order_paid_once(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    payload = await _success_event(container, order["id"])
    gateway = container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    headers = {"Stripe-Signature": gateway.sign(payload), "Content-Type": "application/json"}

    first = await client.post("/webhooks/stripe", content=payload, headers=headers)
    again = await client.post("/webhooks/stripe", content=payload, headers=headers)

    assert (first.status_code, first.json()) == (200, {"received": True, "result": "applied"})
    assert (again.status_code, again.json()) == (200, {"received": True, "result": "duplicate"})
    assert await _order_status(client, customer, order["id"]) == "paid"


async def test_a_missing_forged_or_stale_signature_is_400_and_changes_nothing(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    payload = await _success_event(container, order["id"])
    gateway = container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    stale = gateway.sign(payload, at=container.clock().now() - timedelta(hours=1))
    forged = gateway.sign(payload).split(",v1=")[0] + ",v1=" + "0" * 64

    for headers in ({}, {"Stripe-Signature": forged}, {"Stripe-Signature": stale}):
        response = await client.post("/webhooks/stripe", content=payload, headers=headers)
        body = assert_problem(response, 400)
        assert body["type"] == "urn:hexmart:problem:invalid-webhook"
    assert await _order_status(client, customer, order["id"]) == "pending"


async def test_the_webhook_needs_no_credentials_and_is_not_a_json_api(client: Client) -> None:
    # Not JSON at all, no token: still the signature check that answers, not a 401 or a
    # body-validation error.
    response = await client.post(
        "/webhooks/stripe", content=b"\x00not json", headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert assert_problem(response, 400)["type"] == "urn:hexmart:problem:invalid-webhook"
