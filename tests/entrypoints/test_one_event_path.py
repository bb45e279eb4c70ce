"""The worker's job and the embedded default's in-process runner route relayed messages
through the container's one handler table, and neither has a routing of its own."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from adapters.inprocess.task_runner import InProcessTaskQueue
from application.message_bus import EMAIL, Effect, HandlerTable
from application.outbox import HANDLE_EVENT_JOB
from application.ports.persistence import UnitOfWork
from domain.events import DomainEvent, UserRegistered
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from entrypoints.worker import handle_event
from tests.application.shopping import PASSWORD, mailer, task_queue


class RecordingTable(HandlerTable):
    """A table that routes every registration to one recording handler, and nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, DomainEvent]] = []
        self.route(UserRegistered, Effect(EMAIL, self._record))

    async def _record(self, uow: UnitOfWork, message_id: str, event: UserRegistered) -> bool:
        self.seen.append((message_id, event))
        return True


def shop_with(table: HandlerTable) -> Container:
    shop = in_memory_container()
    shop.event_handlers.override(providers.Object(table))
    return shop


async def register_ann(shop: Container) -> None:
    await shop.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann Archer"
    )


async def test_the_workers_job_dispatches_through_the_containers_table() -> None:
    table = RecordingTable()
    shop = shop_with(table)
    await register_ann(shop)
    await shop.outbox_relay().relay_all()
    [job] = task_queue(shop).jobs

    # The recording effect acted under the email's name: the job reports an email sent.
    assert await handle_event({"container": shop, "job_try": 1}, job.payload) is True

    [(message_id, event)] = table.seen
    assert message_id == job.job_id
    assert isinstance(event, UserRegistered)
    assert event.email == "ann@example.com"
    # The table replaced the shop's: its welcome email is not the worker's to send.
    assert mailer(shop).sent == []


async def test_the_in_process_runner_dispatches_through_the_containers_table() -> None:
    table = RecordingTable()
    shop = shop_with(table)
    shop.task_queue.reset_override()  # the embedded default's runner
    runner = shop.task_queue()
    assert isinstance(runner, InProcessTaskQueue)
    await register_ann(shop)

    assert await shop.outbox_relay().relay_all() == 1
    await runner.drain()

    [(_, event)] = table.seen
    assert isinstance(event, UserRegistered)
    assert event.email == "ann@example.com"
    assert mailer(shop).sent == []
    async with shop.unit_of_work()() as uow:
        assert await uow.outbox.oldest_unhandled() is None


async def test_both_run_the_same_bus() -> None:
    shop = in_memory_container()
    shop.task_queue.reset_override()
    runner = shop.task_queue()
    assert isinstance(runner, InProcessTaskQueue)
    handler: Any = runner.handler(HANDLE_EVENT_JOB)

    assert handler == shop.message_bus().handle_job
