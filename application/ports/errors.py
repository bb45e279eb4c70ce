"""What the ports raise when the world outside fails: a service down, a payment provider
refusing, a webhook that is not genuine. They are not the shop's rules (those are in
domain.errors), but they derive from `DomainError` so that callers meet one family of
errors: the HTTP layer maps both in one table, the CLI prints either on one line.
"""

from __future__ import annotations

from domain.errors import DomainError


class ServiceUnavailable(DomainError):
    """A backing service the operation needs is down; retrying later may work."""


class PaymentProviderError(ServiceUnavailable):
    """The payment provider could not be reached or refused the call."""


class ProviderKeyReused(PaymentProviderError):
    """The payment provider refused a call because its idempotency key was first used
    with other parameters (the first call may well have taken effect)."""


class InvalidWebhook(DomainError):
    """A provider webhook with a bad signature, a stale timestamp or a broken body."""
