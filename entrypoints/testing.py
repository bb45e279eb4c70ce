"""hexmart as a library in other programs' tests: a complete shop in memory.

    from entrypoints.testing import in_memory_container

    async def test_checkout():
        shop = in_memory_container()
        tokens = await shop.authentication().register(
            email="ann@example.com", password="correct horse battery", full_name="Ann")
        ...

Every port is served by an in-memory adapter that the test can inspect and steer: the
mailer keeps `sent`, the payment gateway can `succeed`/`fail` intents or `go_down`, the
clock can `advance`. Nothing touches the disk or the network.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dependency_injector import providers

from adapters.memory.file_storage import InMemoryFileStorage
from adapters.memory.mailer import InMemoryMailer
from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.memory.task_queue import RecordingTaskQueue
from adapters.memory.unit_of_work import InMemoryDatabase, in_memory_unit_of_work_factory
from adapters.system.clock import FixedClock
from adapters.system.ids import SequentialIds
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def settings_for_tests(**overrides: object) -> Settings:
    """Settings for tests: fast password hashing, a fixed JWT secret, no disk."""
    values: dict[str, object] = {
        "environment": "test",
        "password_hashing": "fast-insecure-for-tests",
        "jwt_secret": TEST_JWT_SECRET,
        "local_payments_auto_complete": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def in_memory_container(
    settings: Settings | None = None,
    *,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> Container:
    """A container whose every adapter is in memory, with a controllable clock
    (`container.clock()` is a FixedClock) and predictable ids."""
    container = build_container(settings or settings_for_tests())
    clock = FixedClock(start)
    ids = SequentialIds()
    container.clock.override(providers.Object(clock))
    container.ids.override(providers.Object(ids))
    container.unit_of_work.override(
        providers.Object(in_memory_unit_of_work_factory(InMemoryDatabase(), ids=ids, clock=clock))
    )
    container.mailer.override(providers.Singleton(InMemoryMailer))
    container.payment_gateway.override(providers.Singleton(FakePaymentGateway, clock))
    container.file_storage.override(providers.Singleton(InMemoryFileStorage, clock))
    container.task_queue.override(providers.Singleton(RecordingTaskQueue))
    return container
