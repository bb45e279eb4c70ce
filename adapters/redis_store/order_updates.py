"""Live order updates through Redis pub/sub, so that a change made in any process (a
worker, another app process) reaches the sockets of every app process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from adapters.order_update_fanout.fan_out import OrderUpdateFanOut, Updates
from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES, OutageLog
from adapters.redis_store.stopping import cancel_until_done
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import OrderUpdate

log = logging.getLogger(__name__)


def encode(update: OrderUpdate) -> bytes:
    return json.dumps(
        {
            "order_id": update.order_id,
            "status": update.status,
            "updated_at": update.updated_at.isoformat(),
        }
    ).encode()


def decode(data: bytes) -> OrderUpdate:
    fields = json.loads(data)
    return OrderUpdate(
        order_id=str(fields["order_id"]),
        status=str(fields["status"]),
        updated_at=datetime.fromisoformat(fields["updated_at"]),
    )


class RedisOrderUpdates:
    """The `OrderUpdates` port on Redis pub/sub, channel `<prefix>order-updates:<order id>`.

    One pub/sub connection per process, whatever the number of subscribers: a listener
    task reads it and hands each update to the queues of that order's subscribers (at most
    `queue_size` waiting each; the oldest go first). When the connection breaks (Redis
    restarted), the listener reconnects every `reconnect_seconds` and subscribes again to
    every channel still watched; updates published meanwhile are lost, as pub/sub has no
    history. Publishing while Redis is down logs a warning and drops the update.
    Close with `aclose()`.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = 100,
        reconnect_seconds: float = 0.5,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}order-updates:"
        self._reconnect_seconds = reconnect_seconds
        # Keyed by channel, as the listener reads them.
        self._subscribers = OrderUpdateFanOut(queue_size=queue_size)
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._outage = OutageLog(log, "order updates")

    async def publish(self, update: OrderUpdate) -> None:
        try:
            await self._redis.publish(self._channel(update.order_id), encode(update))
        except REDIS_FAILURES as error:
            self._outage.failed(error, "live order update not published")
            raise ServiceUnavailable(f"live updates unavailable: {error}") from error
        self._outage.succeeded()

    @contextlib.asynccontextmanager
    async def subscribe(self, order_id: str) -> AsyncIterator[AsyncIterator[OrderUpdate]]:
        channel = self._channel(order_id)
        async with self._lock:
            first = not self._subscribers.watches(channel)
            queue = self._subscribers.add(channel)
            if first:
                try:
                    await self._listening_pubsub().subscribe(channel)
                except REDIS_FAILURES as error:
                    self._subscribers.remove(channel, queue)
                    raise ServiceUnavailable(f"live updates unavailable: {error}") from error
            self._start_listener()
        try:
            yield Updates(queue)
        finally:
            async with self._lock:
                if self._subscribers.remove(channel, queue) and self._pubsub is not None:
                    with contextlib.suppress(*REDIS_FAILURES):
                        await self._pubsub.unsubscribe(channel)

    async def aclose(self) -> None:
        if self._listener is not None:
            await cancel_until_done(self._listener)
            self._listener = None
        if self._pubsub is not None:
            with contextlib.suppress(*REDIS_FAILURES):
                await self._pubsub.aclose()
            self._pubsub = None

    def _channel(self, order_id: str) -> str:
        return f"{self._prefix}{order_id}"

    def _listening_pubsub(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        return self._pubsub

    def _start_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="hexmart-order-updates")

    async def _listen(self) -> None:
        while True:
            pubsub = self._pubsub
            if pubsub is None or pubsub.connection is None:
                if not await self._reconnect():
                    return
                continue
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except REDIS_FAILURES as error:
                self._outage.failed(error, "live order updates paused until Redis is back")
                if not await self._reconnect():
                    return
                continue
            if message is None or message.get("type") != "message":
                continue
            self._outage.succeeded()
            self._deliver(message["channel"], message["data"])

    async def _reconnect(self) -> bool:
        """A fresh connection subscribed to every watched channel; False (and the
        listener ends) when nobody watches anything any more."""
        await asyncio.sleep(self._reconnect_seconds)
        async with self._lock:
            if self._pubsub is not None:
                with contextlib.suppress(*REDIS_FAILURES):
                    await self._pubsub.aclose()
                self._pubsub = None
            channels = self._subscribers.keys()
            if not channels:
                self._listener = None  # the next subscribe starts another
                return False
            try:
                await self._listening_pubsub().subscribe(*channels)
            except REDIS_FAILURES as error:
                self._outage.failed(error, "live order updates paused until Redis is back")
                return True
        log.info("order updates: listening again to %d orders", len(channels))
        return True

    def _deliver(self, channel: bytes | str, data: bytes) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            update = decode(data)
        except (ValueError, KeyError, TypeError):
            log.warning("order updates: unreadable message on %s ignored", name)
            return
        self._subscribers.deliver(name, update)
