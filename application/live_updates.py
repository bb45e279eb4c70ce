"""Relayed order events become live order updates for whoever watches the order.

Runs where the outbox's events are handled (the worker, or the app on the embedded
default), so an update is published only for a change that committed, from whichever
process made it. What is published is the order as it stands when the event is handled:
an update that arrives late or twice therefore never shows a state the order was not in,
and watchers order updates by `updated_at`.
"""

from __future__ import annotations

import logging

from application.ports.messaging import OrderUpdate, OrderUpdates
from application.ports.persistence import UnitOfWork
from domain.events import OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderShipped

log = logging.getLogger(__name__)

# The events that change an order's status (the message bus routes these here).
OrderStatusEvent = OrderPlaced | OrderPaid | OrderShipped | OrderDelivered | OrderCancelled


class LiveOrderUpdates:
    def __init__(self, updates: OrderUpdates) -> None:
        self._updates = updates

    async def publish_status(
        self, uow: UnitOfWork, message_id: str, event: OrderStatusEvent
    ) -> bool:
        """Publish the status of the order `event` changed, as it stands in `uow`; True if
        published. Idempotent: publishing again only repeats the same state. Raises
        `ServiceUnavailable` if it could not be published (the event is handled again)."""
        order = await uow.orders.get(event.order_id)
        if order is None:
            log.warning("no order %s for event %s; no live update", event.order_id, message_id)
            return False
        await self._updates.publish(
            OrderUpdate(order_id=order.id, status=order.status.value, updated_at=order.updated_at)
        )
        return True
