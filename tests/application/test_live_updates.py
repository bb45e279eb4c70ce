"""Relayed order events become live updates carrying the order's committed state."""

from __future__ import annotations

import asyncio

from application.live_updates import LiveOrderUpdates
from application.message_bus import LIVE_UPDATE, MessageBus, handler_table
from application.orders import PlacedOrder
from application.ports.messaging import OrderUpdate
from domain.events import (
    DomainEvent,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    PaymentFailed,
    UserRegistered,
)
from entrypoints.container import Container
from tests.application.shopping import pay


def order_paid(order_id: str) -> OrderPaid:
    return OrderPaid(order_id=order_id, order_number=1, user_id="u", amount=1, currency="USD")


async def test_a_paid_order_is_published_with_its_status_and_time(
    shop: Container, placed_order: PlacedOrder
) -> None:
    await pay(shop, placed_order)
    async with shop.order_updates().subscribe(placed_order.order.id) as updates:
        await shop.message_bus().dispatch("m-1", order_paid(placed_order.order.id))
        update = await asyncio.wait_for(anext(updates), 1)
    assert update.order_id == placed_order.order.id
    assert update.status == "paid"
    assert update.updated_at >= placed_order.order.updated_at


async def test_only_status_changes_are_published(
    shop: Container, placed_order: PlacedOrder
) -> None:
    published: list[OrderUpdate] = []

    class Recording:
        async def publish(self, update: OrderUpdate) -> None:
            published.append(update)

    live = LiveOrderUpdates(Recording())  # type: ignore[arg-type]
    bus = MessageBus(shop.unit_of_work(), handler_table(live, shop.notifications()), shop.clock())
    order = placed_order.order
    events: dict[str, DomainEvent] = {
        "order_placed": OrderPlaced(
            order_id=order.id, order_number=1, user_id="u", total_amount=1, currency="USD"
        ),
        "order_refunded": OrderRefunded(
            order_id=order.id,
            order_number=1,
            user_id="u",
            refund_id="r",
            amount=1,
            currency="USD",
            refunded_total=1,
        ),
        "user_registered": UserRegistered(user_id="u", email="u@example.com", full_name="U"),
        "payment_failed": PaymentFailed(order_id=order.id, payment_id="p", user_id="u"),
    }
    handled = {}
    for number, (name, event) in enumerate(events.items()):
        handled[name] = LIVE_UPDATE in (await bus.dispatch(f"m-{number}", event)).acted

    assert handled == {
        "order_placed": True,
        "order_refunded": False,
        "user_registered": False,
        "payment_failed": False,
    }
    assert [u.status for u in published] == ["pending"]


async def test_an_event_about_an_unknown_order_publishes_nothing(shop: Container) -> None:
    async with shop.unit_of_work()() as uow:
        assert not await shop.live_updates().publish_status(uow, "m", order_paid("no-such-order"))
