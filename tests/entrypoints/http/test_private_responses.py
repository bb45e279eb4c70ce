"""Answers to requests sent with credentials (a bearer token or an API key), errors
included, carry `Cache-Control: no-store`, so no shared cache or browser history keeps one
user's data for the next; anonymous catalog answers keep their caching."""

from __future__ import annotations

from typing import Any

import httpx

from tests.entrypoints.http.shop_api import Account, Client, issue_api_key


def assert_not_stored(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers.get("cache-control") == "no-store", response.headers


async def test_what_a_signed_in_user_reads_is_not_stored(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    assert_not_stored(await client.get("/users/me", headers=customer.headers), 200)
    assert_not_stored(await client.get("/orders", headers=customer.headers), 200)
    assert_not_stored(await client.get("/cart", headers=customer.headers), 200)
    assert_not_stored(await client.get("/products", headers=customer.headers), 200)
    assert_not_stored(await client.get(f"/products/{mug['id']}", headers=customer.headers), 200)


async def test_errors_to_requests_with_credentials_are_not_stored(
    client: Client, customer: Account
) -> None:
    expired = {"Authorization": "Bearer not-a-token"}
    assert_not_stored(await client.get("/users/me", headers=expired), 401)
    assert_not_stored(await client.get("/users", headers=customer.headers), 403)
    assert_not_stored(await client.get("/orders/no-such-order", headers=customer.headers), 404)
    assert_not_stored(await client.get("/no-such-route", headers=customer.headers), 404)
    assert_not_stored(await client.get("/orders", headers={"X-API-Key": "hxm_made-up"}), 401)


async def test_what_an_api_key_reads_is_not_stored(client: Client, admin: Account) -> None:
    reader = await issue_api_key(client, admin, "orders:read")

    assert_not_stored(await client.get("/orders", headers=reader), 200)
    assert_not_stored(await client.get("/products", headers=reader), 200)
    assert_not_stored(await client.post("/api-keys", json={}, headers=reader), 403)


async def test_anonymous_catalog_answers_keep_their_caching(
    client: Client, mug: dict[str, Any]
) -> None:
    for response in (
        await client.get("/products"),
        await client.get(f"/products/{mug['id']}"),
        await client.get("/health/live"),
    ):
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("cache-control", "")
