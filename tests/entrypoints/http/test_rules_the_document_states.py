"""Server rules that the OpenAPI document now states, where the server was vaguer than it:
each was found by schemathesis against the exact document."""

from __future__ import annotations

from typing import Any

from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    assert_problem,
    checkout,
    create_product,
    error_fields,
    pay,
    place_order,
    put_in_cart,
)


async def test_a_password_reset_for_a_malformed_address_is_400(client: Client) -> None:
    response = await client.post("/auth/password-reset", json={"email": "not an email"})

    assert error_fields(response) == {"email"}


async def test_an_address_longer_than_254_characters_as_sent_is_refused(client: Client) -> None:
    # Trimmed it would fit; as sent it does not (the document's maxLength is on what is sent).
    padded = " " * 10 + "a" * 240 + "@example.com"
    response = await client.post(
        "/auth/register",
        json={"email": padded, "password": "correct horse battery", "full_name": "Ann"},
    )

    assert error_fields(response) == {"email"}


async def test_an_order_with_nothing_to_pay_for_breaks_a_rule_not_a_field(
    client: Client, staff: Account, customer: Account
) -> None:
    free = await create_product(client, staff, price={"amount": 0, "currency": "USD"})
    await put_in_cart(client, customer, free["id"], 1)

    response = await checkout(client, customer)

    assert assert_problem(response, 422)["type"].endswith(":rule-violation")
    orders = await client.get("/orders", headers=customer.headers)
    assert orders.json()["items"] == []


async def test_refunding_everything_left_when_nothing_is_left_is_422(
    client: Client, container: Container, admin: Account, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])
    refunds = f"/orders/{order['id']}/refunds"
    assert (await client.post(refunds, headers=admin.headers)).status_code == 201

    again = await client.post(refunds, headers=admin.headers)

    assert assert_problem(again, 422)["type"].endswith(":refund-exceeds-payment")


async def test_the_audit_since_filter_takes_rfc_3339_not_a_number(
    client: Client, admin: Account
) -> None:
    number = await client.get("/admin/audit", params={"since": "0.5"}, headers=admin.headers)
    no_such_day = await client.get(
        "/admin/audit", params={"since": "2026-02-30T00:00:00Z"}, headers=admin.headers
    )
    fine = await client.get(
        "/admin/audit", params={"since": "2026-01-01T00:00:00+02:00"}, headers=admin.headers
    )

    assert error_fields(number) == {"since"}
    assert error_fields(no_such_day) == {"since"}
    assert fine.status_code == 200, fine.text
