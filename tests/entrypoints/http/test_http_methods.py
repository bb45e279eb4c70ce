"""HEAD, OPTIONS and 405 as HTTP (RFC 9110) says: HEAD is GET without the body, OPTIONS
and a 405 name in `Allow` every method the path serves."""

from __future__ import annotations

import pytest

from tests.entrypoints.http.shop_api import Account, Client


async def test_head_is_get_without_the_body(client: Client) -> None:
    got = await client.get("/health/live")
    head = await client.head("/health/live")

    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_head_goes_through_the_same_guards_as_get(client: Client, customer: Account) -> None:
    assert (await client.head("/cart")).status_code == 401
    assert (await client.head("/cart", headers=customer.headers)).status_code == 200


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/health/live", "GET, HEAD, OPTIONS"),
        # GET and POST /api-keys are two handlers: Litestar's own OPTIONS named one.
        ("/api-keys", "GET, HEAD, OPTIONS, POST"),
        ("/cart", "DELETE, GET, HEAD, OPTIONS"),
        ("/users/me", "GET, HEAD, OPTIONS, PATCH"),
        ("/orders/some-order", "GET, HEAD, OPTIONS"),
        ("/auth/login", "OPTIONS, POST"),
    ],
)
async def test_options_and_405_name_every_method_of_the_path(
    client: Client, admin: Account, path: str, allowed: str
) -> None:
    options = await client.options(path, headers=admin.headers)
    refused = await client.request("TRACE", path, headers=admin.headers)

    assert options.status_code == 204
    assert options.headers["allow"] == allowed
    assert refused.status_code == 405
    assert refused.headers["allow"] == allowed
    assert refused.headers["content-type"] == "application/problem+json"
