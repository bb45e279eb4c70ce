"""GET /admin/audit and the history in GET /orders/{id}: every administrative action is
recorded with who made it, and an order tells its status changes."""

from __future__ import annotations

from typing import Any

from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    assert_problem,
    create_product,
    pay,
    place_order,
)


async def audit(client: Client, admin: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/admin/audit", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_admin_actions_are_recorded_with_actor_target_and_request_id(
    client: Client, admin: Account, staff: Account
) -> None:
    product = await create_product(client, staff, sku="MUG-1")
    await client.post(
        f"/products/{product['id']}/inventory",
        json={"delta": 4},
        headers={**staff.headers, "X-Request-ID": "req-42"},
    )

    entries = await audit(client, admin)
    actions = [e["action"] for e in entries]

    # Newest first: the adjustment, the product, staff's promotion (a role change).
    assert actions[:3] == ["product.adjust_inventory", "product.create", "user.set_role"]
    adjusted = entries[0]
    assert adjusted["actor"]["user_id"] == staff.id
    assert adjusted["actor"]["name"] == f"user:{staff.id}"
    assert (adjusted["target_type"], adjusted["target_id"]) == ("product", product["id"])
    assert adjusted["summary"]["delta"] == 4
    assert adjusted["request_id"] == "req-42"
    assert entries[2]["summary"] == {"role": "staff", "is_active": None}
    assert [e["action"] for e in await audit(client, admin, target=product["id"])] == [
        "product.adjust_inventory",
        "product.create",
    ]
    assert {e["actor"]["user_id"] for e in await audit(client, admin, actor=staff.id)} == {staff.id}


async def test_api_keys_are_audited_without_the_key(client: Client, admin: Account) -> None:
    made = await client.post(
        "/api-keys", json={"name": "partner", "scopes": ["orders:read"]}, headers=admin.headers
    )
    issued = made.json()
    await client.delete(f"/api-keys/{issued['id']}", headers=admin.headers)

    entries = await audit(client, admin)

    assert [e["action"] for e in entries[:2]] == ["api_key.revoke", "api_key.create"]
    assert issued["key"] not in str(entries)
    assert entries[1]["summary"]["scopes"] == ["orders:read"]


async def test_the_audit_trail_is_for_admins_and_paginated(
    client: Client, admin: Account, staff: Account, customer: Account
) -> None:
    for n in range(3):
        await create_product(client, staff, sku=f"S-{n}")
    assert_problem(await client.get("/admin/audit", headers=staff.headers), 403)
    assert_problem(await client.get("/admin/audit", headers=customer.headers), 403)
    assert_problem(await client.get("/admin/audit"), 401)
    assert_problem(
        await client.get("/admin/audit", params={"since": "yesterday"}, headers=admin.headers),
        400,
    )

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/admin/audit", params=params, headers=admin.headers)).json()
        seen.extend(e["id"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Three products, staff's promotion, and the first admin made at start-up.
    assert len(seen) == len(set(seen)) == 5


async def test_an_order_tells_its_history_with_actors(
    client: Client,
    container: Container,
    admin: Account,
    staff: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"], 2)
    await pay(container, order["id"])
    await client.post(
        f"/orders/{order['id']}/ship", json={"tracking_number": "T1"}, headers=staff.headers
    )
    await client.post(
        f"/orders/{order['id']}/refunds",
        json={"amount": {"amount": 100, "currency": "USD"}, "reason": "scratch"},
        headers=admin.headers,
    )

    for_staff = (await client.get(f"/orders/{order['id']}", headers=staff.headers)).json()
    for_owner = (await client.get(f"/orders/{order['id']}", headers=customer.headers)).json()

    assert [(h["event"], h["status"], h["actor"]) for h in for_staff["history"]] == [
        ("placed", "pending", f"user:{customer.id}"),
        ("paid", "paid", "system"),
        ("shipped", "shipped", f"user:{staff.id}"),
        ("refunded", "shipped", f"user:{admin.id}"),
    ]
    assert [h["actor"] for h in for_owner["history"]] == ["customer", "shop", "shop", "shop"]
    assert (
        "history" not in (await client.get("/orders", headers=customer.headers)).json()["items"][0]
    )
    refunded = [
        e for e in await audit(client, admin, target=order["id"]) if e["action"] == "order.refunded"
    ]
    assert refunded[0]["summary"] == {"status": "shipped", "amount": "100 USD", "reason": "scratch"}


async def test_a_cancellation_by_the_customer_is_in_the_history(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)

    history = (await client.get(f"/orders/{order['id']}", headers=customer.headers)).json()[
        "history"
    ]

    assert [(h["event"], h["status"], h["actor"]) for h in history] == [
        ("placed", "pending", "customer"),
        ("cancelled", "cancelled", "customer"),
    ]
