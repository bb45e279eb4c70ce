"""Payments: the provider's side of an order, one payment intent per order."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import IllegalTransition, InvalidValue, RefundExceedsPayment
from domain.events import DomainEvent, EventSource, PaymentFailed
from domain.money import Money, sum_money


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    FAILED = "failed"
    COMPLETED = "completed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


# How far a payment has progressed. A provider event may only move a payment forward:
# a late `payment_failed` after `succeeded` changes nothing. FAILED sits above PENDING but
# below COMPLETED because the customer may retry the same intent after a decline.
_PROGRESS = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.CANCELLED: 2,
    PaymentStatus.COMPLETED: 3,
    PaymentStatus.PARTIALLY_REFUNDED: 4,
    PaymentStatus.REFUNDED: 5,
}


class PaymentOutcome(enum.StrEnum):
    """What the provider says happened to an intent."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    amount: Money
    reason: str | None
    provider_refund_id: str | None
    created_at: datetime


@dataclass(kw_only=True, eq=False)
class Payment(EventSource):
    id: str
    order_id: str
    user_id: str
    provider: str
    amount: Money
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    intent_id: str | None = None
    client_secret: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    version: int = 1
    _events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(
        cls,
        *,
        payment_id: str,
        order_id: str,
        user_id: str,
        provider: str,
        amount: Money,
        now: datetime,
    ) -> Payment:
        if not amount.is_positive:
            raise InvalidValue("amount", "a payment must be for a positive amount")
        return cls(
            id=payment_id,
            order_id=order_id,
            user_id=user_id,
            provider=provider,
            amount=amount,
            status=PaymentStatus.PENDING,
            created_at=now,
            updated_at=now,
        )

    @property
    def refunded_amount(self) -> Money:
        return sum_money([refund.amount for refund in self.refunds], self.amount.currency)

    @property
    def refundable_amount(self) -> Money:
        if self.status not in (PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED):
            return Money.zero(self.amount.currency)
        return self.amount - self.refunded_amount

    def attach_intent(self, intent_id: str, client_secret: str | None, now: datetime) -> None:
        if self.intent_id is not None and self.intent_id != intent_id:
            raise IllegalTransition("payment", f"intent {self.intent_id}", f"intent {intent_id}")
        self.intent_id = intent_id
        self.client_secret = client_secret
        self._touch(now)

    def apply_outcome(self, outcome: PaymentOutcome, now: datetime) -> bool:
        """Move forward to what the provider reports; False if it changes nothing.

        Never moves backwards, so duplicate, late and out-of-order events are harmless.
        A move to FAILED records `PaymentFailed` (the customer is told to try again).
        """
        target = {
            PaymentOutcome.PENDING: PaymentStatus.PENDING,
            PaymentOutcome.SUCCEEDED: PaymentStatus.COMPLETED,
            PaymentOutcome.FAILED: PaymentStatus.FAILED,
            PaymentOutcome.CANCELLED: PaymentStatus.CANCELLED,
        }[outcome]
        if _PROGRESS[target] <= _PROGRESS[self.status]:
            return False
        if self.status is PaymentStatus.CANCELLED and target is not PaymentStatus.COMPLETED:
            return False
        self.status = target
        self._touch(now)
        if target is PaymentStatus.FAILED:
            self.record(
                PaymentFailed(order_id=self.order_id, payment_id=self.id, user_id=self.user_id)
            )
        return True

    def add_refund(self, refund: Refund, now: datetime) -> None:
        if self.status not in (PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED):
            raise IllegalTransition("payment", self.status.value, "refunded")
        if not refund.amount.is_positive:
            raise InvalidValue("amount", "a refund must be positive")
        if refund.amount > self.refundable_amount:
            raise RefundExceedsPayment(
                f"refund of {refund.amount} exceeds the {self.refundable_amount} left to refund"
            )
        self.refunds.append(refund)
        self.status = (
            PaymentStatus.REFUNDED
            if self.refunded_amount == self.amount
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        self._touch(now)

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
