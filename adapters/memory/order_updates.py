"""Live order updates within one process: an asyncio queue per subscriber."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from application.ports.messaging import OrderUpdate


class InProcessOrderUpdates:
    """The `OrderUpdates` port for one process (the embedded default, and tests).

    Each subscriber gets its own queue of at most `queue_size` updates; a subscriber that
    falls that far behind loses its oldest ones (the newest state is what matters)."""

    def __init__(self, *, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[OrderUpdate]]] = {}

    async def publish(self, update: OrderUpdate) -> None:
        for queue in list(self._subscribers.get(update.order_id, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(update)

    @contextlib.asynccontextmanager
    async def subscribe(self, order_id: str) -> AsyncIterator[AsyncIterator[OrderUpdate]]:
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(order_id, set()).add(queue)
        try:
            yield _Updates(queue)
        finally:
            subscribers = self._subscribers.get(order_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(order_id, None)


class _Updates:
    """The updates of one subscription. A class, not a generator: a caller that stops
    waiting (a timeout cancels `__anext__`) can wait again."""

    def __init__(self, queue: asyncio.Queue[OrderUpdate]) -> None:
        self._queue = queue

    def __aiter__(self) -> _Updates:
        return self

    async def __anext__(self) -> OrderUpdate:
        return await self._queue.get()
