"""Relayed order events become live updates carrying the order's committed state."""

from __future__ import annotations

import asyncio

from application.live_updates import LiveOrderUpdates
from application.orders import PlacedOrder
from application.ports.messaging import OrderUpdate
from entrypoints.container import Container
from tests.application.shopping import pay


async def test_a_paid_order_is_published_with_its_status_and_time(
    shop: Container, placed_order: PlacedOrder
) -> None:
    await pay(shop, placed_order)
    async with shop.order_updates().subscribe(placed_order.order.id) as updates:
        await shop.live_updates().handle_event(
            "m-1", "order_paid", {"order_id": placed_order.order.id}
        )
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

    live = LiveOrderUpdates(shop.unit_of_work(), Recording())  # type: ignore[arg-type]
    handled = {
        name: await live.handle_event("m", name, {"order_id": placed_order.order.id})
        for name in ("order_placed", "order_refunded", "user_registered", "payment_failed")
    }

    assert handled == {
        "order_placed": True,
        "order_refunded": False,
        "user_registered": False,
        "payment_failed": False,
    }
    assert [u.status for u in published] == ["pending"]


async def test_an_event_about_an_unknown_order_publishes_nothing(shop: Container) -> None:
    assert not await shop.live_updates().handle_event(
        "m", "order_paid", {"order_id": "no-such-order"}
    )
