"""Subscribers' queues per order, and handing an update to each of them."""

from __future__ import annotations

import asyncio

from application.ports.messaging import OrderUpdate


class OrderUpdateFanOut:
    """The queues of the subscribers of each key (an order id, or the channel it is
    published on). Each queue holds at most `queue_size` updates; a subscriber that falls
    that far behind loses its oldest ones (the newest state is what matters)."""

    def __init__(self, *, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[OrderUpdate]]] = {}

    def add(self, key: str) -> asyncio.Queue[OrderUpdate]:
        """A new subscriber's queue for `key`."""
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(key, set()).add(queue)
        return queue

    def remove(self, key: str, queue: asyncio.Queue[OrderUpdate]) -> bool:
        """Drop `queue`; True if nobody watches `key` any more."""
        queues = self._subscribers.get(key, set())
        queues.discard(queue)
        if queues:
            return False
        self._subscribers.pop(key, None)
        return True

    def deliver(self, key: str, update: OrderUpdate) -> None:
        """Hand `update` to every subscriber of `key`, dropping a full queue's oldest."""
        for queue in list(self._subscribers.get(key, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(update)

    def watches(self, key: str) -> bool:
        return key in self._subscribers

    def keys(self) -> list[str]:
        """Every key somebody watches."""
        return list(self._subscribers)

    def subscriber_count(self, key: str) -> int:
        return len(self._subscribers.get(key, ()))


class Updates:
    """The updates of one subscription, read from its queue. A class, not a generator: a
    caller that stops waiting (a timeout cancels `__anext__`) can wait again."""

    def __init__(self, queue: asyncio.Queue[OrderUpdate]) -> None:
        self._queue = queue

    def __aiter__(self) -> Updates:
        return self

    async def __anext__(self) -> OrderUpdate:
        return await self._queue.get()
