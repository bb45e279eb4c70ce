"""A mailer that writes each email as an .eml file into a folder, for local runs."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import logging
import uuid
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from pathlib import Path

from adapters.email_mime.compose import compose_mime
from adapters.inprocess.atomic_files import write_atomically
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import EmailMessage
from application.ports.runtime import Clock

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "hexmart <noreply@hexmart.localhost>"


class FolderMailer:
    """Saves every message as `<UTC time>-<count>-<random>.eml` in `folder` and logs one
    line per message.

    The files are complete MIME messages (plain text, plus an HTML alternative when
    there is one), so any mail client opens them; names sort in sending order (the
    count orders messages sent within the same microsecond by one mailer). Each file
    appears whole or not at all (written aside, then renamed). The folder is created on
    the first send. If it cannot be written, `send` raises `ServiceUnavailable`.
    """

    def __init__(self, folder: Path | str, clock: Clock, *, sender: str = DEFAULT_SENDER) -> None:
        self._folder = Path(folder)
        self._clock = clock
        self._sender = sender
        self._count = itertools.count(1)

    @property
    def folder(self) -> Path:
        return self._folder

    async def send(self, message: EmailMessage) -> None:
        mime = self._to_mime(message)
        stamp = f"{self._clock.now():%Y%m%dT%H%M%S%fZ}-{next(self._count):06d}"
        name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        try:
            path = await asyncio.to_thread(self._save, name, bytes(mime))
        except OSError as exc:
            raise ServiceUnavailable(f"cannot write emails to {self._folder}: {exc}") from exc
        logger.info("email to %s, subject %r, saved as %s", message.to, message.subject, path)

    def saved_messages(self) -> list[EmailMessage]:
        """Every message in the folder, oldest first, read back from its .eml file."""
        if not self._folder.is_dir():
            return []
        return [read_eml(path) for path in sorted(self._folder.glob("*.eml"))]

    def _to_mime(self, message: EmailMessage) -> MimeMessage:
        return compose_mime(
            message,
            sender=self._sender,
            date=format_datetime(self._clock.now()),
            message_id_domain="hexmart.localhost",
        )

    def _save(self, name: str, data: bytes) -> Path:
        # Written aside and renamed, so readers globbing *.eml never see a partial file.
        target = self._folder / name
        write_atomically(target, data)
        return target


def read_eml(path: Path) -> EmailMessage:
    """Read an .eml file written by `FolderMailer` back into the port's message."""
    mime = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(mime, MimeMessage)
    text_part = mime.get_body(preferencelist=("plain",))
    html_part = mime.get_body(preferencelist=("html",))
    return EmailMessage(
        to=str(mime["To"]),
        subject=str(mime["Subject"]),
        text_body=_content(text_part),
        html_body=None if html_part is None else _content(html_part),
    )


def _content(part: object) -> str:
    if not isinstance(part, MimeMessage):
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else content.decode("utf-8", "replace")
