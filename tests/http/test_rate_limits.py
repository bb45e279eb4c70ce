"""Rate limits: 429 with Retry-After once a client goes over a limit; who "a client" is
cannot be chosen by the client (X-Forwarded-For counts only from a trusted proxy); and
with Redis, every app process counts in the same buckets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar import Litestar

from adapters.redis_store.rate_limiter import RedisRateLimiter
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.http.shop_api import PASSWORD, Client, assert_problem, register, serving
from tests.real_services import SHARED_REDIS_URL, shared_redis

PROXY = "10.0.0.2"
STRANGER = "203.0.113.9"

LIMITS: dict[str, Any] = {
    "rate_limit_login_per_ip": 3,
    "rate_limit_login_per_account": 100,
    "rate_limit_register_per_ip": 2,
    "rate_limit_password_reset_per_ip": 2,
    "rate_limit_general_per_client": 1000,
    "trusted_proxies": ("10.0.0.0/8",),
}


def a_shop(**limits: Any) -> Container:
    return in_memory_container(settings_for_tests(**{**LIMITS, **limits}))


def client_at(app: Litestar, address: str) -> Client:
    """A client whose requests come from the socket address `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


@contextlib.asynccontextmanager
async def running(shop: Container) -> AsyncIterator[Litestar]:
    app = create_app(shop, background_jobs=False)
    async with serving(app):
        yield app


async def login(client: Client, email: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/auth/login", json={"email": email, "password": PASSWORD}, headers=headers
    )


def assert_rate_limited(response: httpx.Response) -> None:
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_login_over_the_per_ip_limit_is_429_with_retry_after() -> None:
    async with running(a_shop()) as app, client_at(app, STRANGER) as client:
        answers = [await login(client, f"user{n}@example.com") for n in range(3)]
        refused = await login(client, "user9@example.com")

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert_rate_limited(refused)
    assert refused.json()["instance"] == "/auth/login"


async def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_limit() -> None:
    async with running(a_shop()) as app, client_at(app, STRANGER) as client:
        answers = [
            await login(client, f"user{n}@example.com", **{"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(4)
        ]

    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert_rate_limited(answers[3])


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket() -> None:
    async with running(a_shop()) as app, client_at(app, PROXY) as proxy:

        async def via_proxy(forwarded_for: str, n: int) -> int:
            answer = await login(proxy, f"u{n}@example.com", **{"X-Forwarded-For": forwarded_for})
            return answer.status_code

        first = [await via_proxy("198.51.100.1", n) for n in range(4)]
        second = [await via_proxy("198.51.100.2", n) for n in range(3)]
        # The client wrote the left-most address itself: it is not believed.
        spoofed = await via_proxy("192.0.2.55, 198.51.100.1", 9)
        # A second trusted proxy in the chain is skipped over to the client it saw.
        chained = await via_proxy("198.51.100.1, 10.1.1.1", 9)

    assert first == [401, 401, 401, 429]
    assert second == [401, 401, 401]
    assert spoofed == 429
    assert chained == 429


async def test_the_per_account_login_limit_holds_across_ip_addresses() -> None:
    shop = a_shop(rate_limit_login_per_ip=100, rate_limit_login_per_account=2)
    async with running(shop) as app:
        answers = []
        for n in range(3):
            async with client_at(app, f"203.0.113.{n + 1}") as client:
                answers.append(await login(client, "Ann@Example.com" if n else "ann@example.com"))
        async with client_at(app, "203.0.113.50") as client:
            someone_else = await login(client, "bob@example.com")

    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_rate_limited(answers[2])
    assert someone_else.status_code == 401


async def test_look_alike_spellings_of_an_email_share_its_login_limit() -> None:
    shop = a_shop(rate_limit_login_per_ip=100, rate_limit_login_per_account=2)
    spellings = ["ann@example.com", "\uff41\uff4e\uff4e@example.com", "ANN@example.com"]
    async with running(shop) as app:
        answers = []
        for n, spelling in enumerate(spellings):
            async with client_at(app, f"203.0.113.{n + 1}") as client:
                answers.append(await login(client, spelling))

    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_rate_limited(answers[2])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", {"email": "{}", "password": PASSWORD, "full_name": "A"}),
        ("/auth/password-reset", {"email": "{}"}),
    ],
    ids=["register", "password-reset"],
)
async def test_sign_up_and_password_reset_are_limited_per_ip(
    path: str, body: dict[str, str]
) -> None:
    async with running(a_shop()) as app, client_at(app, STRANGER) as client:
        answers = []
        for n in range(3):
            filled = {k: v.format(f"user{n}@example.com") for k, v in body.items()}
            answers.append(await client.post(path, json=filled))

    assert all(a.status_code < 400 for a in answers[:2]), [a.text for a in answers]
    assert_rate_limited(answers[2])


async def test_the_general_limit_counts_anonymous_clients_by_ip_and_users_by_account() -> None:
    shop = a_shop(rate_limit_general_per_client=5)
    async with running(shop) as app, client_at(app, STRANGER) as client:
        ann = await register(client, "ann@example.com")  # 1 request of this IP
        anonymous = [(await client.get("/products")).status_code for _ in range(5)]
        # Ann, signed in, from the same address: her own bucket.
        signed_in = [
            (await client.get("/users/me", headers=ann.headers)).status_code for _ in range(5)
        ]
        ann_again = await client.get("/users/me", headers=ann.headers)
        probes = [(await client.get("/health/live")).status_code for _ in range(10)]
        metrics = await client.get("/metrics")
        webhook = await client.post("/webhooks/stripe", content=b"{}")

    assert anonymous == [200, 200, 200, 200, 429]
    assert signed_in == [200] * 5
    assert_rate_limited(ann_again)
    assert probes == [200] * 10
    assert metrics.status_code == 200
    assert webhook.status_code == 400  # its signature is its gate, not a rate limit


async def test_a_limit_of_zero_is_no_limit() -> None:
    shop = a_shop(rate_limit_login_per_ip=0, rate_limit_general_per_client=0)
    async with running(shop) as app, client_at(app, STRANGER) as client:
        answers = {(await login(client, f"user{n}@example.com")).status_code for n in range(12)}

    assert answers == {401}


@pytest.mark.integration
async def test_with_redis_two_app_processes_share_one_bucket_per_client() -> None:
    async with shared_redis() as (redis, prefix):
        apps = []
        for _ in range(2):
            shop = a_shop(redis_url=SHARED_REDIS_URL)
            # Each app its own limiter and connection, both in this test's key space.
            shop.rate_limiter.override(
                providers.Object(RedisRateLimiter(shop.redis_client(), prefix=prefix))
            )
            apps.append(shop)
        async with (
            running(apps[0]) as first,
            running(apps[1]) as second,
            client_at(first, STRANGER) as to_first,
            client_at(second, STRANGER) as to_second,
        ):
            answers = [
                (await login(to_first if n % 2 else to_second, f"u{n}@example.com")).status_code
                for n in range(3)
            ]
            refused = await login(to_first, "u9@example.com")
            refused_too = await login(to_second, "u9@example.com")
            assert await redis.keys(f"{prefix}rate:*")

    assert answers == [401, 401, 401]
    assert_rate_limited(refused)
    assert_rate_limited(refused_too)
