"""Email, background jobs and live order updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text_body: str
    html_body: str | None = None


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message to the mail system; raises `ServiceUnavailable` if it is down."""


class TaskQueue(Protocol):
    async def enqueue(self, job_name: str, *, job_id: str, payload: dict[str, Any]) -> None:
        """Queue a job. A second enqueue with the same `job_id` is a no-op while that job
        waits or runs; once it ended (or the queue lost it) the same id may be queued anew,
        so a job must be idempotent. Raises `ServiceUnavailable` if the queue is down."""


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What a watcher of an order is told: its status as of `updated_at`."""

    order_id: str
    status: str
    updated_at: datetime


class OrderUpdates(Protocol):
    """Live order updates, fanned out to every subscriber of the order in every process
    the adapter reaches (one process in memory; every app process through Redis)."""

    async def publish(self, update: OrderUpdate) -> None:
        """Fan the update out now; raises `ServiceUnavailable` if the broker is down (the
        outbox event behind it is then handled again later). Updates are not stored, so a
        subscriber that was not listening then misses it (and reads the order instead)."""

    def subscribe(self, order_id: str) -> AbstractAsyncContextManager[AsyncIterator[OrderUpdate]]:
        """Updates of `order_id` published from the moment this is entered until it is
        left. Raises `ServiceUnavailable` if the adapter cannot listen now."""
