"""GET /metrics: Prometheus text with requests by route template and status, their latency,
orders placed, payment events by outcome and background job runs, counted per app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.sql.local_payment_gateway import SqlLocalPaymentGateway
from entrypoints.background import BackgroundLoop, Every, ScheduledJob
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.metrics import EXPIRY_REASON, BusinessMetrics
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    Client,
    create_product,
    login,
    place_order,
    register,
    serving,
)
from tests.polling import eventually


async def _samples(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_and_status(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await client.get(f"/products/{mug['id']}")
    await client.get(f"/products/{mug['id']}")
    await client.get("/products/no-such-product")

    samples = await _samples(client)

    route = "/products/{product_id}"
    assert (
        _value(samples, "hexmart_http_requests_total", method="GET", route=route, status="200") == 2
    )
    assert (
        _value(samples, "hexmart_http_requests_total", method="GET", route=route, status="404") == 1
    )
    assert (
        _value(
            samples,
            "hexmart_http_request_duration_seconds_count",
            method="GET",
            route=route,
            status="200",
        )
        == 2
    )
    assert (
        _value(
            samples,
            "hexmart_http_request_duration_seconds_bucket",
            method="GET",
            route=route,
            status="200",
            le="+Inf",
        )
        == 2
    )
    # Raw paths (with their ids) never become series.
    assert not any(mug["id"] in dict(labels).get("route", "") for _, labels in samples)


async def test_orders_placed_are_counted(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await place_order(client, customer, mug["id"])

    samples = await _samples(client)

    assert _value(samples, "hexmart_orders_placed_total") == 1
    assert (
        _value(samples, "hexmart_http_requests_total", method="POST", route="/orders", status="201")
        == 1
    )


async def test_each_app_counts_apart(container: Container) -> None:
    async with serving(create_app(container, background_jobs=False)) as first:
        await first.get("/health/live")
    async with serving(create_app(container, background_jobs=False)) as second:
        samples = await _samples(second)

    assert (
        _value(
            samples, "hexmart_http_requests_total", method="GET", route="/health/live", status="200"
        )
        == 0
    )


@pytest.fixture
async def paying_client(tmp_path: Path) -> AsyncIterator[Client]:
    """The embedded default's local gateway, which pays by itself (its records in a
    SQLite file of its own), and the background loop running; everything else in
    memory."""
    container = in_memory_container(
        settings_for_tests(
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            local_payments_auto_complete=True,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}",
        )
    )
    container.payment_gateway.reset_override()
    assert isinstance(container.payment_gateway(), SqlLocalPaymentGateway)
    async with serving(create_app(container, background_jobs=True)) as client:
        yield client


async def test_payments_by_outcome_and_job_runs_are_counted(paying_client: Client) -> None:
    client = paying_client
    admin = await login(client, ADMIN_EMAIL)
    mug = await create_product(client, admin)
    ann = await register(client, "ann@example.com")
    await place_order(client, ann, mug["id"])

    samples = await eventually(
        lambda: _samples(client),
        lambda found: (
            _value(found, "hexmart_payment_events_total", provider="local", outcome="succeeded")
            == 1
        ),
    )

    assert _value(samples, "hexmart_orders_placed_total") == 1
    jobs = {
        dict(labels)["job"]
        for name, labels in samples
        if name == "hexmart_job_runs_total" and dict(labels)["outcome"] == "ok"
    }
    assert {"relay_outbox", "reconcile_payments", "expire_unpaid_orders"} <= jobs


async def test_metrics_are_prometheus_text_not_json(client: Client) -> None:
    response = await client.get("/metrics")

    assert re.search(r"^# TYPE hexmart_http_requests_total counter$", response.text, re.M)
    assert re.search(
        r"^# TYPE hexmart_http_request_duration_seconds histogram$", response.text, re.M
    )


async def test_the_background_loop_reports_each_job_run_and_whether_it_failed() -> None:
    runs: list[tuple[str, bool]] = []

    async def relay_something(_: Container) -> int:
        return 1

    async def break_down(_: Container) -> int:
        raise RuntimeError("the queue is down")

    loop = BackgroundLoop(in_memory_container(), on_job_run=lambda job, ok: runs.append((job, ok)))
    await loop.run_once(
        (
            ScheduledJob("relay_something", relay_something, Every.ROUND),
            ScheduledJob("break_down", break_down, Every.MINUTE),
        )
    )

    assert runs == [("relay_something", True), ("break_down", False)]


async def test_stripe_webhooks_are_counted_by_result(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    async with container.unit_of_work()() as uow:
        payment = await uow.payments.get_for_order(order["id"])
    assert payment is not None
    assert payment.intent_id is not None
    gateway = container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    payload = gateway.event_payload(gateway.succeed(payment.intent_id))
    headers = {"Stripe-Signature": gateway.sign(payload), "Content-Type": "application/json"}

    await client.post("/webhooks/stripe", content=payload, headers=headers)
    await client.post("/webhooks/stripe", content=payload, headers=headers)
    await client.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": "t=1"})

    samples = await _samples(client)
    for outcome, count in (("applied", 1), ("duplicate", 1), ("invalid", 1)):
        assert (
            _value(samples, "hexmart_payment_events_total", provider="stripe", outcome=outcome)
            == count
        ), outcome


async def test_order_events_and_revenue_are_counted_once_handled(tmp_path: Path) -> None:
    """The embedded default: the app's in-process queue handles the outbox's events."""
    container = in_memory_container(
        settings_for_tests(
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            local_payments_auto_complete=True,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}",
        )
    )
    container.payment_gateway.reset_override()
    container.task_queue.reset_override()
    async with serving(create_app(container, background_jobs=True)) as client:
        admin = await login(client, ADMIN_EMAIL)
        mug = await create_product(client, admin)
        ann = await register(client, "ann@example.com")
        await place_order(client, ann, mug["id"])

        samples = await eventually(
            lambda: _samples(client),
            lambda found: _value(found, "hexmart_order_events_total", event="paid") == 1,
        )

    assert _value(samples, "hexmart_order_events_total", event="placed") == 1
    order_total = mug["price"]["amount"]  # one mug
    assert _value(samples, "hexmart_revenue_minor_units_total", currency="USD") == order_total


def test_an_expired_order_is_counted_as_expired_not_cancelled() -> None:
    registry = CollectorRegistry()
    business = BusinessMetrics(registry)

    business.event_handled("order_cancelled", {"reason": EXPIRY_REASON})
    business.event_handled("order_cancelled", {"reason": "customer asked"})
    business.event_handled("order_refunded", {"amount": 250, "currency": "EUR"})

    value = registry.get_sample_value
    assert value("hexmart_order_events_total", {"event": "expired"}) == 1
    assert value("hexmart_order_events_total", {"event": "cancelled"}) == 1
    assert value("hexmart_refunds_minor_units_total", {"currency": "EUR"}) == 250
