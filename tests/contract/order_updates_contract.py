"""The OrderUpdates contract: every live-order-update adapter passes these."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from application.ports.messaging import OrderUpdate, OrderUpdates

WITHIN = 5.0
QUIET = 0.2  # how long "nothing arrives" is watched for


def an_update(order_id: str, status: str = "paid", second: int = 0) -> OrderUpdate:
    return OrderUpdate(order_id, status, datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC))


async def next_update(updates: AsyncIterator[OrderUpdate], within: float = WITHIN) -> OrderUpdate:
    return await asyncio.wait_for(anext(updates), within)


async def nothing_arrives(updates: AsyncIterator[OrderUpdate]) -> bool:
    try:
        await asyncio.wait_for(anext(updates), QUIET)
    except TimeoutError:
        return True
    return False


class OrderUpdatesContract(abc.ABC):
    """Subclass with `make_order_updates` (an async context manager yielding the adapter
    and closing it afterwards)."""

    @abc.abstractmethod
    def make_order_updates(self) -> contextlib.AbstractAsyncContextManager[OrderUpdates]: ...

    @pytest.fixture
    async def updates(self) -> AsyncIterator[OrderUpdates]:
        async with self.make_order_updates() as adapter:
            yield adapter

    @pytest.fixture
    def order_id(self) -> str:
        return f"order-{uuid.uuid4().hex}"

    async def test_a_subscriber_gets_each_update_of_its_order_in_order(
        self, updates: OrderUpdates, order_id: str
    ) -> None:
        async with updates.subscribe(order_id) as received:
            await updates.publish(an_update(order_id, "paid", 1))
            await updates.publish(an_update(order_id, "shipped", 2))
            first = await next_update(received)
            second = await next_update(received)

        assert first == an_update(order_id, "paid", 1)
        assert second == an_update(order_id, "shipped", 2)

    async def test_a_subscriber_gets_nothing_about_other_orders(
        self, updates: OrderUpdates, order_id: str
    ) -> None:
        async with updates.subscribe(order_id) as received:
            await updates.publish(an_update(f"{order_id}-other"))
            assert await nothing_arrives(received)

    async def test_every_subscriber_of_an_order_gets_the_update(
        self, updates: OrderUpdates, order_id: str
    ) -> None:
        async with (
            updates.subscribe(order_id) as first,
            updates.subscribe(order_id) as second,
        ):
            await updates.publish(an_update(order_id))
            assert await next_update(first) == an_update(order_id)
            assert await next_update(second) == an_update(order_id)

    async def test_publishing_with_nobody_listening_is_fine(
        self, updates: OrderUpdates, order_id: str
    ) -> None:
        await updates.publish(an_update(order_id))
        async with updates.subscribe(order_id) as received:
            # Updates are not stored: one published before subscribing is not seen.
            assert await nothing_arrives(received)

    async def test_one_subscriber_leaving_leaves_the_others_listening(
        self, updates: OrderUpdates, order_id: str
    ) -> None:
        async with updates.subscribe(order_id) as staying:
            async with updates.subscribe(order_id):
                pass
            await updates.publish(an_update(order_id))
            assert await next_update(staying) == an_update(order_id)
