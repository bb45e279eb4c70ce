"""The transactional outbox: events are written with the change they describe, and relayed
to the task queue afterwards, so a committed change always gets its side effects.

A message moves from unhandled, to enqueued (`enqueued_at`, `attempts`), to handled
(`handled_at`, set by its handler's own transaction, with the handler's ledger entry where
it keeps one). Only handled counts as done: a message enqueued but not handled within
`redeliver_after` (the queue lost it, a worker died with it, its tries ran out) is enqueued
again, and its handlers, being idempotent, act at most once however often it runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.audit import record_audit, redact
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import TaskQueue
from application.ports.persistence import (
    OutboxKindStatus,
    OutboxMessage,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, Principal
from application.transactions import in_transaction
from domain.errors import NotFound

log = logging.getLogger(__name__)

# The job that handles every relayed event (application/message_bus.py); its id is the
# event's id, so a message relayed again while its job still waits or runs is not queued
# twice.
HANDLE_EVENT_JOB = "handle_event"

# A message enqueued this long ago and still not handled is enqueued again. Longer than a
# healthy queue ever takes, short enough that a lost email goes out within minutes.
DEFAULT_REDELIVER_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RelayReport:
    relayed: int
    remaining: bool


class OutboxRelay:
    """Hands the outbox messages that are due (never enqueued, or enqueued more than
    `redeliver_after` ago and still not handled) to the task queue."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        queue: TaskQueue,
        clock: Clock,
        redeliver_after: timedelta = DEFAULT_REDELIVER_AFTER,
    ) -> None:
        if redeliver_after <= timedelta(0):
            raise ValueError("redeliver_after must be positive")
        self._uow_factory = uow_factory
        self._queue = queue
        self._clock = clock
        self._redeliver_after = redeliver_after

    async def relay_batch(self, limit: int = 100) -> RelayReport:
        """Relay at most `limit` messages. If the queue is down, the messages not yet
        handed over wait for the next run."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            messages = await uow.outbox.list_due(limit, enqueued_before=now - self._redeliver_after)
            enqueued: list[str] = []
            try:
                for message in messages:
                    if message.attempts:
                        log.warning(
                            "outbox message %s (%s) not handled %s after it was enqueued; "
                            "enqueuing it again (attempt %d)",
                            message.id,
                            message.name,
                            self._redeliver_after,
                            message.attempts + 1,
                        )
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
                    enqueued.append(message.id)
            except ServiceUnavailable:
                log.warning("task queue unavailable; %d outbox messages wait", len(messages))
            if enqueued:
                await uow.outbox.mark_enqueued(enqueued, now)
            await uow.commit()
        return RelayReport(relayed=len(enqueued), remaining=len(messages) == limit)

    async def relay_all(self, batch: int = 100) -> int:
        total = 0
        while True:
            report = await self.relay_batch(batch)
            total += report.relayed
            if not report.remaining or report.relayed == 0:
                return total

    async def oldest_unhandled_age(self) -> timedelta | None:
        """How long the oldest message not handled yet has waited; None if none waits."""
        async with self._uow_factory() as uow:
            oldest = await uow.outbox.oldest_unhandled()
        return None if oldest is None else max(self._clock.now() - oldest, timedelta(0))


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    message: OutboxMessage
    enqueued_at: datetime | None
    handled_at: datetime | None


class OutboxAdmin:
    """What operators see of the outbox (the admin CLI): what is not handled yet, one
    message with its secrets redacted, and handing one on again."""

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
        message, enqueued_at, handled_at = found
        return OutboxEntry(
            replace(message, payload=redact(message.payload)), enqueued_at, handled_at
        )

    async def retry(self, actor: Principal, message_id: str) -> None:
        """Hand the message on again at the next relay, handled or not (its handlers act
        once per id: an email already sent is not sent twice, a live update is published
        again)."""
        actor.require(ADMIN_ONLY)

        async def retry(uow: UnitOfWork) -> None:
            if not await uow.outbox.mark_unhandled(message_id):
                raise NotFound("outbox message", message_id)
            await record_audit(
                uow, self._ids, self._clock, actor, "outbox.retry", ("outbox", message_id)
            )

        await in_transaction(self._uow_factory, retry)

    async def retry_failed(self, actor: Principal, limit: int = 10_000) -> int:
        """Hand on again, at the next relay, every message that was enqueued but is not
        handled (its job failed, gave up, or the queue lost it): at once, rather than
        after the redelivery timeout. Returns how many (at most `limit`)."""
        actor.require(ADMIN_ONLY)

        async def retry(uow: UnitOfWork) -> int:
            waiting = await uow.outbox.list_due(limit, enqueued_before=self._clock.now())
            not_enqueued = {message.id for message in await uow.outbox.list_unsent(limit)}
            failed = [message for message in waiting if message.id not in not_enqueued]
            for message in failed:
                await uow.outbox.mark_unhandled(message.id)
            if failed:
                await record_audit(
                    uow,
                    self._ids,
                    self._clock,
                    actor,
                    "outbox.retry_failed",
                    ("outbox", "*"),
                    {"messages": len(failed)},
                )
            return len(failed)

        return await in_transaction(self._uow_factory, retry)
