"""Turning relayed domain events into emails, each sent at most once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from application import email_templates as templates
from application.email_templates import ShopIdentity
from application.password_resets import PasswordResetTokens
from application.ports.messaging import EmailMessage, Mailer
from application.ports.persistence import UnitOfWork
from application.ports.runtime import Clock
from domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    PasswordResetRequested,
    UserRegistered,
    event_to_record,
)
from domain.users import User

log = logging.getLogger(__name__)

Template = Callable[[str, dict[str, Any], ShopIdentity], EmailMessage]

# event type -> (email kind, template). Events not listed send no email.
EMAILS: dict[type[DomainEvent], tuple[str, Template]] = {
    UserRegistered: ("welcome", templates.welcome),
    PasswordResetRequested: ("password_reset", templates.password_reset),
    OrderPlaced: ("order_confirmation", templates.order_confirmation),
    OrderPaid: ("payment_received", templates.payment_received),
    OrderShipped: ("order_shipped", templates.order_shipped),
    OrderCancelled: ("order_cancelled", templates.order_cancelled),
    OrderRefunded: ("order_refunded", templates.order_refunded),
}

# The email ledger shares the processed-events store with the payment provider's events
# (one table, no migration): its entries go under this provider name, keyed by
# "<outbox message id>:<email kind>".
EMAIL_LEDGER = "email"


async def enter_in_email_ledger(uow: UnitOfWork, message_id: str, kind: str, at: datetime) -> bool:
    """Enter the `kind` email of outbox message `message_id` in the ledger, in `uow`; False
    (nothing written) if it is there already: sent before, or by a concurrent transaction
    that committed."""
    return await uow.processed_events.add(EMAIL_LEDGER, f"{message_id}:{kind}", at)


class Notifications:
    def __init__(
        self,
        mailer: Mailer,
        clock: Clock,
        shop: ShopIdentity | None = None,
        *,
        reset_tokens: PasswordResetTokens,
    ) -> None:
        self._mailer = mailer
        self._clock = clock
        self._shop = shop or ShopIdentity()
        self._reset_tokens = reset_tokens

    async def send_within(self, uow: UnitOfWork, message_id: str, event: DomainEvent) -> bool:
        """Send the email an event calls for, recording it in the ledger in `uow`; True if
        one was sent now.

        The ledger entry and the send share the caller's transaction: if sending fails, the
        entry is rolled back and a retry sends again; once it committed, a re-run sends
        nothing. Raises ServiceUnavailable when the mail system is down (the job is
        retried).
        """
        email = EMAILS.get(type(event))
        if email is None:
            return False
        kind, template = email
        _, payload = event_to_record(event)
        if not await enter_in_email_ledger(uow, message_id, kind, self._clock.now()):
            return False
        user: User | None = None
        recipient = event.email if isinstance(event, UserRegistered) else None
        if recipient is None or isinstance(event, PasswordResetRequested):
            user = await uow.users.get(payload["user_id"])
            if user is None:
                log.warning("no user %s for %s email; skipped", payload["user_id"], kind)
                return False
            recipient = user.email.value
        if isinstance(event, PasswordResetRequested):
            assert user is not None
            token = await self._reset_tokens.issue(user, event)
            if token is None:
                log.info("password reset %s expired or void before it was sent", message_id)
                return False
            payload = {**payload, "reset_link": self._shop.password_reset_link(token)}
        await self._mailer.send(template(recipient, payload, self._shop))
        log.info("sent %s email for event %s", kind, message_id)
        return True
