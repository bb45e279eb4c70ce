"""The SMTP mailer against the Mailer contract, delivering to a real (aiosmtpd) server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.smtp.mailer import SmtpMailer, SmtpServer
from application.ports.messaging import EmailMessage, Mailer
from tests.contract.mailer_contract import MailerOutageContract
from tests.real_services import RecordingSmtpServer, free_port

pytestmark = pytest.mark.integration

SENDER = "hexmart <no-reply@hexmart.test>"


class TestSmtpMailer(MailerOutageContract):
    @pytest.fixture(autouse=True)
    def _smtp_server(self) -> Iterator[None]:
        self.server = RecordingSmtpServer()
        self.server.start()
        yield
        self.server.stop()

    def make_mailer(self) -> Mailer:
        return SmtpMailer(self.server.url, sender=SENDER)

    async def delivered(self, mailer: Mailer) -> list[EmailMessage]:
        return [received.as_message() for received in self.server.received]

    def make_unreachable_mailer(self) -> Mailer:
        return SmtpMailer(f"smtp://127.0.0.1:{free_port()}", sender=SENDER, timeout_seconds=2)

    async def test_the_envelope_and_headers_name_the_sender_and_recipient(
        self, mailer: Mailer
    ) -> None:
        await mailer.send(EmailMessage(to="Ann <ann@example.com>", subject="s", text_body="b"))
        [received] = self.server.received
        assert received.envelope_from == "no-reply@hexmart.test"
        assert received.envelope_to == ["ann@example.com"]
        assert received.mime["From"] == SENDER
        assert received.mime["Message-ID"].endswith("@hexmart.test>")
        assert received.mime["Date"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.test", SmtpServer("mail.test", 25, None, None, False, None)),
        (
            "smtp://ann%40shop:p%3Ass@mail.test?starttls=true",
            SmtpServer("mail.test", 587, "ann@shop", "p:ss", False, True),
        ),
        (
            "smtp://mail.test:2525?starttls=false",
            SmtpServer("mail.test", 2525, None, None, False, False),
        ),
        ("smtps://u:p@mail.test", SmtpServer("mail.test", 465, "u", "p", True, False)),
    ],
)
def test_smtp_urls_say_where_and_how_to_connect(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://mail.test", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=true"]
)
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"SMTP URL|starttls"):
        SmtpServer.from_url(url)
