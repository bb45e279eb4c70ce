"""Forged, stale and misused tokens never get past authentication: all 401."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from adapters.system.clock import FixedClock
from entrypoints.container import Container
from entrypoints.testing import TEST_JWT_SECRET
from tests.entrypoints.http.shop_api import Account, Client, assert_problem


def _claims(container: Container, account: Account, **changes: Any) -> dict[str, Any]:
    settings = container.settings()
    now = int(container.clock().now().timestamp())
    claims: dict[str, Any] = {
        "sub": account.id,
        "role": "admin",
        "typ": "access",
        "jti": "forged",
        "iat": now,
        "exp": now + 600,
        "iss": settings.auth.jwt_issuer,
        "aud": settings.auth.jwt_audience,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


async def _me(client: Client, token: str) -> None:
    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_genuine_token_works(client: Client, customer: Account) -> None:
    assert (await client.get("/users/me", headers=customer.headers)).status_code == 200


async def test_alg_none_is_refused(client: Client, container: Container, customer: Account) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(container, customer))}."

    await _me(client, unsigned)


async def test_a_token_signed_with_another_key_is_refused(
    client: Client, container: Container, customer: Account
) -> None:
    forged = jwt.encode(_claims(container, customer), "another-secret-" * 4, algorithm="HS256")

    await _me(client, forged)


async def test_a_token_with_a_tampered_payload_is_refused(
    client: Client, customer: Account
) -> None:
    header, payload, signature = customer.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"

    await _me(client, f"{header}.{_b64(claims)}.{signature}")


async def test_an_expired_token_is_refused(
    client: Client, container: Container, customer: Account
) -> None:
    clock = container.clock()
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=container.settings().auth.access_token_ttl_seconds + 10))

    await _me(client, customer.access_token)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": None}, id="missing-exp"),
        pytest.param({"aud": "someone-else"}, id="wrong-aud"),
        pytest.param({"iss": "someone-else"}, id="wrong-iss"),
        pytest.param({"typ": None}, id="no-token-type"),
        pytest.param({"sub": "00000000-0000-4000-8000-999999999999"}, id="unknown-user"),
    ],
)
async def test_a_correctly_signed_token_with_bad_claims_is_refused(
    client: Client, container: Container, customer: Account, changes: dict[str, Any]
) -> None:
    token = jwt.encode(_claims(container, customer, **changes), TEST_JWT_SECRET, "HS256")

    await _me(client, token)


async def test_a_refresh_token_is_not_an_access_token(client: Client, customer: Account) -> None:
    await _me(client, customer.refresh_token)


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer not.a.jwt", "Token abc"],
)
async def test_malformed_authorization_headers_are_refused(
    client: Client, authorization: str
) -> None:
    response = await client.get("/users/me", headers={"Authorization": authorization})

    assert_problem(response, 401)


async def test_an_unknown_api_key_is_refused(client: Client) -> None:
    response = await client.get("/orders", headers={"X-API-Key": "hxm_not-a-real-key"})

    assert_problem(response, 401)


async def test_sending_both_credentials_is_refused(client: Client, customer: Account) -> None:
    response = await client.get(
        "/users/me", headers={**customer.headers, "X-API-Key": "hxm_anything"}
    )

    assert_problem(response, 401)
