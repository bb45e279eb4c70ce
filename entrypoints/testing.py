"""hexmart as a library in other programs' tests: a complete shop in memory, and the test
composition of the real one.

    from entrypoints.testing import in_memory_container

    async def test_checkout():
        shop = in_memory_container()
        tokens = await shop.authentication().register(
            email="ann@example.com", password="correct horse battery", full_name="Ann")
        ...

Every port is served by an in-memory adapter that the test can inspect and steer: the
mailer keeps `sent`, the payment gateway can `succeed`/`fail` intents or `go_down`, the
clock can `advance`. Nothing touches the disk or the network.

What only tests want lives here, never in the `HEXMART_*` settings a deployed shop reads:
- `container_for_tests(settings)`: the production wiring with the cheapest password
  hashing argon2 allows (a test suite hashes thousands of passwords);
- `worker_container_on_queue(...)`: a worker's container relaying to a queue of the
  test's own (tests share one Redis);
- `python -m entrypoints.testing <command>`: the `hexmart` command (serve, worker, admin
  commands) on that composition, for tests that run hexmart in processes of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dependency_injector import providers
from litestar import Litestar

from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.fakes.file_storage import InMemoryFileStorage
from adapters.fakes.mailer import InMemoryMailer
from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.fakes.task_queue import RecordingTaskQueue
from adapters.fakes.unit_of_work import InMemoryDatabase, in_memory_unit_of_work_factory
from adapters.security.passwords import Argon2PasswordHasher
from adapters.system.clock import FixedClock
from adapters.system.ids import SequentialIds
from entrypoints.container import Container, build_container
from entrypoints.lifecycle import ClosedAtShutdown
from entrypoints.settings import Settings

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# The app factory of `python -m entrypoints.testing serve --workers N`.
APP_FACTORY = "entrypoints.testing:create_app_from_env"


def settings_for_tests(**overrides: object) -> Settings:
    """Settings for tests: a fixed JWT secret, local payments that wait to be completed.
    `overrides` are named as their variables, lowercase without the prefix
    (`redis_url=...`, `rate_limit_login_per_ip=3`), as in `Settings.from_values`."""
    values: dict[str, object] = {
        "environment": "test",
        "jwt_secret": TEST_JWT_SECRET,
        "local_payments_auto_complete": False,
    }
    values.update(overrides)
    return Settings.from_values(**values)


def container_for_tests(settings: Settings) -> Container:
    """The container `settings` choose, hashing passwords with argon2id's cheapest
    parameters (about a millisecond a hash): never for a shop people use."""
    container = build_container(settings)
    container.password_hasher.override(providers.Singleton(Argon2PasswordHasher.for_tests))
    return container


def in_memory_container(
    settings: Settings | None = None,
    *,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> Container:
    """A container whose every adapter is in memory, with a controllable clock
    (`container.clock()` is a FixedClock) and predictable ids."""
    container = container_for_tests(settings or settings_for_tests())
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


def worker_container_on_queue(
    settings: Settings, *, queue_name: str, job_id_prefix: str
) -> Container:
    """`container_for_tests`, relaying the outbox to the queue `queue_name` with job ids
    prefixed `job_id_prefix` (a worker of the test's own listens there)."""
    url = settings.redis.url_for("queue")
    if url is None:
        raise ValueError("a worker's own queue needs HEXMART_REDIS_URL")
    container = container_for_tests(settings)
    container.task_queue.override(
        providers.Singleton(
            ArqTaskQueue,
            ClosedAtShutdown(create_arq_redis, url, queue_name=queue_name),
            queue_name=queue_name,
            job_id_prefix=job_id_prefix,
        )
    )
    return container


def create_app_from_env() -> Litestar:
    """`entrypoints.http.asgi.create_app_from_env` on the test composition."""
    from entrypoints.http.asgi import create_app_from_env as create

    return create(container_for_tests)


def main() -> None:
    """The `hexmart` command on the test composition."""
    from entrypoints import cli
    from entrypoints.commands.runtime import Composition

    cli.main(obj=Composition(build_container=container_for_tests, app_factory=APP_FACTORY))


if __name__ == "__main__":
    main()
