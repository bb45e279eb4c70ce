"""Domain errors: every rule the shop enforces fails with one of these.

Each error names what went wrong in the shop's language; the HTTP layer maps each class
to one status code in one place, the CLI prints its message on one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain.money raises these errors: importing it here would be a cycle
    from domain.money import Money


class DomainError(Exception):
    """Base of every error the domain and the use cases raise on purpose, and of the
    errors the ports raise (application.ports.errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValue(DomainError):
    """A value does not satisfy its own rules (bad email, negative money, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class CurrencyMismatch(DomainError):
    """Arithmetic or comparison between amounts in different currencies."""


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it exists."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """The request clashes with the current state of something."""


class OutOfStock(Conflict):
    """Fewer units are in stock than asked for."""

    def __init__(self, product_id: str, requested: int, available: int | None = None) -> None:
        detail = f"product {product_id}: {requested} requested"
        if available is not None:
            detail += f", {available} in stock"
        super().__init__(f"out of stock ({detail})")
        self.product_id = product_id
        self.requested = requested
        self.available = available


class InventoryWouldGoNegative(Conflict):
    """An inventory correction would take stock below zero."""


class EmptyCart(Conflict):
    """An order cannot be placed from an empty cart."""

    def __init__(self) -> None:
        super().__init__("the cart is empty")


class IllegalTransition(Conflict):
    """A status change that the state machine does not allow."""

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"{kind} cannot go from {current} to {target}")
        self.kind = kind
        self.current = current
        self.target = target


class EmailAlreadyRegistered(Conflict):
    """Another account already uses this email."""

    def __init__(self) -> None:
        super().__init__("an account with this email already exists")


class IdempotencyKeyReused(Conflict):
    """The same idempotency key was sent with a different request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request")


class EarlierRefundRecovered(Conflict):
    """Refunds made at the payment provider but not recorded by the shop (an answer lost,
    or a refund made in the provider's dashboard) turned up; they are now recorded, and
    the refund just asked for was not made."""

    def __init__(self, recovered: Money, refundable: Money) -> None:
        super().__init__(
            f"an earlier refund of {recovered} made at the payment provider but not "
            f"recorded here (its answer was lost, or it was made outside the shop) is now "
            f"recorded; {refundable} is left to refund, and this refund was not made: send "
            "the request again if another refund is still wanted"
        )
        self.recovered = recovered
        self.refundable = refundable


class RuleViolation(DomainError):
    """Well-formed input that breaks a business rule (HTTP 422)."""


class RefundExceedsPayment(RuleViolation):
    """Refunds would add up to more than was paid."""


class WeakPassword(InvalidValue):
    """A password that is too short or too common."""

    def __init__(self, message: str) -> None:
        super().__init__("password", message)


class AuthenticationFailed(DomainError):
    """No credentials, wrong credentials, or credentials that no longer work."""


class InvalidCredentials(AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__("invalid email or password")


class InvalidToken(AuthenticationFailed):
    def __init__(self, reason: str = "invalid or expired token") -> None:
        super().__init__(reason)


class AccountDisabled(AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__("this account is disabled")


class PermissionDenied(DomainError):
    """Authenticated, but not allowed to do this."""
