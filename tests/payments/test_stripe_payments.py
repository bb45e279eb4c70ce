"""The money side of orders end to end against localstripe and PostgreSQL: the provider
going down during checkout, a lost webhook repaired by reconciliation, refunds (also two
racing ones) and the expiry of unpaid orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from adapters.stripe_gateway import StripePaymentGateway
from application.ports.payments import PaymentGateway
from tests.entrypoints.http.shop_api import Account, assert_problem, put_in_cart, register
from tests.payments.stripe_shop import StripeShop, intent_id_of
from tests.stripe_server import API_KEY, closed_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def ann(shop: StripeShop) -> Account:
    return await register(shop.client, "ann@example.com", "Ann Archer")


class SwitchableProvider:
    """The real gateway, or one aimed at a closed port while the provider is "down"."""

    def __init__(self, live: PaymentGateway, dead: PaymentGateway) -> None:
        self._live, self._dead = live, dead
        self.down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dead if self.down else self._live, name)


async def _paid_order(
    shop: StripeShop, customer: Account, *, price: int = 2500, quantity: int = 1
) -> tuple[dict[str, Any], str]:
    """An order the customer paid at localstripe and whose success event was applied."""
    product = await shop.a_product(price=price)
    order, payment = await shop.place_order(customer, product["id"], quantity)
    intent_id = intent_id_of(payment["client_secret"])
    await shop.customer_pays(intent_id)
    applied = await shop.post_event(await shop.event_about(intent_id))
    assert applied.json()["result"] == "applied", applied.text
    return order, intent_id


@pytest.fixture
async def provider(shop: StripeShop) -> AsyncIterator[SwitchableProvider]:
    """The shop's Stripe gateway behind a switch: `provider.down = True` aims it at a
    closed port until set back."""
    dead = StripePaymentGateway(
        API_KEY,
        shop.webhook_secret,
        api_base=f"http://127.0.0.1:{closed_port()}",
        max_network_retries=0,
    )
    switch = SwitchableProvider(shop.container.payment_gateway(), dead)
    shop.container.payment_gateway.override(providers.Object(switch))
    for use_case in (
        shop.container.refunds,
        shop.container.payment_flow,
        shop.container.orders,
        shop.container.payment_events,
    ):
        use_case.reset()  # built again around the switch when next asked for
    yield switch
    await dead.aclose()


async def test_provider_down_at_checkout_then_a_retry_with_the_same_key_creates_one_intent(
    shop: StripeShop, ann: Account, provider: SwitchableProvider
) -> None:
    product = await shop.a_product(price=1800, stock=5)
    await put_in_cart(shop.client, ann, product["id"], 2)

    provider.down = True
    failed = await shop.checkout(ann, key="checkout-during-outage")
    provider.down = False

    assert_problem(failed, 503)
    listed = await shop.client.get("/orders", headers=ann.headers)
    (order,) = listed.json()["items"]
    assert order["status"] == "pending"
    assert await shop.stock_of(product["id"]) == 3
    assert (await shop.payment_record(order["id"]))["client_secret"] is None
    assert (await shop.stored_payment(order["id"])).intent_id is None
    assert await shop.intents_for_order(order["id"]) == []

    retried = await shop.checkout(ann, key="checkout-during-outage")
    again = await shop.checkout(ann, key="checkout-during-outage")

    assert (retried.status_code, again.status_code) == (201, 201), (retried.text, again.text)
    assert retried.json()["order"]["id"] == again.json()["order"]["id"] == order["id"]
    secret = retried.json()["payment"]["client_secret"]
    assert secret is not None
    assert again.json()["payment"]["client_secret"] == secret
    (intent,) = await shop.intents_for_order(order["id"])
    assert intent["id"] == intent_id_of(secret)
    assert (intent["amount"], intent["currency"]) == (3600, "usd")
    assert await shop.stock_of(product["id"]) == 3


async def test_a_lost_webhook_is_repaired_by_reconciliation(shop: StripeShop, ann: Account) -> None:
    shop.stop_delivering_webhooks()  # the provider's event never reaches us
    product = await shop.a_product(price=4200)
    order, payment = await shop.place_order(ann, product["id"])
    await shop.customer_pays(intent_id_of(payment["client_secret"]))
    assert (await shop.order(order["id"]))["status"] == "pending"

    events = shop.container.payment_events()
    changed = await events.reconcile_pending(older_than=timedelta(0))

    assert changed == 1
    assert (await shop.order(order["id"]))["status"] == "paid"
    assert (await shop.payment_record(order["id"]))["status"] == "completed"
    assert await events.reconcile_pending(older_than=timedelta(0)) == 0
    assert await shop.outbox_events("order_paid", order["id"]) == 1


async def test_reconciliation_leaves_a_payment_the_customer_has_not_made_pending(
    shop: StripeShop, ann: Account
) -> None:
    product = await shop.a_product()
    order, _ = await shop.place_order(ann, product["id"])

    assert await shop.container.payment_events().reconcile_pending(timedelta(0)) == 0
    assert (await shop.order(order["id"]))["status"] == "pending"


async def test_partial_then_full_refunds_add_up_to_what_was_paid(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _paid_order(shop, ann, price=2500)

    partial = await shop.refund(order["id"], 1000)
    assert partial.status_code == 201, partial.text
    assert partial.json()["refunded_amount"] == {"amount": 1000, "currency": "USD"}
    assert partial.json()["status"] == "paid"
    record = await shop.payment_record(order["id"])
    assert record["status"] == "partially_refunded"
    assert await shop.refunded_at_provider(intent_id) == 1000

    rest = await shop.refund(order["id"])
    assert rest.status_code == 201, rest.text
    assert rest.json()["refunded_amount"] == {"amount": 2500, "currency": "USD"}
    record = await shop.payment_record(order["id"])
    assert record["status"] == "refunded"
    assert [r["amount"]["amount"] for r in record["refunds"]] == [1000, 1500]
    assert await shop.refunded_at_provider(intent_id) == 2500

    beyond = await shop.refund(order["id"], 1)
    assert_problem(beyond, 422)
    assert await shop.refunded_at_provider(intent_id) == 2500


async def test_two_racing_refunds_that_exceed_the_payment_refund_only_one(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _paid_order(shop, ann, price=2500)

    # localstripe would refund both (it refunds more than was paid): only our row lock
    # on the order keeps the total within the payment.
    first, second = await asyncio.gather(
        shop.refund(order["id"], 1500), shop.refund(order["id"], 1500)
    )

    assert sorted([first.status_code, second.status_code]) == [201, 422], (
        first.text,
        second.text,
    )
    refused = first if first.status_code == 422 else second
    assert assert_problem(refused, 422)["type"] == "urn:hexmart:problem:refund-exceeds-payment"
    assert (await shop.order(order["id"]))["refunded_amount"]["amount"] == 1500
    record = await shop.payment_record(order["id"])
    assert [r["amount"]["amount"] for r in record["refunds"]] == [1500]
    assert await shop.refunded_at_provider(intent_id) == 1500


async def test_cancelling_a_paid_order_refunds_it_in_full_and_releases_its_stock(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _paid_order(shop, ann, price=900, quantity=3)
    product_id = order["items"][0]["product_id"]
    assert await shop.stock_of(product_id) == 7

    cancelled = await shop.client.post(f"/orders/{order['id']}/cancel", headers=ann.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded_amount"] == {"amount": 2700, "currency": "USD"}
    assert await shop.refunded_at_provider(intent_id) == 2700
    assert await shop.stock_of(product_id) == 10


async def test_expiry_cancels_an_unpaid_order_and_its_intent_and_releases_its_stock(
    shop: StripeShop, ann: Account
) -> None:
    product = await shop.a_product(price=1500, stock=5)
    unpaid, payment = await shop.place_order(ann, product["id"], quantity=2, key="unpaid")
    paid, _ = await _paid_order(shop, ann, price=700)
    assert await shop.stock_of(product["id"]) == 3

    expired = await shop.container.orders().expire_unpaid_orders(timedelta(0))

    assert expired == 1
    assert (await shop.order(unpaid["id"]))["status"] == "cancelled"
    assert await shop.stock_of(product["id"]) == 5
    intent = await shop.intent_at_provider(intent_id_of(payment["client_secret"]))
    assert intent["status"] == "canceled"
    assert (await shop.payment_record(unpaid["id"]))["status"] == "cancelled"
    assert (await shop.order(paid["id"]))["status"] == "paid"
    assert await shop.container.orders().expire_unpaid_orders(timedelta(0)) == 0


async def test_a_payment_that_succeeds_after_its_order_expired_is_refunded_in_full(
    shop: StripeShop, ann: Account
) -> None:
    product = await shop.a_product(price=3100, stock=4)
    order, payment = await shop.place_order(ann, product["id"])
    intent_id = intent_id_of(payment["client_secret"])
    await shop.customer_pays(intent_id)  # at the last second: its event is still on its way

    assert await shop.container.orders().expire_unpaid_orders(timedelta(0)) == 1
    assert await shop.stock_of(product["id"]) == 4
    late = await shop.post_event(await shop.event_about(intent_id))

    assert late.json() == {"received": True, "result": "applied"}
    cancelled = await shop.order(order["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["refunded_amount"] == {"amount": 3100, "currency": "USD"}
    assert await shop.refunded_at_provider(intent_id) == 3100
    assert (await shop.payment_record(order["id"]))["status"] == "refunded"
    assert await shop.stock_of(product["id"]) == 4


async def test_a_webhook_that_needs_the_provider_while_it_is_down_is_503_then_applied(
    shop: StripeShop, ann: Account, provider: SwitchableProvider
) -> None:
    product = await shop.a_product(price=3100)
    order, payment = await shop.place_order(ann, product["id"])
    intent_id = intent_id_of(payment["client_secret"])
    await shop.customer_pays(intent_id)
    assert await shop.container.orders().expire_unpaid_orders(timedelta(0)) == 1
    late = await shop.event_about(intent_id)

    provider.down = True  # the late payment must be refunded, and Stripe cannot be reached
    down = await shop.post_event(late)
    provider.down = False

    assert_problem(down, 503)
    assert (await shop.payment_record(order["id"]))["refunds"] == []
    retried = await shop.post_event(late)
    assert retried.json() == {"received": True, "result": "applied"}
    assert await shop.refunded_at_provider(intent_id) == 3100
