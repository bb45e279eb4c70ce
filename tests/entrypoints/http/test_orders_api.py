"""/orders: checkout with Idempotency-Key, history, the status machine, cancellation,
refunds and payments, and who may see or touch which order."""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    an_address,
    assert_problem,
    checkout,
    error_fields,
    pay,
    place_order,
    put_in_cart,
)


async def _product(client: Client, product_id: str) -> dict[str, Any]:
    response = await client.get(f"/products/{product_id}")
    product: dict[str, Any] = response.json()
    return product


async def test_checkout_turns_the_cart_into_an_order_and_a_payment(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 3)

    response = await checkout(client, customer, "checkout-1", line2="Flat 2")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"order", "payment"}
    order, payment = body["order"], body["payment"]
    assert {
        "id",
        "number",
        "user_id",
        "status",
        "items",
        "total_amount",
        "refunded_amount",
        "shipping_address",
        "created_at",
        "updated_at",
    } <= set(order)
    assert order["status"] == "pending"
    assert order["user_id"] == customer.id
    assert order["items"] == [
        {
            "product_id": mug["id"],
            "name": "Mug",
            "quantity": 3,
            "unit_price": {"amount": 1200, "currency": "USD"},
            "total_price": {"amount": 3600, "currency": "USD"},
        }
    ]
    assert order["total_amount"] == {"amount": 3600, "currency": "USD"}
    assert order["refunded_amount"] == {"amount": 0, "currency": "USD"}
    assert order["shipping_address"]["line2"] == "Flat 2"
    assert set(payment) == {"id", "status", "client_secret", "provider"}
    assert payment["status"] == "pending"
    assert payment["client_secret"]
    # Stock is reserved and the cart emptied.
    assert (await _product(client, mug["id"]))["inventory_count"] == 7
    assert (await client.get("/cart", headers=customer.headers)).json()["items"] == []


async def test_checkout_needs_an_idempotency_key(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    response = await client.post(
        "/orders", json={"shipping_address": an_address()}, headers=customer.headers
    )

    assert error_fields(response) == {"Idempotency-Key"}


async def test_the_same_key_and_body_return_the_same_order(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 2)

    first = await checkout(client, customer, "same-key")
    second = await checkout(client, customer, "same-key")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert (await _product(client, mug["id"]))["inventory_count"] == 8
    orders = (await client.get("/orders", headers=customer.headers)).json()["items"]
    assert len(orders) == 1


async def test_the_same_key_with_another_body_is_409(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)
    await checkout(client, customer, "same-key")

    response = await checkout(client, customer, "same-key", city="Shelbyville")

    assert assert_problem(response, 409)["type"].endswith("idempotency-key-reused")


async def test_an_empty_cart_cannot_be_ordered(client: Client, customer: Account) -> None:
    response = await checkout(client, customer)

    assert assert_problem(response, 409)["type"].endswith("empty-cart")


async def test_an_order_for_more_than_is_in_stock_is_409(
    client: Client,
    staff: Account,
    customer: Account,
    other_customer: Account,
    mug: dict[str, Any],
) -> None:
    await put_in_cart(client, customer, mug["id"], 8)
    await put_in_cart(client, other_customer, mug["id"], 8)
    await checkout(client, other_customer)

    response = await checkout(client, customer)

    assert assert_problem(response, 409)["type"].endswith("out-of-stock")
    assert (await _product(client, mug["id"]))["inventory_count"] == 2


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({"country": "USA"}, "country"),
        ({"name": ""}, "name"),
        ({"user_id": "someone-else"}, "shipping_address.user_id"),
    ],
)
async def test_a_bad_address_is_400(
    client: Client,
    customer: Account,
    mug: dict[str, Any],
    address: dict[str, Any],
    field: str,
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    response = await checkout(client, customer, **address)

    assert error_fields(response) == {field}


async def test_a_checkout_body_may_not_set_status_or_totals(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    response = await client.post(
        "/orders",
        json={"shipping_address": an_address(), "status": "paid"},
        headers={**customer.headers, "Idempotency-Key": "k"},
    )

    assert error_fields(response) == {"status"}


async def test_users_see_their_own_orders_newest_first_and_staff_see_all(
    client: Client,
    staff: Account,
    customer: Account,
    other_customer: Account,
    mug: dict[str, Any],
) -> None:
    first = await place_order(client, customer, mug["id"], key="a")
    second = await place_order(client, customer, mug["id"], key="b")
    others = await place_order(client, other_customer, mug["id"], key="c")

    mine = (await client.get("/orders", headers=customer.headers)).json()
    everyone = (await client.get("/orders", headers=staff.headers)).json()

    assert [o["id"] for o in mine["items"]] == [second["id"], first["id"]]
    assert {o["id"] for o in everyone["items"]} == {first["id"], second["id"], others["id"]}


async def test_orders_filter_by_status_and_paginate(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    paid = await place_order(client, customer, mug["id"], key="a")
    pending = await place_order(client, customer, mug["id"], key="b")
    await pay(container, paid["id"])

    only_paid = await client.get("/orders", params={"status": "paid"}, headers=customer.headers)
    page = await client.get("/orders", params={"limit": 1}, headers=customer.headers)
    rest = await client.get(
        "/orders",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=customer.headers,
    )
    bad = await client.get("/orders", params={"status": "lost"}, headers=customer.headers)

    assert [o["id"] for o in only_paid.json()["items"]] == [paid["id"]]
    assert [o["id"] for o in page.json()["items"]] == [pending["id"]]
    assert [o["id"] for o in rest.json()["items"]] == [paid["id"]]
    assert error_fields(bad) == {"status"}


async def test_another_users_order_does_not_exist_for_you(
    client: Client,
    container: Container,
    customer: Account,
    other_customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, other_customer, mug["id"])
    url = f"/orders/{order['id']}"

    for response in [
        await client.get(url, headers=customer.headers),
        await client.post(f"{url}/cancel", headers=customer.headers),
        await client.get(f"{url}/payments", headers=customer.headers),
    ]:
        body = assert_problem(response, 404)
        assert body["detail"] == f"order {order['id']} not found"
    assert (await client.get(url, headers=other_customer.headers)).json()["status"] == "pending"
    # Paying for it is not possible either: checkout only ever orders your own cart.
    assert_problem(await checkout(client, customer, "pay-for-bob"), 409)


async def test_cancelling_a_pending_order_releases_its_stock(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"], 4)

    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)
    again = await client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)

    assert cancelled.json()["status"] == "cancelled"
    assert assert_problem(again, 409)["type"].endswith("illegal-transition")
    assert (await _product(client, mug["id"]))["inventory_count"] == 10


async def test_cancelling_a_paid_order_refunds_it(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"], 2)
    await pay(container, order["id"])

    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)

    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded_amount"] == {"amount": 2400, "currency": "USD"}


async def test_the_order_life_pending_paid_shipped_delivered(
    client: Client,
    container: Container,
    staff: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"])
    url = f"/orders/{order['id']}"

    ship_unpaid = await client.post(f"{url}/ship", headers=staff.headers)
    await pay(container, order["id"])
    deliver_unshipped = await client.post(f"{url}/deliver", headers=staff.headers)
    shipped = await client.post(
        f"{url}/ship", json={"tracking_number": "1Z"}, headers=staff.headers
    )
    cancel_shipped = await client.post(f"{url}/cancel", headers=customer.headers)
    delivered = await client.post(f"{url}/deliver", headers=staff.headers)
    deliver_again = await client.post(f"{url}/deliver", headers=staff.headers)

    assert_problem(ship_unpaid, 409)
    assert_problem(deliver_unshipped, 409)
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["tracking_number"] == "1Z"
    assert_problem(cancel_shipped, 409)
    assert delivered.json()["status"] == "delivered"
    assert_problem(deliver_again, 409)
    seen = await client.get(url, headers=customer.headers)
    assert seen.json()["status"] == "delivered"


async def test_customers_cannot_fulfil_or_refund(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])
    url = f"/orders/{order['id']}"

    for response in [
        await client.post(f"{url}/ship", headers=customer.headers),
        await client.post(f"{url}/deliver", headers=customer.headers),
        await client.post(f"{url}/refunds", json={}, headers=customer.headers),
    ]:
        assert_problem(response, 403)


async def test_refunds_are_for_admins_and_never_exceed_what_was_paid(
    client: Client,
    container: Container,
    admin: Account,
    staff: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"], 2)
    url = f"/orders/{order['id']}/refunds"

    unpaid = await client.post(url, json={}, headers=admin.headers)
    await pay(container, order["id"])
    by_staff = await client.post(url, json={}, headers=staff.headers)
    partial = await client.post(
        url,
        json={"amount": {"amount": 1000, "currency": "USD"}, "reason": "chipped"},
        headers=admin.headers,
    )
    too_much = await client.post(
        url, json={"amount": {"amount": 1401, "currency": "USD"}}, headers=admin.headers
    )
    wrong_currency = await client.post(
        url, json={"amount": {"amount": 1, "currency": "EUR"}}, headers=admin.headers
    )
    rest = await client.post(url, headers=admin.headers)

    assert_problem(unpaid, 409)
    assert_problem(by_staff, 403)
    assert partial.status_code == 201
    assert partial.json()["refunded_amount"] == {"amount": 1000, "currency": "USD"}
    assert assert_problem(too_much, 422)["type"].endswith("refund-exceeds-payment")
    assert error_fields(wrong_currency) == {"amount.currency"}
    assert rest.json()["refunded_amount"] == {"amount": 2400, "currency": "USD"}
    payments = (
        await client.get(f"/orders/{order['id']}/payments", headers=customer.headers)
    ).json()
    [payment] = payments["items"]
    assert payment["status"] == "refunded"
    assert [r["amount"]["amount"] for r in payment["refunds"]] == [1000, 1400]
    assert payment["refunds"][0]["reason"] == "chipped"


async def test_a_new_refund_after_a_lost_one_is_a_conflict_that_records_the_lost_one(
    client: Client,
    container: Container,
    admin: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"], 2)
    await pay(container, order["id"])
    url = f"/orders/{order['id']}/refunds"
    container.payment_gateway().lose_next_response()  # the provider refunds; we never hear

    lost = await client.post(
        url, json={"amount": {"amount": 1000, "currency": "USD"}}, headers=admin.headers
    )
    other_amount = await client.post(
        url, json={"amount": {"amount": 500, "currency": "USD"}}, headers=admin.headers
    )
    payments_then = (
        await client.get(f"/orders/{order['id']}/payments", headers=admin.headers)
    ).json()
    sent_again = await client.post(
        url, json={"amount": {"amount": 500, "currency": "USD"}}, headers=admin.headers
    )

    assert_problem(lost, 503)
    body = assert_problem(other_amount, 409)
    assert body["type"] == "urn:hexmart:problem:earlier-refund-recovered"
    assert "earlier refund of 1000 USD" in body["detail"]
    assert "1400 USD is left to refund" in body["detail"]
    assert "send the request again" in body["detail"]
    [payment] = payments_then["items"]
    assert payment["status"] == "partially_refunded"
    assert [r["amount"]["amount"] for r in payment["refunds"]] == [1000]
    assert sent_again.status_code == 201
    assert sent_again.json()["refunded_amount"] == {"amount": 1500, "currency": "USD"}


async def test_payments_show_the_client_secret_to_the_owner_only(
    client: Client, staff: Account, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)
    placed = (await checkout(client, customer)).json()
    url = f"/orders/{placed['order']['id']}/payments"

    own = (await client.get(url, headers=customer.headers)).json()["items"]
    staff_view = (await client.get(url, headers=staff.headers)).json()["items"]

    assert own[0]["id"] == placed["payment"]["id"]
    assert own[0]["client_secret"] == placed["payment"]["client_secret"]
    assert own[0]["amount"] == {"amount": 1200, "currency": "USD"}
    assert staff_view[0]["client_secret"] is None


async def test_a_payment_provider_outage_is_503_and_a_retry_finishes_the_order(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    gateway = container.payment_gateway()
    await put_in_cart(client, customer, mug["id"], 1)

    gateway.go_down()
    down = await checkout(client, customer, "retry-me")
    gateway.come_back()
    retried = await checkout(client, customer, "retry-me")

    body = assert_problem(down, 503)
    assert "fake" not in body["detail"]
    assert retried.status_code == 201
    assert retried.json()["payment"]["client_secret"]


async def test_orders_need_credentials(client: Client) -> None:
    for response in [
        await client.get("/orders"),
        await client.get("/orders/x"),
        await client.post("/orders", json={}, headers={"Idempotency-Key": "k"}),
        await client.post("/orders/x/cancel"),
        await client.post("/orders/x/ship"),
        await client.post("/orders/x/deliver"),
        await client.post("/orders/x/refunds", json={}),
        await client.get("/orders/x/payments"),
    ]:
        assert_problem(response, 401)


async def test_staff_and_admins_read_and_cancel_anyones_order(
    client: Client,
    admin: Account,
    staff: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"], 2)
    url = f"/orders/{order['id']}"

    read_by_staff = await client.get(url, headers=staff.headers)
    payments_by_admin = await client.get(f"{url}/payments", headers=admin.headers)
    cancelled_by_staff = await client.post(f"{url}/cancel", headers=staff.headers)

    assert read_by_staff.json()["user_id"] == customer.id
    assert payments_by_admin.json()["items"][0]["status"] == "pending"
    assert cancelled_by_staff.json()["status"] == "cancelled"
    assert (await _product(client, mug["id"]))["inventory_count"] == 10
