"""Domain events: facts the shop records in the outbox in the same transaction as the change.

Every event is a frozen dataclass of plain values (strings and integers) so that it can be
stored and read back without knowing anything about a serialisation library:
`event_to_record(e)` gives `(name, payload)` and `event_from_record(name, payload)` rebuilds it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    name: ClassVar[str] = "event"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRegistered(DomainEvent):
    name: ClassVar[str] = "user_registered"
    user_id: str
    email: str
    full_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordResetRequested(DomainEvent):
    """Names the user only: the one-time token is issued when the email is sent, so no
    token sits in the outbox, the queue or a log line. `password_fingerprint` (a digest
    of the password hash) voids the request if the password changes before it is sent;
    requests recorded by earlier versions carry none (and a token and an address, which
    are ignored)."""

    name: ClassVar[str] = "password_reset_requested"
    user_id: str
    expires_at: str
    password_fingerprint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(DomainEvent):
    name: ClassVar[str] = "order_placed"
    order_id: str
    order_number: int
    user_id: str
    total_amount: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPaid(DomainEvent):
    name: ClassVar[str] = "order_paid"
    order_id: str
    order_number: int
    user_id: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderShipped(DomainEvent):
    name: ClassVar[str] = "order_shipped"
    order_id: str
    order_number: int
    user_id: str
    tracking_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDelivered(DomainEvent):
    name: ClassVar[str] = "order_delivered"
    order_id: str
    order_number: int
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(DomainEvent):
    name: ClassVar[str] = "order_cancelled"
    order_id: str
    order_number: int
    user_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefunded(DomainEvent):
    name: ClassVar[str] = "order_refunded"
    order_id: str
    order_number: int
    user_id: str
    refund_id: str
    amount: int
    currency: str
    refunded_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFailed(DomainEvent):
    name: ClassVar[str] = "payment_failed"
    order_id: str
    payment_id: str
    user_id: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        UserRegistered,
        PasswordResetRequested,
        OrderPlaced,
        OrderPaid,
        OrderShipped,
        OrderDelivered,
        OrderCancelled,
        OrderRefunded,
        PaymentFailed,
    )
}


def event_to_record(event: DomainEvent) -> tuple[str, dict[str, Any]]:
    return event.name, dataclasses.asdict(event)


def event_from_record(name: str, payload: dict[str, Any]) -> DomainEvent:
    """The event recorded as `name` and `payload`. Fields the event does not have (written
    by an earlier version) are left out; an unknown name, or a payload missing a field the
    event needs, raises ValueError."""
    try:
        cls = EVENT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown event type {name!r}") from None
    fields = {field.name for field in dataclasses.fields(cls)}
    try:
        return cls(**{key: value for key, value in payload.items() if key in fields})
    except TypeError as error:
        raise ValueError(f"{name} record does not fit its event: {error}") from None


class EventSource:
    """Mixin for aggregates that collect events until the unit of work takes them: a
    repository hands its unit of work every `EventSource` it hands out or takes in, and
    the commit writes their new events to the outbox."""

    _events: list[DomainEvent]

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """The events recorded and not pulled yet, oldest first (left in place)."""
        return tuple(self._events)

    def pull_events(self, count: int | None = None) -> list[DomainEvent]:
        """Take the recorded events (only the oldest `count` of them, if given) off the
        aggregate."""
        taken = len(self._events) if count is None else count
        events, self._events = self._events[:taken], self._events[taken:]
        return events
