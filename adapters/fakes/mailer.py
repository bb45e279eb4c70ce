"""A mailer that keeps what it sends in a list; the test double."""

from __future__ import annotations

from application.ports.errors import ServiceUnavailable
from application.ports.messaging import EmailMessage


class InMemoryMailer:
    """Appends each message to `sent`. After `go_down()`, `send` raises
    `ServiceUnavailable` (and records nothing) until `come_back()`."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self._down = False

    async def send(self, message: EmailMessage) -> None:
        if self._down:
            raise ServiceUnavailable("the mail server is down")
        self.sent.append(message)

    def go_down(self) -> None:
        self._down = True

    def come_back(self) -> None:
        self._down = False

    def sent_to(self, address: str) -> list[EmailMessage]:
        """The messages sent to `address` (compared case-insensitively), oldest first."""
        wanted = address.casefold()
        return [message for message in self.sent if message.to.casefold() == wanted]
