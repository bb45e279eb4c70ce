"""The transactional outbox: events are written with the change they describe, and relayed
to the task queue afterwards, so a committed change always gets its side effects."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.audit import record_audit, redact
from application.ports.messaging import TaskQueue
from application.ports.persistence import (
    OutboxKindStatus,
    OutboxMessage,
    UnitOfWork,
    UnitOfWorkFactory,
    outbox_message,
)
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, Principal
from application.transactions import in_transaction
from domain.errors import NotFound, ServiceUnavailable
from domain.events import DomainEvent

log = logging.getLogger(__name__)

# The job that handles every relayed event; its id is the event's id, so a message relayed
# twice (the relay crashed between enqueue and mark_sent) still runs once.
HANDLE_EVENT_JOB = "handle_event"


async def record_events(
    uow: UnitOfWork, ids: IdGenerator, clock: Clock, events: Iterable[DomainEvent]
) -> None:
    """Write `events` to the outbox inside the caller's unit of work."""
    now = clock.now()
    for event in events:
        await uow.outbox.add(outbox_message(event, ids.new_id(), now))


@dataclass(frozen=True, slots=True)
class RelayReport:
    relayed: int
    remaining: bool


class OutboxRelay:
    """Hands unsent outbox messages to the task queue and marks them sent."""

    def __init__(self, uow_factory: UnitOfWorkFactory, queue: TaskQueue, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._queue = queue
        self._clock = clock

    async def relay_batch(self, limit: int = 100) -> RelayReport:
        """Relay at most `limit` messages. If the queue is down, nothing is marked sent and
        the messages wait for the next run."""
        async with self._uow_factory() as uow:
            messages = await uow.outbox.list_unsent(limit)
            sent: list[str] = []
            try:
                for message in messages:
                    await self._queue.enqueue(
                        HANDLE_EVENT_JOB,
                        job_id=message.id,
                        payload={
                            "message_id": message.id,
                            "name": message.name,
                            "payload": message.payload,
                            **({"context": message.context} if message.context else {}),
                        },
                    )
                    sent.append(message.id)
            except ServiceUnavailable:
                log.warning("task queue unavailable; %d outbox messages wait", len(messages))
            if sent:
                await uow.outbox.mark_sent(sent, self._clock.now())
            await uow.commit()
        return RelayReport(relayed=len(sent), remaining=len(messages) == limit)

    async def relay_all(self, batch: int = 100) -> int:
        total = 0
        while True:
            report = await self.relay_batch(batch)
            total += report.relayed
            if not report.remaining or report.relayed == 0:
                return total

    async def purge_sent(self, older_than: timedelta) -> int:
        async with self._uow_factory() as uow:
            purged = await uow.outbox.purge_sent_before(self._clock.now() - older_than)
            await uow.commit()
        return purged


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    message: OutboxMessage
    sent_at: datetime | None


class OutboxAdmin:
    """What operators see of the outbox (the admin CLI): what waits, one message with its
    secrets redacted, and sending one again."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ids = ids

    async def status(self, actor: Principal) -> list[OutboxKindStatus]:
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            return await uow.outbox.status()

    async def show(self, actor: Principal, message_id: str) -> OutboxEntry:
        """The message, its payload redacted (reset tokens and other secrets)."""
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            found = await uow.outbox.get(message_id)
        if found is None:
            raise NotFound("outbox message", message_id)
        message, sent_at = found
        return OutboxEntry(replace(message, payload=redact(message.payload)), sent_at)

    async def retry(self, actor: Principal, message_id: str) -> None:
        """Hand the message on again at the next relay (its handler runs once per id, so
        an email already sent is not sent twice)."""
        actor.require(ADMIN_ONLY)

        async def retry(uow: UnitOfWork) -> None:
            if not await uow.outbox.mark_unsent(message_id):
                raise NotFound("outbox message", message_id)
            await record_audit(
                uow, self._ids, self._clock, actor, "outbox.retry", ("outbox", message_id)
            )

        await in_transaction(self._uow_factory, retry)
