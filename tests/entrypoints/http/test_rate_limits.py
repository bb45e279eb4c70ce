"""Rate limits: 429 with Retry-After once a client goes over a limit; who "a client" is
cannot be chosen by the client (X-Forwarded-For counts only from a trusted proxy); and
with Redis, every app process counts in the same buckets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar import Litestar

from adapters.redis_store.cache import RedisCache
from adapters.redis_store.rate_limiter import RedisRateLimiter
from adapters.system.clock import FixedClock
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import PASSWORD, Client, assert_problem, register, serving
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
        metrics = (await client.get("/metrics")).text

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert_rate_limited(refused)
    assert refused.json()["instance"] == "/auth/login"
    assert 'hexmart_rate_limit_refusals_total{rule="login:ip"} 1.0' in metrics


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


OWNER = "198.51.100.7"
ATTACKERS = [f"203.0.113.{n}" for n in range(1, 20)]


async def sign_in(app: Litestar, address: str, email: str, password: str) -> int:
    async with client_at(app, address) as client:
        answer = await client.post("/auth/login", json={"email": email, "password": password})
    if answer.status_code == 429:
        assert_rate_limited(answer)
    return answer.status_code


async def test_wrong_guesses_from_elsewhere_do_not_lock_the_owner_out() -> None:
    shop = a_shop(rate_limit_login_per_ip=100, rate_limit_login_per_account=5)
    async with running(shop) as app:
        async with client_at(app, OWNER) as owner:
            await register(owner, "ann@example.com")
        guesses = [
            await sign_in(app, ATTACKERS[0], "ann@example.com", f"guess number {n}")
            for n in range(6)
        ]
        # The guessing client is refused for this account, even with the right password.
        attacker_right = await sign_in(app, ATTACKERS[0], "Ann@Example.com", PASSWORD)
        owner_right = await sign_in(app, OWNER, "ann@example.com", PASSWORD)
        someone_else = await sign_in(app, ATTACKERS[0], "bob@example.com", "a guess for bob")

    assert guesses == [401] * 5 + [429]
    assert attacker_right == 429
    assert owner_right == 200
    assert someone_else == 401


async def test_only_failed_sign_ins_count_per_account() -> None:
    shop = a_shop(rate_limit_login_per_ip=100, rate_limit_login_per_account=2)
    async with running(shop) as app:
        async with client_at(app, OWNER) as owner:
            await register(owner, "ann@example.com")
        answers = [await sign_in(app, OWNER, "ann@example.com", PASSWORD) for _ in range(6)]
        one_typo = await sign_in(app, OWNER, "ann@example.com", "a typo in it")
        after_typo = await sign_in(app, OWNER, "ann@example.com", PASSWORD)

    assert answers == [200] * 6
    assert (one_typo, after_typo) == (401, 200)


async def test_guessing_from_many_addresses_is_bounded_but_a_known_client_gets_in() -> None:
    shop = a_shop(
        rate_limit_login_per_ip=100,
        rate_limit_login_per_account=2,
        rate_limit_login_failures_per_account=6,
    )
    async with running(shop) as app:
        async with client_at(app, OWNER) as owner:
            await register(owner, "ann@example.com")
        assert await sign_in(app, OWNER, "ann@example.com", PASSWORD) == 200  # now known
        guesses = [
            await sign_in(app, address, "ann@example.com", f"guess from {address}")
            for address in ATTACKERS[:3]
            for _ in range(2)
        ]
        # Six failures from everywhere: a client the account never signed in from is
        # refused, whatever it sends; the owner's usual client still gets in.
        fresh_attacker = await sign_in(app, ATTACKERS[3], "ann@example.com", "yet another")
        new_device_right = await sign_in(app, ATTACKERS[4], "ann@example.com", PASSWORD)
        owner_right = await sign_in(app, OWNER, "ann@example.com", PASSWORD)

    assert guesses == [401] * 6
    assert fresh_attacker == 429
    assert new_device_right == 429
    assert owner_right == 200


async def test_a_patient_guesser_backs_off_geometrically() -> None:
    shop = a_shop(rate_limit_login_per_ip=1000, rate_limit_login_per_account=3)
    window = timedelta(seconds=shop.settings().rate_limits.window_seconds)
    clock = shop.clock()
    assert isinstance(clock, FixedClock)
    async with running(shop) as app, client_at(app, ATTACKERS[0]) as attacker:

        async def guesses(n: int) -> list[int]:
            body = {"email": "ann@example.com", "password": "not the password"}
            return [(await attacker.post("/auth/login", json=body)).status_code for _ in range(n)]

        first = await guesses(4)
        clock.advance(window)
        second = await guesses(4)  # 6 in 8 windows: the second step is spent
        clock.advance(window)
        refused = await attacker.post(
            "/auth/login", json={"email": "ann@example.com", "password": "still guessing"}
        )
        clock.advance(window * 7)
        third = await guesses(1)

    assert first == [401, 401, 401, 429]
    assert second == [401, 401, 401, 429]
    assert_rate_limited(refused)
    assert int(refused.headers["Retry-After"]) > window.total_seconds()
    assert third == [401]


async def test_look_alike_spellings_of_an_email_share_its_login_limit() -> None:
    # Failures count per account and client, and per account from every client: both
    # must key the account by its normal form.
    spellings = ["ann@example.com", "\uff41\uff4e\uff4e@example.com", "ANN@example.com"]
    from_one_client = a_shop(rate_limit_login_per_ip=100, rate_limit_login_per_account=2)
    async with running(from_one_client) as app, client_at(app, "203.0.113.1") as client:
        answers = [await login(client, spelling) for spelling in spellings]
    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_rate_limited(answers[2])

    from_many_clients = a_shop(
        rate_limit_login_per_ip=100,
        rate_limit_login_per_account=100,
        rate_limit_login_failures_per_account=2,
    )
    async with running(from_many_clients) as app:
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


@pytest.mark.integration
async def test_with_redis_failed_sign_ins_count_in_every_app_process() -> None:
    async with shared_redis() as (_, prefix):
        apps = []
        for _ in range(2):
            shop = a_shop(
                redis_url=SHARED_REDIS_URL,
                rate_limit_login_per_ip=100,
                rate_limit_login_per_account=3,
                rate_limit_login_failures_per_account=3,
            )
            shop.rate_limiter.override(
                providers.Object(RedisRateLimiter(shop.redis_client(), prefix=prefix))
            )
            shop.cache.override(providers.Object(RedisCache(shop.redis_client(), prefix=prefix)))
            if apps:  # one database for both
                shop.unit_of_work.override(providers.Object(apps[0].unit_of_work()))
            apps.append(shop)
        async with running(apps[0]) as first, running(apps[1]) as second:
            async with client_at(first, OWNER) as owner:
                await register(owner, "ann@example.com")
            assert await sign_in(second, OWNER, "ann@example.com", PASSWORD) == 200
            guesses = [
                await sign_in(app, ATTACKERS[0], "ann@example.com", f"guess {n}")
                for n, app in enumerate([first, second, first, second])
            ]
            stranger = await sign_in(second, ATTACKERS[1], "ann@example.com", PASSWORD)
            owner_right = await sign_in(first, OWNER, "ann@example.com", PASSWORD)

    assert guesses == [401, 401, 401, 429]
    assert stranger == 429  # three failures from everywhere: unknown clients wait
    assert owner_right == 200  # known to the account in the other process
