"""One-time password-reset tokens: issued when the email is sent, never stored in clear.

A reset request records a `PasswordResetRequested` event that names the user only. The
token itself is made by the job that sends the email, kept as a SHA-256 digest in the
token store and written nowhere but into the email, so no dump of the outbox, the queue
or the logs holds a token that resets a password.

Each token is bound to the user's password hash of the moment it is issued: changing
the password (by reset or in the profile) ends every outstanding reset. A request whose
password changed before its email went out, or that expired meanwhile, sends nothing.
A job run twice (at-least-once delivery) may issue a second token only when the first
email was not recorded as sent; both then name the same password hash, and the first one
used ends the other.
"""

from __future__ import annotations

from datetime import datetime

from application.credentials import digest, new_secret
from application.ports.runtime import Clock
from application.ports.security import TokenStore
from domain.events import PasswordResetRequested
from domain.users import User

PASSWORD_RESET = "password_reset"


def password_fingerprint(user: User) -> str:
    """A digest of the current password hash: it tells whether the password changed, and
    is useless for anything else (the hash itself lives in the users table)."""
    return digest(user.password_hash)[:32]


def reset_subject(user: User) -> str:
    """What a reset token is bound to: the user and their current password."""
    return f"{user.id}:{password_fingerprint(user)}"


class PasswordResetTokens:
    def __init__(self, tokens: TokenStore, clock: Clock) -> None:
        self._tokens = tokens
        self._clock = clock

    async def issue(self, user: User, request: PasswordResetRequested) -> str | None:
        """A fresh one-time token for `request`,
        valid until the request's `expires_at`; None when the request is void: expired,
        the user deactivated, or the password changed since it was made."""
        expires_at = datetime.fromisoformat(request.expires_at)
        if expires_at <= self._clock.now() or not user.is_active:
            return None
        # Requests recorded before tokens were issued at send time carry no fingerprint.
        asked_for = request.password_fingerprint
        if asked_for is not None and asked_for != password_fingerprint(user):
            return None
        token = new_secret()
        subject = reset_subject(user)
        await self._tokens.put_one_time(PASSWORD_RESET, digest(token), subject, expires_at)
        return token

    async def redeem(self, token: str) -> str | None:
        """Spend `token` once; the subject it was bound to, or None."""
        return await self._tokens.take_one_time(PASSWORD_RESET, digest(token), self._clock.now())
