"""The message bus: a relayed outbox message, decoded back into its domain event, goes to
the handlers that the one table below names for the event's type.

The arq worker's `handle_event` job and the embedded default's in-process runner both
hand their job to `MessageBus.handle_job`; neither knows which handler an event reaches.
To give an event a new effect, add its handler to `handler_table`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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

E = TypeVar("E", bound=DomainEvent, contravariant=True)

# A handler runs one effect of an event inside the message's unit of work, given the
# outbox message id (the key of its ledger entry, where it keeps one); True if it acted.
# It must be idempotent: a message whose transaction did not commit is handled again.
EventHandler = Callable[[UnitOfWork, str, E], Awaitable[bool]]

# The shop's effects, by the names the bus reports them under.
LIVE_UPDATE = "live_update"
EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Effect(Generic[E]):
    """A named handler: what the table routes an event type to."""

    name: str
    run: EventHandler[E]


class HandlerTable:
    """Event type -> the effects of that typed event, in the order they run."""

    def __init__(self) -> None:
        self._routes: dict[type[DomainEvent], tuple[Effect[Any], ...]] = {}

    def route(self, event_type: type[E], *effects: Effect[E]) -> None:
        if event_type in self._routes:
            raise ValueError(f"{event_type.__name__} is routed twice")
        self._routes[event_type] = effects

    def effects_of(self, event: DomainEvent) -> tuple[Effect[Any], ...]:
        """The effects of `event`'s type; ValueError for a type the table does not list."""
        try:
            return self._routes[type(event)]
        except KeyError:
            raise ValueError(f"no route for event type {type(event).__name__}") from None

    @property
    def routes(self) -> Mapping[type[DomainEvent], tuple[Effect[Any], ...]]:
        return dict(self._routes)


def handler_table(live_updates: LiveOrderUpdates, notifications: Notifications) -> HandlerTable:
    """The shop's table. The live order update runs before the email: publishing again
    only repeats the order's state, so an email retried after a mail outage costs
    watchers nothing, while a broker outage leaves the email unsent until it passes."""
    publish = Effect(LIVE_UPDATE, live_updates.publish_status)
    email = Effect(EMAIL, notifications.send_within)
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


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling a message did: whether it was handled now (False: it had been
    before), and the names of the effects that acted."""

    now: bool
    acted: frozenset[str] = frozenset()


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

    async def handle_job(self, job: Mapping[str, Any]) -> Handled:
        """Handle the job the outbox relay enqueued (see `OutboxRelay`)."""
        return await self.handle(job["message_id"], job["name"], job["payload"])

    async def handle(self, message_id: str, name: str, payload: dict[str, Any]) -> Handled:
        """Handle the outbox message `message_id`, recorded as `name` and `payload`."""
        return await self.dispatch(message_id, event_from_record(name, payload))

    async def dispatch(self, message_id: str, event: DomainEvent) -> Handled:
        """Run `event`'s effects and mark `message_id` handled."""
        effects = self._table.effects_of(event)
        async with self._uow_factory() as uow:
            if await uow.outbox.is_handled(message_id):
                return Handled(now=False)
            acted: set[str] = set()
            for effect in effects:  # in the table's order
                if await effect.run(uow, message_id, event):
                    acted.add(effect.name)
            await uow.outbox.mark_handled(message_id, self._clock.now())
            await uow.commit()
        return Handled(now=True, acted=frozenset(acted))
