"""How a unit of work gets its domain events to the outbox, the same way in every adapter.

Its repositories `track` each aggregate that raises events (`EventSource`) as they hand it
out or take it in, and `commit()` writes the new events of every tracked aggregate to the
outbox in the transaction it is about to commit. Nobody writes events by hand, so none is
forgotten. Events no aggregate raises go through `record`.

Events leave an aggregate only once their transaction committed: a commit that fails
(a serialization failure) leaves them on it, so work retried with the same aggregate
object writes them again. Each aggregate is tracked once, however often it is handed
over, so its events are written once; an aggregate read twice is two objects, and only
the one that raised an event carries it.

Order: aggregates in the order they were first tracked, each one's events in the order
it raised them; the messages get increasing ids, and the outbox relays by
(created_at, id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from application.ports.persistence import OutboxMessage, outbox_message
from application.ports.runtime import Clock, IdGenerator
from domain.events import DomainEvent, EventSource

A = TypeVar("A", bound=EventSource)


class MessageSink(Protocol):
    """Where the messages go: the unit of work's `OutboxRepository`."""

    async def add(self, message: OutboxMessage) -> None: ...


class _LooseEvents(EventSource):
    """Events recorded on the unit of work itself rather than raised by an aggregate."""

    def __init__(self) -> None:
        self._events = []


class CollectedEvents:
    """The aggregates one transaction handed out or took in, and their events."""

    def __init__(self) -> None:
        # Keyed by identity: aggregates compare by identity, and holding them keeps
        # their ids from being reused.
        self._sources: dict[int, EventSource] = {}
        self._loose = _LooseEvents()
        self._written: list[tuple[EventSource, int]] = []

    def track(self, aggregate: A) -> A:
        """Remember `aggregate` (once) and return it, for `return tx.events.track(x)`."""
        self._sources.setdefault(id(aggregate), aggregate)
        return aggregate

    def track_all(self, aggregates: Iterable[A]) -> None:
        for aggregate in aggregates:
            self.track(aggregate)

    def record(self, event: DomainEvent) -> None:
        """An event no aggregate raised, written with the others at commit."""
        self._loose.record(event)
        self.track(self._loose)

    async def write(self, outbox: MessageSink, ids: IdGenerator, clock: Clock) -> None:
        """Add every new event of the tracked aggregates to `outbox`; call `committed()`
        once the transaction committed, or `forget()` if it rolled back. (If the commit
        fails, the rows written went with it: the next `write` writes them again.)"""
        self._written.clear()
        pending = [(s, events) for s in self._sources.values() if (events := s.pending_events)]
        if not pending:
            return
        now = clock.now()
        for source, events in pending:
            for event in events:
                await outbox.add(outbox_message(event, ids.new_id(), now))
            self._written.append((source, len(events)))

    def committed(self) -> None:
        """The events written are durable: take them off their aggregates."""
        for source, count in self._written:
            source.pull_events(count)
        self._written.clear()

    def forget(self) -> None:
        """The transaction rolled back: what was handed out in it is no longer tracked,
        and the events written in it are gone with it (they stay on their aggregates)."""
        self._sources.clear()
        self._loose = _LooseEvents()
        self._written.clear()
