"""/api-keys: admins issue scoped keys; a key acts with exactly its scopes, never more."""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    a_product,
    assert_problem,
    error_fields,
    issue_api_key,
    login,
    pay,
    place_order,
    promote,
    register,
)


async def test_a_new_key_is_shown_once_and_listed_without_its_secret(
    client: Client, admin: Account
) -> None:
    created = await client.post(
        "/api-keys",
        json={"name": "warehouse", "scopes": ["orders:read", "orders:write"]},
        headers=admin.headers,
    )
    listed = await client.get("/api-keys", headers=admin.headers)

    assert created.status_code == 201
    body = created.json()
    assert set(body) >= {"id", "name", "scopes", "key", "created_at"}
    assert body["scopes"] == ["orders:read", "orders:write"]
    assert body["key"].startswith("hxm_")
    [item] = listed.json()["items"]
    assert item["id"] == body["id"]
    assert "key" not in item
    assert body["key"] not in listed.text


async def test_a_revoked_key_stops_working_at_once(client: Client, admin: Account) -> None:
    headers = await issue_api_key(client, admin, "orders:read")
    [key] = (await client.get("/api-keys", headers=admin.headers)).json()["items"]

    assert (await client.get("/orders", headers=headers)).status_code == 200
    revoked = await client.delete(f"/api-keys/{key['id']}", headers=admin.headers)
    again = await client.delete(f"/api-keys/{key['id']}", headers=admin.headers)

    assert revoked.status_code == 204
    assert_problem(again, 404)
    assert_problem(await client.get("/orders", headers=headers), 401)


@pytest.mark.parametrize(
    ("change", "status"),
    [({"role": "customer"}, 403), ({"role": "staff"}, 403), ({"is_active": False}, 401)],
    ids=["demoted-to-customer", "demoted-to-staff", "deactivated"],
)
async def test_a_key_stops_working_once_its_creator_loses_admin_rights(
    client: Client,
    admin: Account,
    customer: Account,
    mug: dict[str, Any],
    change: dict[str, Any],
    status: int,
) -> None:
    await place_order(client, customer, mug["id"])
    zoe = await promote(client, admin, await register(client, "zoe@example.com"), "admin")
    zoes_key = await issue_api_key(client, zoe, "orders:read")
    roots_key = await issue_api_key(client, admin, "orders:read")
    assert len((await client.get("/orders", headers=zoes_key)).json()["items"]) == 1

    changed = await client.patch(f"/users/{zoe.id}", json=change, headers=admin.headers)

    assert changed.status_code == 200
    refused = await client.get("/orders", headers=zoes_key)
    assert_problem(refused, status)
    assert "creator" in refused.json()["detail"]
    assert_problem(await client.get("/orders/any-order", headers=zoes_key), status)
    assert (await client.get("/orders", headers=roots_key)).status_code == 200


async def test_a_key_stays_refused_when_its_creator_is_made_admin_again(
    client: Client, admin: Account
) -> None:
    zoe = await promote(client, admin, await register(client, "zoe@example.com"), "admin")
    old_key = await issue_api_key(client, zoe, "orders:read")

    for role in ("customer", "admin"):
        changed = await client.patch(f"/users/{zoe.id}", json={"role": role}, headers=admin.headers)
        assert changed.status_code == 200
    zoe = await login(client, zoe.email)
    new_key = await issue_api_key(client, zoe, "orders:read")

    assert_problem(await client.get("/orders", headers=old_key), 403)
    assert (await client.get("/orders", headers=new_key)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "k", "scopes": ["admin"]},
        {"name": "k", "scopes": []},
        {"name": "k", "scopes": ["orders:read"], "created_by": "someone"},
    ],
)
async def test_bad_key_requests_are_refused(
    client: Client, admin: Account, body: dict[str, Any]
) -> None:
    assert_problem(await client.post("/api-keys", json=body, headers=admin.headers), 400)


@pytest.mark.parametrize("who", ["customer", "staff"])
async def test_only_admins_manage_keys(
    client: Client, customer: Account, staff: Account, who: str
) -> None:
    caller = {"customer": customer, "staff": staff}[who]

    for response in [
        await client.post(
            "/api-keys", json={"name": "k", "scopes": ["orders:read"]}, headers=caller.headers
        ),
        await client.get("/api-keys", headers=caller.headers),
        await client.delete("/api-keys/any", headers=caller.headers),
    ]:
        assert_problem(response, 403)


async def test_a_key_cannot_manage_keys_or_users(client: Client, admin: Account) -> None:
    headers = await issue_api_key(
        client, admin, "products:read", "products:write", "orders:read", "orders:write"
    )

    for response in [
        await client.post(
            "/api-keys", json={"name": "k", "scopes": ["orders:read"]}, headers=headers
        ),
        await client.get("/users", headers=headers),
        await client.get("/users/me", headers=headers),
        await client.get("/cart", headers=headers),
        await client.delete("/products/any", headers=headers),
    ]:
        assert_problem(response, 403)


async def test_products_write_scope_maintains_the_catalog(client: Client, admin: Account) -> None:
    writer = await issue_api_key(client, admin, "products:write")
    reader = await issue_api_key(client, admin, "products:read")

    created = await client.post("/products", json=a_product(), headers=writer)
    refused = await client.post("/products", json=a_product(), headers=reader)
    product_id = created.json()["id"]
    changed = await client.patch(f"/products/{product_id}", json={"name": "Cup"}, headers=writer)
    restocked = await client.post(
        f"/products/{product_id}/inventory", json={"delta": 5}, headers=writer
    )
    refused_change = await client.patch(
        f"/products/{product_id}", json={"name": "Cup"}, headers=reader
    )

    assert created.status_code == 201
    assert_problem(refused, 403)
    assert changed.json()["name"] == "Cup"
    assert restocked.json()["inventory_count"] == 15
    assert_problem(refused_change, 403)


async def test_orders_scopes_read_and_fulfil_every_order(
    client: Client,
    container: Container,
    admin: Account,
    customer: Account,
    mug: dict[str, Any],
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])
    reader = await issue_api_key(client, admin, "orders:read")
    writer = await issue_api_key(client, admin, "orders:write")
    catalog_key = await issue_api_key(client, admin, "products:write")

    listed = await client.get("/orders", headers=reader)
    read = await client.get(f"/orders/{order['id']}", headers=reader)
    read_without_scope = await client.get(f"/orders/{order['id']}", headers=catalog_key)
    list_without_scope = await client.get("/orders", headers=catalog_key)
    ship_without_scope = await client.post(f"/orders/{order['id']}/ship", headers=reader)
    shipped = await client.post(
        f"/orders/{order['id']}/ship", json={"tracking_number": "TRACK-1"}, headers=writer
    )
    cancel_by_key = await client.post(f"/orders/{order['id']}/cancel", headers=writer)
    refund_by_key = await client.post(f"/orders/{order['id']}/refunds", json={}, headers=writer)

    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]
    assert read.json()["user_id"] == customer.id
    assert_problem(read_without_scope, 403)
    assert_problem(list_without_scope, 403)
    assert_problem(ship_without_scope, 403)
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["tracking_number"] == "TRACK-1"
    assert_problem(cancel_by_key, 403)
    assert_problem(refund_by_key, 403)


async def test_a_key_cannot_place_orders(client: Client, admin: Account) -> None:
    headers = await issue_api_key(client, admin, "orders:write", "orders:read")

    response = await client.post(
        "/orders",
        json={"shipping_address": {}},
        headers={**headers, "Idempotency-Key": "k"},
    )

    assert_problem(response, 403)


async def test_key_names_are_required(client: Client, admin: Account) -> None:
    response = await client.post(
        "/api-keys", json={"scopes": ["orders:read"]}, headers=admin.headers
    )

    assert error_fields(response) == {"name"}
