"""The local payment gateway behind a load balancer: two app instances (two containers,
as two processes would have them) on one PostgreSQL database. Whichever instance a
request reaches sees every payment: an intent made through one is retried, completed and
refunded through the other, and a paid order placed through one is cancelled through the
other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.local_payment_gateway import SqlLocalPaymentGateway
from domain.payments import PaymentOutcome
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import container_for_tests, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    Client,
    checkout,
    create_product,
    login,
    place_order,
    put_in_cart,
    register,
    serving,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration


def an_instance(database_url: str, data_dir: Path) -> Container:
    """One app process's container: everything real on the shared database, the local
    gateway waiting to be told to complete (each instance has its own gateway object)."""
    return container_for_tests(
        settings_for_tests(
            database_url=database_url,
            data_dir=data_dir,
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
        )
    )


@pytest.fixture
async def instances(
    clean_postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[tuple[Container, Client], tuple[Container, Client]]]:
    first = an_instance(clean_postgres_url, tmp_path / "first")
    second = an_instance(clean_postgres_url, tmp_path / "second")
    async with (
        serving(create_app(first, background_jobs=False)) as first_client,
        serving(create_app(second, background_jobs=False)) as second_client,
    ):
        yield (first, first_client), (second, second_client)


async def intent_of(container: Container, order_id: str) -> str:
    async with container.unit_of_work()() as uow:
        payment = await uow.payments.get_for_order(order_id)
    assert payment is not None
    assert payment.intent_id is not None
    return payment.intent_id


def gateway_of(container: Container) -> SqlLocalPaymentGateway:
    gateway = container.payment_gateway()
    assert isinstance(gateway, SqlLocalPaymentGateway)
    return gateway


async def status_of(client: Client, account: Account, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/orders/{order_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_a_payment_made_through_one_instance_is_completed_and_refunded_through_another(
    instances: tuple[tuple[Container, Client], tuple[Container, Client]],
) -> None:
    (first, one), (second, other) = instances
    admin = await login(one, ADMIN_EMAIL)
    mug = await create_product(one, admin)
    ann = await register(one, "ann@example.com")

    order = await place_order(one, ann, mug["id"], key="checkout-1")
    again = await checkout(other, ann, "checkout-1")  # the client's retry lands elsewhere
    assert again.status_code == 201, again.text
    assert again.json()["order"]["id"] == order["id"]
    intent_id = await intent_of(second, order["id"])
    assert again.json()["payment"]["client_secret"].startswith(intent_id)
    assert (await gateway_of(second).retrieve_intent(intent_id)).outcome is (PaymentOutcome.PENDING)

    await gateway_of(second).complete(intent_id)  # the provider, as the other process sees it
    assert (await status_of(one, ann, order["id"]))["status"] == "paid"

    refunded = await other.post(
        f"/orders/{order['id']}/refunds", json={"reason": "scratched"}, headers=admin.headers
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["refunded_amount"] == order["total_amount"]
    [refund] = await gateway_of(first).list_refunds(intent_id)
    assert (refund.amount.amount, refund.reason) == (order["total_amount"]["amount"], "scratched")


async def test_a_paid_order_placed_through_one_instance_is_cancelled_through_another(
    instances: tuple[tuple[Container, Client], tuple[Container, Client]],
) -> None:
    (first, one), (_, other) = instances
    admin = await login(one, ADMIN_EMAIL)
    mug = await create_product(one, admin)
    bob = await register(other, "bob@example.com")
    await put_in_cart(other, bob, mug["id"], 2)
    placed = await checkout(other, bob, "bob-1")
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    intent_id = await intent_of(first, order["id"])

    await gateway_of(first).complete(intent_id)
    await eventually(
        lambda: status_of(other, bob, order["id"]), lambda found: found["status"] == "paid"
    )
    cancelled = await one.post(f"/orders/{order['id']}/cancel", json={}, headers=bob.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded_amount"] == order["total_amount"]
