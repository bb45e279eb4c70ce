"""Relayed order events become live order updates for whoever watches the order.

Runs where the outbox's events are handled (the worker, or the app on the embedded
default), so an update is published only for a change that committed, from whichever
process made it. What is published is the order as it stands when the event is handled:
an update that arrives late or twice therefore never shows a state the order was not in,
and watchers order updates by `updated_at`.
"""

from __future__ import annotations

import logging
from typing import Any

from application.ports.messaging import OrderUpdate, OrderUpdates
from application.ports.persistence import UnitOfWorkFactory

log = logging.getLogger(__name__)

# The events that change an order's status.
ORDER_STATUS_EVENTS = frozenset(
    {"order_placed", "order_paid", "order_shipped", "order_delivered", "order_cancelled"}
)


class LiveOrderUpdates:
    def __init__(self, uow_factory: UnitOfWorkFactory, updates: OrderUpdates) -> None:
        self._uow_factory = uow_factory
        self._updates = updates

    async def handle_event(self, message_id: str, name: str, payload: dict[str, Any]) -> bool:
        """Publish the order's status if event `name` changed it; True if published.
        Idempotent: publishing again only repeats the same state. Raises
        `ServiceUnavailable` if it could not be published (the event is handled again)."""
        if name not in ORDER_STATUS_EVENTS:
            return False
        async with self._uow_factory() as uow:
            order = await uow.orders.get(payload["order_id"])
        if order is None:
            log.warning("no order %s for event %s; no live update", payload["order_id"], message_id)
            return False
        await self._updates.publish(
            OrderUpdate(order_id=order.id, status=order.status.value, updated_at=order.updated_at)
        )
        return True
