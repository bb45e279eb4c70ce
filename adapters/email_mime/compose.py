"""Composing a `Mailer` port message as a MIME email."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid

from application.ports.messaging import EmailMessage


def compose_mime(
    message: EmailMessage, *, sender: str, date: str, message_id_domain: str | None
) -> MimeMessage:
    """`message` from `sender` as a MIME email: the plain text body, plus an HTML
    alternative (multipart/alternative) when the message has one. `date` is the `Date`
    header as written (RFC 5322 form); the `Message-ID` is new and unique, at
    `message_id_domain` (None: this host's name)."""
    mime = MimeMessage(policy=email.policy.default)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = date
    mime["Message-ID"] = make_msgid(domain=message_id_domain)
    mime.set_content(message.text_body)
    if message.html_body is not None:
        mime.add_alternative(message.html_body, subtype="html")
    return mime
