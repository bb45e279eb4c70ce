"""Live order updates within one process: an asyncio queue per subscriber."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from adapters.order_update_fanout.fan_out import OrderUpdateFanOut, Updates
from application.ports.messaging import OrderUpdate


class InProcessOrderUpdates:
    """The `OrderUpdates` port for one process (the embedded default, and tests).

    Each subscriber gets its own queue of at most `queue_size` updates; a subscriber that
    falls that far behind loses its oldest ones (the newest state is what matters)."""

    def __init__(self, *, queue_size: int = 100) -> None:
        self._subscribers = OrderUpdateFanOut(queue_size=queue_size)

    async def publish(self, update: OrderUpdate) -> None:
        self._subscribers.deliver(update.order_id, update)

    @contextlib.asynccontextmanager
    async def subscribe(self, order_id: str) -> AsyncIterator[AsyncIterator[OrderUpdate]]:
        queue = self._subscribers.add(order_id)
        try:
            yield Updates(queue)
        finally:
            self._subscribers.remove(order_id, queue)
