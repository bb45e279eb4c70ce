"""POST /webhooks/stripe end to end: localstripe delivers real signed events to the app on
a loopback port, and the test posts events it builds and signs itself (Stripe's scheme)
for what localstripe cannot show: duplicates, forgeries, stale or reordered events."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from dependency_injector import providers

from adapters.sql.engine import create_engine
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from domain.payments import PaymentStatus
from tests.entrypoints.http.shop_api import Account, assert_problem, register
from tests.payments.conftest import WEBHOOK_TOLERANCE_SECONDS
from tests.payments.stripe_shop import StripeShop, intent_id_of, sign
from tests.polling import eventually
from tests.stripe_server import closed_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def ann(shop: StripeShop) -> Account:
    return await register(shop.client, "ann@example.com", "Ann Archer")


async def _pending_order(shop: StripeShop, ann: Account) -> tuple[dict[str, Any], str]:
    """A placed order and the id of its intent at localstripe."""
    product = await shop.a_product(price=2500)
    order, payment = await shop.place_order(ann, product["id"])
    assert payment["provider"] == "stripe"
    assert payment["status"] == "pending"
    return order, intent_id_of(payment["client_secret"])


async def test_the_providers_webhook_marks_the_order_paid(shop: StripeShop, ann: Account) -> None:
    shop.deliver_webhooks()
    product = await shop.a_product(price=2500)
    order, payment = await shop.place_order(ann, product["id"])
    intent = await shop.intent_at_provider(intent_id_of(payment["client_secret"]))
    assert (intent["amount"], intent["currency"]) == (2500, "usd")
    assert intent["metadata"] == {"order_id": order["id"]}

    await shop.customer_pays(intent_id_of(payment["client_secret"]))

    paid = await eventually(lambda: shop.order(order["id"]), lambda o: o["status"] == "paid")
    assert paid["total_amount"] == {"amount": 2500, "currency": "USD"}
    assert (await shop.payment_record(order["id"]))["status"] == "completed"
    assert await shop.outbox_events("order_paid", order["id"]) == 1


async def test_the_same_event_delivered_twice_at_once_is_applied_once(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    await shop.customer_pays(intent_id)
    event = await shop.event_about(intent_id, event_id="evt_twice")
    headers = shop.signed(event)

    first, second = await asyncio.gather(
        shop.post_event(event, headers), shop.post_event(event, headers)
    )

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert sorted([first.json()["result"], second.json()["result"]]) == ["applied", "duplicate"]
    assert first.json()["received"] is True
    again = await shop.post_event(event)
    assert (again.status_code, again.json()) == (200, {"received": True, "result": "duplicate"})
    assert (await shop.order(order["id"]))["status"] == "paid"
    assert await shop.outbox_events("order_paid", order["id"]) == 1


async def test_forged_stale_unsigned_or_reserialised_events_are_refused_and_change_nothing(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    await shop.customer_pays(intent_id)
    event = await shop.event_about(intent_id, event_id="evt_refused_at_first")
    reserialised = json.dumps(json.loads(event)).encode()
    assert reserialised != event

    refused = [
        await shop.post_event(event, {"Stripe-Signature": sign(event, "whsec_forged")}),
        await shop.post_event(
            event, shop.signed(event, age_seconds=WEBHOOK_TOLERANCE_SECONDS + 60)
        ),
        await shop.post_event(event, {"Content-Type": "application/json"}),
        await shop.post_event(reserialised, shop.signed(event)),
        await shop.post_event(event, {"Stripe-Signature": "t=1,v1=nothex"}),
    ]

    for response in refused:
        body = assert_problem(response, 400)
        assert body["type"] == "urn:hexmart:problem:invalid-webhook"
    assert (await shop.order(order["id"]))["status"] == "pending"
    assert (await shop.payment_record(order["id"]))["status"] == "pending"
    # Nothing was recorded either: the genuine delivery of that same event still applies.
    genuine = await shop.post_event(event)
    assert genuine.json() == {"received": True, "result": "applied"}
    assert (await shop.order(order["id"]))["status"] == "paid"


async def test_a_signature_header_with_several_v1_entries_is_accepted_if_one_matches(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    await shop.customer_pays(intent_id)
    event = await shop.event_about(intent_id)
    # While a secret is rolled Stripe sends one v1 per active secret, in any order.
    now = int(time.time())
    ours = sign(event, shop.webhook_secret, timestamp=now).split(",v1=")[1]
    retired = sign(event, "whsec_retired", timestamp=now).split(",v1=")[1]

    response = await shop.post_event(event, {"Stripe-Signature": f"t={now},v1={retired},v1={ours}"})

    assert response.status_code == 200, response.text
    assert (await shop.order(order["id"]))["status"] == "paid"


async def test_a_failure_reported_after_the_success_leaves_the_order_paid(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    declined = await shop.event_about(
        intent_id,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        last_payment_error={"code": "card_declined"},
    )
    await shop.customer_pays(intent_id)
    succeeded = await shop.event_about(intent_id)

    assert (await shop.post_event(succeeded)).json()["result"] == "applied"
    late = await shop.post_event(declined)

    assert late.status_code == 200, late.text
    assert late.json()["result"] == "no_change"
    assert (await shop.order(order["id"]))["status"] == "paid"
    assert (await shop.payment_record(order["id"]))["status"] == "completed"
    assert await shop.outbox_events("payment_failed", order["id"]) == 0


@pytest.mark.parametrize(
    "changes",
    [{"amount": 1}, {"amount": 250_000}, {"currency": "eur"}],
    ids=["less", "more", "other currency"],
)
async def test_an_intent_whose_amount_differs_from_the_order_is_not_accepted(
    shop: StripeShop, ann: Account, changes: dict[str, Any]
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    await shop.customer_pays(intent_id)
    tampered = await shop.event_about(intent_id, **changes)

    response = await shop.post_event(tampered)

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "rejected"
    assert (await shop.order(order["id"]))["status"] == "pending"
    payment = await shop.stored_payment(order["id"])
    assert payment.status is PaymentStatus.PENDING
    assert await shop.outbox_events("order_paid", order["id"]) == 0


async def test_an_event_about_something_we_do_not_track_is_acknowledged(
    shop: StripeShop,
) -> None:
    event = json.dumps(
        {
            "id": "evt_customer",
            "object": "event",
            "type": "customer.created",
            "created": 1_700_000_000,
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    ).encode()
    response = await shop.post_event(event)
    assert (response.status_code, response.json()) == (
        200,
        {"received": True, "result": "no_change"},
    )


async def test_a_webhook_body_over_the_size_limit_is_refused(shop: StripeShop) -> None:
    limit = shop.container.settings().http.max_request_body_bytes
    body = b'{"pad": "' + b"x" * limit + b'"}'
    response = await shop.post_event(body)
    assert_problem(response, 413)


async def test_a_webhook_while_the_database_is_down_is_503_so_stripe_retries(
    shop: StripeShop, ann: Account
) -> None:
    order, intent_id = await _pending_order(shop, ann)
    await shop.customer_pays(intent_id)
    event = await shop.event_about(intent_id)
    container = shop.container
    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/hexmart")
    container.payment_events.reset()
    container.unit_of_work.override(
        providers.Object(
            sql_unit_of_work_factory(dead, ids=container.ids(), clock=container.clock())
        )
    )
    try:
        down = await shop.post_event(event)
    finally:
        container.unit_of_work.reset_override()
        container.payment_events.reset()
        await dead.dispose()

    body = assert_problem(down, 503)
    assert "psycopg" not in down.text
    assert "127.0.0.1" not in body["detail"]
    retried = await shop.post_event(event)
    assert retried.json() == {"received": True, "result": "applied"}
    assert (await shop.order(order["id"]))["status"] == "paid"
