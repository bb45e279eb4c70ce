"""What every unit of work does with events (application/collected_events.py), without a
store: what a commit that fails leaves behind for the retry."""

from __future__ import annotations

from adapters.system.clock import FixedClock
from adapters.system.ids import SequentialIds
from application.collected_events import CollectedEvents
from application.ports.persistence import OutboxMessage
from domain.events import OrderCancelled, OrderPlaced
from tests.domain.builders import LATER, NOW, a_pending_order


class Outbox:
    """Just the `add` the collector needs."""

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    async def add(self, message: OutboxMessage) -> None:
        self.messages.append(message)


async def test_events_written_by_a_commit_that_failed_are_written_again_by_the_retry() -> None:
    order = a_pending_order()
    ids, clock = SequentialIds("msg-"), FixedClock(NOW)
    failed = Outbox()
    first = CollectedEvents()
    first.track(order)
    await first.write(failed, ids, clock)  # ... and then the commit fails: no committed()

    retried = Outbox()
    second = CollectedEvents()
    second.track(order)
    await second.write(retried, ids, clock)
    second.committed()

    assert [m.name for m in failed.messages] == ["order_placed"]
    assert [(m.id, m.name, m.created_at) for m in retried.messages] == [
        ("msg-000002", "order_placed", NOW)
    ]
    assert order.pending_events == ()


async def test_a_commit_takes_off_only_the_events_it_wrote() -> None:
    order = a_pending_order()
    events = CollectedEvents()
    events.track(order)
    await events.write(Outbox(), SequentialIds(), FixedClock(NOW))
    order.cancel("changed my mind", LATER)  # raised after the write, before the commit

    events.committed()

    assert [type(e) for e in order.pending_events] == [OrderCancelled]
    assert not any(isinstance(e, OrderPlaced) for e in order.pending_events)


async def test_an_aggregate_tracked_twice_is_written_once_and_forget_drops_it() -> None:
    order = a_pending_order()
    events = CollectedEvents()
    assert events.track(order) is order
    events.track_all([order, order])
    outbox = Outbox()

    await events.write(outbox, SequentialIds(), FixedClock(NOW))
    events.forget()
    await events.write(outbox, SequentialIds(), FixedClock(NOW))

    assert [m.name for m in outbox.messages] == ["order_placed"]
    assert [type(e) for e in order.pending_events] == [OrderPlaced]  # forget() is a rollback
