"""The `Mailer` port over SMTP."""

from __future__ import annotations

import email.message
import email.utils
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from adapters.email_mime.compose import compose_mime
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import EmailMessage

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to connect, read from an `smtp://` or `smtps://` URL."""

    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    start_tls: bool | None  # None: upgrade if the server offers STARTTLS

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://[user:password@]host[:port][?starttls=true|false]` (port 25 by
        default, 587 with starttls=true; without the parameter STARTTLS is used when the
        server offers it) or `smtps://[user:password@]host[:port]` for implicit TLS (port
        465 by default). User and password are percent-decoded."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://[user:password@]host[:port]")
        implicit_tls = parts.scheme == "smtps"
        start_tls: bool | None = None
        for value in parse_qs(parts.query).get("starttls", []):
            if value.lower() in _TRUE:
                start_tls = True
            elif value.lower() in _FALSE:
                start_tls = False
            else:
                raise ValueError(f"starttls must be true or false, got {value!r}")
        if implicit_tls and start_tls:
            raise ValueError("smtps:// is already TLS; starttls=true applies to smtp:// only")
        default_port = 465 if implicit_tls else 587 if start_tls else 25
        return cls(
            hostname=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            start_tls=False if implicit_tls else start_tls,
        )


class SmtpMailer:
    """Sends each message in its own SMTP session: `From` is `sender`, the body is plain
    text, with an HTML alternative (multipart/alternative) when the message has one.

    Any failure to hand the message over (no connection, timeout, TLS or login failure,
    the server refusing sender, recipient or data) raises `ServiceUnavailable`, so the job
    that sends it is retried and, if it keeps failing, recorded as failed.
    """

    def __init__(self, url: str, *, sender: str, timeout_seconds: float = 30.0) -> None:
        self._server = SmtpServer.from_url(url)
        self._sender = sender
        self._sender_domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or None
        self._timeout = timeout_seconds

    def compose(self, message: EmailMessage) -> email.message.EmailMessage:
        return compose_mime(
            message,
            sender=self._sender,
            date=email.utils.formatdate(usegmt=True),
            message_id_domain=self._sender_domain,
        )

    async def greet(self) -> str:
        """Connect, say EHLO (and log in, when the URL has a user) and quit: the server's
        greeting, or ServiceUnavailable (`hexmart check`)."""
        server = self._server
        client = aiosmtplib.SMTP(
            hostname=server.hostname,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=server.start_tls,
            timeout=self._timeout,
        )
        try:
            response = await client.connect()
            if server.username is not None and server.password is not None:
                await client.login(server.username, server.password)
            await client.quit()
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ServiceUnavailable(
                f"the mail server {server.hostname}:{server.port} did not answer: {error}"
            ) from error
        return " ".join(response.message.split())

    async def send(self, message: EmailMessage) -> None:
        server = self._server
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=server.start_tls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ServiceUnavailable(
                f"the mail server {server.hostname}:{server.port} did not take the message: {error}"
            ) from error
