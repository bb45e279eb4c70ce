"""The message bus: a relayed message reaches exactly the handlers its event type has in
the one table, and counts as handled only when their unit of work commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from application.message_bus import (
    EMAIL,
    LIVE_UPDATE,
    Effect,
    Handled,
    HandlerTable,
    MessageBus,
    handler_table,
)
from application.ports.errors import ServiceUnavailable
from application.ports.persistence import UnitOfWork, outbox_message
from domain.events import (
    EVENT_TYPES,
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
    event_to_record,
)
from entrypoints.container import Container
from tests.application.shopping import clock, task_queue

LEDGERED_AT = datetime(2026, 1, 1, tzinfo=UTC)
PAID = OrderPaid(order_id="o-1", order_number=1, user_id="u-1", amount=100, currency="USD")
PLACED = OrderPlaced(order_id="o-1", order_number=1, user_id="u-1", total_amount=1, currency="USD")


class Recorder:
    """Handlers that write down what reached them, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, DomainEvent]] = []

    def handler(self, label: str, *, fails: bool = False, acts: bool = True) -> Any:
        async def handle(uow: UnitOfWork, message_id: str, event: DomainEvent) -> bool:
            self.calls.append((label, message_id, event))
            # A ledger entry, as the email handler keeps one: it must commit with the
            # message, or not at all.
            await uow.processed_events.add("test", f"{message_id}:{label}", LEDGERED_AT)
            if fails:
                raise ServiceUnavailable(f"{label} is down")
            return acts

        return Effect(label, handle)


async def in_outbox(shop: Container, message_id: str, event: DomainEvent) -> None:
    async with shop.unit_of_work()() as uow:
        await uow.outbox.add(outbox_message(event, message_id, clock(shop).now()))
        await uow.commit()


async def is_handled(shop: Container, message_id: str) -> bool:
    async with shop.unit_of_work()() as uow:
        return await uow.outbox.is_handled(message_id)


async def ledger_has(shop: Container, key: str) -> bool:
    async with shop.unit_of_work()() as uow:
        added = await uow.processed_events.add("test", key, LEDGERED_AT)  # not committed
    return not added


def bus_of(shop: Container, table: HandlerTable) -> MessageBus:
    return MessageBus(shop.unit_of_work(), table, shop.clock())


def test_every_event_type_has_one_row_in_the_shops_table(shop: Container) -> None:
    table = handler_table(shop.live_updates(), shop.notifications())

    assert set(table.routes) == set(EVENT_TYPES.values())


def test_the_shops_table_publishes_status_changes_and_emails_the_buyer(shop: Container) -> None:
    live, notifications = shop.live_updates(), shop.notifications()
    publish = Effect(LIVE_UPDATE, live.publish_status)
    email = Effect(EMAIL, notifications.send_within)

    routes = handler_table(live, notifications).routes

    assert routes == {
        UserRegistered: (email,),
        PasswordResetRequested: (email,),
        OrderPlaced: (publish, email),
        OrderPaid: (publish, email),
        OrderShipped: (publish, email),
        OrderDelivered: (publish,),
        OrderCancelled: (publish, email),
        OrderRefunded: (email,),
        PaymentFailed: (),
    }


async def test_a_message_reaches_exactly_the_handlers_of_its_event_type(shop: Container) -> None:
    recorder = Recorder()
    table = HandlerTable()
    table.route(OrderPlaced, recorder.handler("placed"))
    table.route(
        OrderPaid,
        recorder.handler("paid-first"),
        recorder.handler("paid-idle", acts=False),
        recorder.handler("paid-last"),
    )
    await in_outbox(shop, "m-paid", PAID)
    name, payload = event_to_record(PAID)

    handled = await bus_of(shop, table).handle("m-paid", name, payload)

    assert handled == Handled(now=True, acted=frozenset({"paid-first", "paid-last"}))

    assert recorder.calls == [
        ("paid-first", "m-paid", PAID),
        ("paid-idle", "m-paid", PAID),
        ("paid-last", "m-paid", PAID),
    ]
    assert await is_handled(shop, "m-paid")


async def test_a_message_handled_before_reaches_no_handler(shop: Container) -> None:
    recorder = Recorder()
    table = HandlerTable()
    table.route(OrderPaid, recorder.handler("paid"))
    await in_outbox(shop, "m-paid", PAID)
    bus = bus_of(shop, table)

    assert await bus.dispatch("m-paid", PAID) == Handled(now=True, acted=frozenset({"paid"}))
    assert await bus.dispatch("m-paid", PAID) == Handled(now=False)

    assert [label for label, _, _ in recorder.calls] == ["paid"]


async def test_an_event_type_routed_to_no_handler_is_handled_with_no_effect(
    shop: Container,
) -> None:
    failed = PaymentFailed(order_id="o-1", payment_id="p-1", user_id="u-1")
    await in_outbox(shop, "m-failed", failed)

    assert await shop.message_bus().dispatch("m-failed", failed) == Handled(now=True)

    assert await is_handled(shop, "m-failed")


async def test_an_event_type_missing_from_the_table_is_refused_and_stays_unhandled(
    shop: Container,
) -> None:
    recorder = Recorder()
    table = HandlerTable()
    table.route(OrderPlaced, recorder.handler("placed"))
    await in_outbox(shop, "m-paid", PAID)

    with pytest.raises(ValueError, match="OrderPaid"):
        await bus_of(shop, table).dispatch("m-paid", PAID)

    assert recorder.calls == []
    assert not await is_handled(shop, "m-paid")


async def test_a_record_that_does_not_fit_its_event_is_refused_and_stays_unhandled(
    shop: Container,
) -> None:
    await in_outbox(shop, "m-paid", PAID)

    with pytest.raises(ValueError, match="order_paid"):
        await shop.message_bus().handle("m-paid", "order_paid", {"order_id": "o-1"})

    assert not await is_handled(shop, "m-paid")


async def test_a_failing_handler_rolls_back_the_whole_message(shop: Container) -> None:
    recorder = Recorder()
    table = HandlerTable()
    table.route(OrderPaid, recorder.handler("ledgered"), recorder.handler("down", fails=True))
    await in_outbox(shop, "m-paid", PAID)
    bus = bus_of(shop, table)

    with pytest.raises(ServiceUnavailable):
        await bus.dispatch("m-paid", PAID)

    assert not await is_handled(shop, "m-paid")
    assert not await ledger_has(shop, "m-paid:ledgered")


async def test_the_handlers_commit_with_the_message(shop: Container) -> None:
    recorder = Recorder()
    table = HandlerTable()
    table.route(OrderPaid, recorder.handler("ledgered"))
    await in_outbox(shop, "m-paid", PAID)

    await bus_of(shop, table).dispatch("m-paid", PAID)

    assert await is_handled(shop, "m-paid")
    assert await ledger_has(shop, "m-paid:ledgered")


def test_an_event_type_is_routed_once() -> None:
    table = HandlerTable()
    table.route(OrderPaid)

    with pytest.raises(ValueError, match="OrderPaid is routed twice"):
        table.route(OrderPaid)


async def test_the_job_the_relay_enqueues_is_what_the_bus_handles(shop: Container) -> None:
    await shop.authentication().register(
        email="ann@example.com", password="correct horse battery", full_name="Ann"
    )
    await shop.outbox_relay().relay_all()

    [job] = task_queue(shop).jobs
    handled = await shop.message_bus().handle_job(job.payload)

    assert handled == Handled(now=True, acted=frozenset({EMAIL}))
    assert await is_handled(shop, job.job_id)
