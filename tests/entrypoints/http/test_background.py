"""The app's lifespan and its in-process background loop (the embedded default): the
outbox is relayed, unpaid orders expire, payments are reconciled, failures do not stop it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dependency_injector import providers

from adapters.fakes.mailer import InMemoryMailer
from adapters.fakes.task_queue import RecordingTaskQueue
from adapters.system.clock import FixedClock
from application.ports.persistence import PageRequest
from entrypoints.background import BackgroundLoop, expire_unpaid_orders, relay_outbox
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    Account,
    Client,
    login,
    pay,
    place_order,
    register,
    serving,
)
from tests.polling import eventually


def _queue(container: Container) -> RecordingTaskQueue:
    queue = container.task_queue()
    assert isinstance(queue, RecordingTaskQueue)
    return queue


def _clock(container: Container) -> FixedClock:
    clock = container.clock()
    assert isinstance(clock, FixedClock)
    return clock


async def test_the_first_admin_exists_once_the_app_has_started(client: Client) -> None:
    admin = await login(client, ADMIN_EMAIL)

    assert admin.role == "admin"


async def test_a_restart_does_not_make_a_second_admin(container: Container) -> None:
    for _ in range(2):
        async with serving(create_app(container, background_jobs=False)):
            pass

    async with container.unit_of_work()() as uow:
        page = await uow.users.list_page(PageRequest())
    assert [user.email.value for user in page.items] == [ADMIN_EMAIL]


async def test_the_running_app_relays_the_outbox(client: Client, container: Container) -> None:
    await register(client, "ann@example.com")

    def welcomed(jobs: list[Any]) -> bool:
        return any(job.payload["name"] == "user_registered" for job in jobs)

    async def jobs() -> list[Any]:
        return list(_queue(container).jobs)

    await eventually(jobs, welcomed)


async def test_unpaid_orders_expire_and_release_their_stock(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"], 3)
    _clock(container).advance(
        timedelta(minutes=container.settings().payments.order_timeout_minutes + 1)
    )

    expired = await expire_unpaid_orders(container)
    customer = await login(client, customer.email)  # the old access token has expired

    assert expired == 1
    seen = (await client.get(f"/orders/{order['id']}", headers=customer.headers)).json()
    assert seen["status"] == "cancelled"
    assert (await client.get(f"/products/{mug['id']}")).json()["inventory_count"] == 10


async def test_paid_orders_do_not_expire(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])
    _clock(container).advance(timedelta(hours=2))

    await BackgroundLoop(container).run_once()
    customer = await login(client, customer.email)

    seen = (await client.get(f"/orders/{order['id']}", headers=customer.headers)).json()
    assert seen["status"] == "paid"


async def test_the_loop_expires_orders_on_its_own(
    client: Client, container: Container, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    _clock(container).advance(timedelta(hours=1))
    customer = await login(client, customer.email)
    loop = BackgroundLoop(container, relay_interval=0.01, maintenance_interval=0.01)

    loop.start()
    try:

        async def status() -> str:
            response = await client.get(f"/orders/{order['id']}", headers=customer.headers)
            return str(response.json()["status"])

        await eventually(status, lambda s: s == "cancelled")
    finally:
        await loop.stop()
    assert not loop.running


class _FlakyRelay:
    def __init__(self) -> None:
        self.calls = 0

    async def relay_all(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("queue hiccup")
        return 0


async def test_a_failing_job_does_not_stop_the_loop(container: Container) -> None:
    relay = _FlakyRelay()
    container.outbox_relay.override(providers.Object(relay))
    loop = BackgroundLoop(container, relay_interval=0.01)

    loop.start()
    try:

        async def calls() -> int:
            return relay.calls

        await eventually(calls, lambda n: n >= 3)
    finally:
        await loop.stop()


async def test_relay_outbox_returns_how_many_went(container: Container) -> None:
    await container.authentication().register(
        email="ann@example.com", password="correct horse battery", full_name="Ann"
    )

    assert await relay_outbox(container) == 1
    assert await relay_outbox(container) == 0


async def test_queued_jobs_finish_before_the_app_stops(container: Container) -> None:
    """With the in-process queue of the embedded default, shutdown drains the queue."""
    container.task_queue.reset_override()
    async with serving(create_app(container, background_jobs=False)) as client:
        await register(client, "ann@example.com")
        assert await relay_outbox(container) == 2  # the first admin's welcome, and Ann's

    mailer = container.mailer()
    assert isinstance(mailer, InMemoryMailer)
    assert [message.subject for message in mailer.sent_to("ann@example.com")] == [
        "Welcome to hexmart"
    ]


async def test_the_loop_forgets_abandoned_uploads(
    client: Client, container: Container, customer: Account
) -> None:
    body = {"filename": "never-sent.png", "content_type": "image/png", "size": 10}
    response = await client.post("/uploads", json=body, headers=customer.headers)
    assert response.status_code == 201, response.text
    upload_id = response.json()["upload_id"]
    _clock(container).advance(timedelta(hours=2))

    await BackgroundLoop(container).run_once()
    customer = await login(client, customer.email)  # the old access token has expired

    gone = await client.get(f"/uploads/{upload_id}", headers=customer.headers)
    assert gone.status_code == 404, gone.text
