"""Domain events survive the trip to an outbox record (and JSON) and back."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

import domain.events
from domain.events import (
    EVENT_TYPES,
    DomainEvent,
    OrderShipped,
    event_from_record,
    event_to_record,
)

# Outbox payloads are stored as JSON, so integers must stay within what JSON readers keep.
FIELD_STRATEGIES: dict[object, st.SearchStrategy[object]] = {
    int: st.integers(min_value=-(2**53), max_value=2**53),
    str: st.text(),
    str | None: st.none() | st.text(),
}


def events_of(event_type: type[DomainEvent]) -> st.SearchStrategy[DomainEvent]:
    hints = typing.get_type_hints(event_type)
    fields = {
        field.name: FIELD_STRATEGIES[hints[field.name]] for field in dataclasses.fields(event_type)
    }
    return st.builds(event_type, **fields)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@given(data=st.data())
def test_every_event_type_round_trips_through_its_record(name: str, data: st.DataObject) -> None:
    event = data.draw(events_of(EVENT_TYPES[name]))

    record_name, payload = event_to_record(event)

    assert record_name == name
    assert event_from_record(record_name, payload) == event


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@given(data=st.data())
def test_every_event_record_survives_json(name: str, data: st.DataObject) -> None:
    event = data.draw(events_of(EVENT_TYPES[name]))

    record_name, payload = event_to_record(event)
    stored = json.loads(json.dumps(payload))

    assert event_from_record(record_name, stored) == event


@pytest.mark.parametrize(("name", "event_type"), sorted(EVENT_TYPES.items()))
def test_event_records_hold_exactly_the_event_fields(
    name: str, event_type: type[DomainEvent]
) -> None:
    assert event_type.name == name
    assert dataclasses.is_dataclass(event_type)
    assert "name" not in {field.name for field in dataclasses.fields(event_type)}


def test_the_record_of_an_event_is_its_name_and_plain_fields() -> None:
    event = OrderShipped(order_id="o-1", order_number=3, user_id="u-1", tracking_number=None)

    assert event_to_record(event) == (
        "order_shipped",
        {"order_id": "o-1", "order_number": 3, "user_id": "u-1", "tracking_number": None},
    )


def test_every_event_type_is_registered_under_its_own_name() -> None:
    defined = [
        value
        for value in vars(domain.events).values()
        if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
    ]
    assert {event_type.name: event_type for event_type in defined} == EVENT_TYPES
    assert len(defined) == len(EVENT_TYPES)


@pytest.mark.parametrize("name", ["", "order_exploded", "event", "OrderPlaced"])
def test_an_unknown_event_name_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_record(name, {})


def test_events_are_immutable() -> None:
    event = OrderShipped(order_id="o-1", order_number=3, user_id="u-1", tracking_number="T")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.order_id = "o-2"  # type: ignore[misc]
