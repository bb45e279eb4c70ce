"""The embedded default restarted: an app stopped (or killed) before its local payments
completed leaves them in the database, and the next app's background loop completes them
and tells the shop, once. On the embedded default's SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sql.local_payment_gateway import succeeded_event_id
from application.catalog import NewProduct
from application.principal import Principal
from domain.money import Money
from domain.orders import OrderStatus
from domain.users import Role
from domain.values import Address
from entrypoints.background import BackgroundLoop
from entrypoints.container import Container, start_services, stop_services
from entrypoints.testing import container_for_tests, settings_for_tests
from tests.polling import eventually


def an_app(database_url: str, data_dir: Path) -> Container:
    return container_for_tests(
        settings_for_tests(
            database_url=database_url,
            data_dir=data_dir,
            local_payments_auto_complete=True,
            # Long enough that the first app is gone before any payment completes.
            local_payments_completion_seconds=2.0,
        )
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "clean_postgres_url"
    )
    return url


async def test_payments_left_by_a_stopped_app_are_completed_by_the_next_one(
    database_url: str, tmp_path: Path
) -> None:
    first = an_app(database_url, tmp_path / "var")
    await start_services(first)
    staff = Principal.user("staff-1", Role.STAFF)
    mug = await first.catalog().create_product(
        staff, NewProduct("Mug", "A mug", Money(1200, "USD"), 5, "kitchen")
    )
    ann = (
        await first.authentication().register(
            email="ann@example.com", password="correct horse battery", full_name="Ann"
        )
    ).access_token
    principal = await first.authentication().authenticate_access_token(ann)
    await first.carts().set_item(principal, mug.id, 1)
    placed = await first.orders().place_order(
        principal,
        idempotency_key="checkout-1",
        shipping_address=Address("Ann", "1 Main St", "Springfield", "12345", "US"),
    )
    await stop_services(first)  # before the payment completed: its timer is gone

    second = an_app(database_url, tmp_path / "var")
    await start_services(second)

    async def status() -> OrderStatus:
        return (await second.orders().get_order(principal, placed.order.id)).status

    assert await status() is OrderStatus.PENDING
    loop = BackgroundLoop(second, relay_interval=0.05)
    loop.start()
    try:
        assert await eventually(status, lambda found: found is OrderStatus.PAID)
        async with second.unit_of_work()() as uow:
            payment = await uow.payments.get_for_order(placed.order.id)
            assert payment is not None
            assert payment.intent_id is not None
            # Applied under the intent's own event id: any other delivery is a duplicate.
            again = await uow.processed_events.add(
                "local", succeeded_event_id(payment.intent_id), second.clock().now()
            )
        assert again is False
    finally:
        await loop.stop()
        await stop_services(second)
