"""Fixtures for the payment tests that run end to end: a real localstripe, a real
PostgreSQL database, and the app built from settings exactly as in production (only the
background loop is off, so that each test runs the jobs itself when it means to)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import stripe

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.testing import TEST_JWT_SECRET, container_for_tests
from tests.entrypoints.http.shop_api import ADMIN_EMAIL, PASSWORD, login
from tests.payments.stripe_shop import StripeShop, serving_on_loopback
from tests.stripe_server import API_KEY, LocalStripe, running_localstripe

WEBHOOK_TOLERANCE_SECONDS = 300


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    # No skip: a localstripe that cannot start fails every test that needs it.
    with running_localstripe() as server:
        yield server


def stripe_settings(
    database_url: str, api_base: str, data_dir: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "stripe_api_key": API_KEY,
        # A fresh secret per test: an event localstripe still sends for an earlier test
        # cannot be taken for one of this test's.
        "stripe_webhook_secret": f"whsec_{secrets.token_hex(16)}",
        "stripe_api_base": api_base,
        "stripe_webhook_tolerance_seconds": WEBHOOK_TOLERANCE_SECONDS,
        "database_url": database_url,
        "jwt_secret": TEST_JWT_SECRET,
        "data_dir": data_dir,
        "admin_email": ADMIN_EMAIL,
        "admin_password": PASSWORD,
    }
    values.update(overrides)
    return Settings.from_values(**values)


@pytest.fixture
def settings(localstripe: LocalStripe, clean_postgres_url: str, tmp_path: Path) -> Settings:
    return stripe_settings(clean_postgres_url, localstripe.url, tmp_path)


@pytest.fixture
async def shop(localstripe: LocalStripe, settings: Settings) -> AsyncIterator[StripeShop]:
    container = container_for_tests(settings)
    assert settings.payments.stripe_webhook_secret is not None
    app = create_app(container, background_jobs=False)
    sdk_http = stripe.HTTPXClient(timeout=10)
    sdk = stripe.StripeClient(
        API_KEY, base_addresses={"api": localstripe.url}, http_client=sdk_http
    )
    try:
        async with (
            serving_on_loopback(app) as url,
            httpx.AsyncClient(base_url=url, timeout=20) as client,
        ):
            shop = StripeShop(
                container=container,
                url=url,
                client=client,
                localstripe=localstripe,
                webhook_secret=settings.payments.stripe_webhook_secret,
                stripe=sdk,
                admin=await login(client, ADMIN_EMAIL),
            )
            try:
                yield shop
            finally:
                shop.stop_delivering_webhooks()
    finally:
        await sdk_http.close_async()  # type: ignore[no-untyped-call]
