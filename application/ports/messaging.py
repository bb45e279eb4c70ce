"""Email and background jobs."""

from __future__ import annotations

from dataclasses import dataclass
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
        """Queue a job. A second enqueue with the same `job_id` is a no-op, so relaying an
        event twice runs its job once. Raises `ServiceUnavailable` if the queue is down."""
