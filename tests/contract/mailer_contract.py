"""The Mailer contract: what is sent arrives intact; an outage is reported."""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path

import pytest

from application.ports.errors import ServiceUnavailable
from application.ports.messaging import EmailMessage, Mailer


def _normalised(message: EmailMessage) -> EmailMessage:
    """Transports may end lines with CRLF and add a final newline; neither is a change."""

    def body(text: str | None) -> str | None:
        return None if text is None else text.replace("\r\n", "\n").rstrip("\n")

    return dataclasses.replace(
        message, text_body=body(message.text_body) or "", html_body=body(message.html_body)
    )


class MailerContract(abc.ABC):
    """Subclass with `make_mailer` and `delivered`, or `MailerOutageContract` if the
    adapter can be down. `self.tmp_path` is a fresh folder for each test."""

    tmp_path: Path

    @abc.abstractmethod
    def make_mailer(self) -> Mailer: ...

    @abc.abstractmethod
    async def delivered(self, mailer: Mailer) -> list[EmailMessage]:
        """What arrived at the other end, in sending order, read back as messages."""

    @pytest.fixture
    def mailer(self, tmp_path: Path) -> Mailer:
        self.tmp_path = tmp_path
        return self.make_mailer()

    async def assert_delivered(self, mailer: Mailer, expected: list[EmailMessage]) -> None:
        assert [_normalised(m) for m in await self.delivered(mailer)] == [
            _normalised(m) for m in expected
        ]

    async def test_a_plain_text_email_arrives_as_sent(self, mailer: Mailer) -> None:
        message = EmailMessage(
            to="ann@example.com",
            subject="Your order 1001 is confirmed",
            text_body="Hello Ann,\n\nThank you for your order.\n",
        )
        await mailer.send(message)
        await self.assert_delivered(mailer, [message])

    async def test_an_html_alternative_arrives_with_the_text(self, mailer: Mailer) -> None:
        message = EmailMessage(
            to="ann@example.com",
            subject="Receipt",
            text_body="Total: 12.50 EUR",
            html_body="<p>Total: <b>12.50 EUR</b></p>",
        )
        await mailer.send(message)
        await self.assert_delivered(mailer, [message])

    async def test_non_ascii_subjects_bodies_and_names_arrive_intact(self, mailer: Mailer) -> None:
        message = EmailMessage(
            to="Zoë Ångström <zoe@example.com>",
            subject="Ваш заказ №1001 — подтверждён ✓",
            text_body="Grüße aus dem Laden 🛒\nSecond line: 日本語",
            html_body="<p>Grüße 🛒</p>",
        )
        await mailer.send(message)
        await self.assert_delivered(mailer, [message])

    async def test_long_subjects_and_lines_arrive_unbroken(self, mailer: Mailer) -> None:
        message = EmailMessage(
            to="ann@example.com", subject="word " * 40 + "end", text_body="x" * 2_000
        )
        await mailer.send(message)
        await self.assert_delivered(mailer, [message])

    async def test_several_emails_all_arrive_in_sending_order(self, mailer: Mailer) -> None:
        messages = [
            EmailMessage(to=f"user{n}@example.com", subject=f"Message {n}", text_body=str(n))
            for n in range(5)
        ]
        for message in messages:
            await mailer.send(message)
        await self.assert_delivered(mailer, messages)


class MailerOutageContract(MailerContract):
    """For a mailer whose other end can be down (a server, a folder)."""

    @abc.abstractmethod
    def make_unreachable_mailer(self) -> Mailer:
        """A mailer that cannot deliver (may use `self.tmp_path`)."""

    async def test_a_mailer_that_is_down_says_so(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        mailer = self.make_unreachable_mailer()
        with pytest.raises(ServiceUnavailable):
            await mailer.send(EmailMessage(to="ann@example.com", subject="s", text_body="b"))
