"""The message bus: a relayed outbox message, decoded back into its domain event, goes to
the handlers that the one table below names for the event's type.

The arq worker's `handle_event` job and the embedded default's in-process runner both
hand their job to `MessageBus.handle_job`; neither knows which handler an event reaches.
To give an event a new effect, add its handler to `handler_table`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from application.live_updates import LiveOrderUpdates
from application.notifications import Notifications
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock
from domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    PasswordResetRequested,
    PaymentFailed,
    UserRegistered,
    event_from_record,
)

E = TypeVar("E", bound=DomainEvent)

# A handler runs one effect of an event inside the message's unit of work, given the
# outbox message id (the key of its ledger entry, where it keeps one); True if it acted.
# It must be idempotent: a message whose transaction did not commit is handled again.
EventHandler = Callable[[UnitOfWork, str, E], Awaitable[bool]]


class HandlerTable:
    """Event type -> the handlers of that typed event, in the order they run."""

    def __init__(self) -> None:
        self._routes: dict[type[DomainEvent], tuple[EventHandler[Any], ...]] = {}

    def route(self, event_type: type[E], *handlers: EventHandler[E]) -> None:
        if event_type in self._routes:
            raise ValueError(f"{event_type.__name__} is routed twice")
        self._routes[event_type] = handlers

    def handlers_of(self, event: DomainEvent) -> tuple[EventHandler[Any], ...]:
        """The handlers of `event`'s type; ValueError for a type the table does not list."""
        try:
            return self._routes[type(event)]
        except KeyError:
            raise ValueError(f"no route for event type {type(event).__name__}") from None

    @property
    def routes(self) -> Mapping[type[DomainEvent], tuple[EventHandler[Any], ...]]:
        return dict(self._routes)


def handler_table(live_updates: LiveOrderUpdates, notifications: Notifications) -> HandlerTable:
    """The shop's table. The live order update runs before the email: publishing again
    only repeats the order's state, so an email retried after a mail outage costs
    watchers nothing, while a broker outage leaves the email unsent until it passes."""
    publish = live_updates.publish_status
    email = notifications.send_within
    table = HandlerTable()
    table.route(UserRegistered, email)
    table.route(PasswordResetRequested, email)
    table.route(OrderPlaced, publish, email)
    table.route(OrderPaid, publish, email)
    table.route(OrderShipped, publish, email)
    table.route(OrderDelivered, publish)
    table.route(OrderCancelled, publish, email)
    table.route(OrderRefunded, email)
    table.route(PaymentFailed)  # no effect: listed, so that it is handled and not refused
    return table


class MessageBus:
    """Handles one relayed outbox message and records it handled.

    The message is decoded into its domain event first (a name or payload this version
    does not know raises `ValueError`, and the message stays unhandled for a version that
    does). A message already handled is skipped. Otherwise the handlers of the event's
    type run in one unit of work that also marks the message handled: it counts as done
    exactly when its effects' ledger entries commit. A handler's `ServiceUnavailable`
    (mail system or broker down) rolls it all back; the job is retried.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, table: HandlerTable, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._table = table
        self._clock = clock

    async def handle_job(self, job: Mapping[str, Any]) -> bool:
        """Handle the job the outbox relay enqueued (see `OutboxRelay`)."""
        return await self.handle(job["message_id"], job["name"], job["payload"])

    async def handle(self, message_id: str, name: str, payload: dict[str, Any]) -> bool:
        """Handle the outbox message `message_id`, recorded as `name` and `payload`."""
        return await self.dispatch(message_id, event_from_record(name, payload))

    async def dispatch(self, message_id: str, event: DomainEvent) -> bool:
        """Run `event`'s handlers and mark `message_id` handled; True if it was handled
        now, False if it had been before."""
        handlers = self._table.handlers_of(event)
        async with self._uow_factory() as uow:
            if await uow.outbox.is_handled(message_id):
                return False
            for handler in handlers:
                await handler(uow, message_id, event)
            await uow.outbox.mark_handled(message_id, self._clock.now())
            await uow.commit()
        return True
