"""Orders: a frozen copy of a cart at the moment it was bought, and its life afterwards."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import (
    CurrencyMismatch,
    EmptyCart,
    IllegalTransition,
    InvalidValue,
    RefundExceedsPayment,
)
from domain.events import (
    DomainEvent,
    EventSource,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
)
from domain.money import Money, sum_money
from domain.values import Address, Quantity


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Statuses in which money has been taken and may be given back.
REFUNDABLE_STATUSES = frozenset(
    {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}
)


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A product as it was sold: name and unit price are copied, never looked up again."""

    product_id: str
    name: str
    unit_price: Money
    quantity: Quantity

    @property
    def total_price(self) -> Money:
        return self.unit_price * self.quantity.value


@dataclass(kw_only=True, eq=False)
class Order(EventSource):
    id: str
    number: int
    user_id: str
    lines: tuple[OrderLine, ...]
    shipping_address: Address
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    paid_amount: Money
    refunded_amount: Money
    tracking_number: str | None = None
    version: int = 1
    _events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def place(
        cls,
        *,
        order_id: str,
        number: int,
        user_id: str,
        lines: list[OrderLine],
        shipping_address: Address,
        now: datetime,
    ) -> Order:
        """A new pending order; every line must be in one currency."""
        if not lines:
            raise EmptyCart()
        currency = lines[0].unit_price.currency
        if any(line.unit_price.currency != currency for line in lines):
            raise CurrencyMismatch("an order cannot mix currencies; split the cart by currency")
        if len({line.product_id for line in lines}) != len(lines):
            raise InvalidValue("items", "a product may appear only once in an order")
        zero = Money.zero(currency)
        order = cls(
            id=order_id,
            number=number,
            user_id=user_id,
            lines=tuple(lines),
            shipping_address=shipping_address,
            status=OrderStatus.PENDING,
            created_at=now,
            updated_at=now,
            paid_amount=zero,
            refunded_amount=zero,
        )
        order.record(
            OrderPlaced(
                order_id=order.id,
                order_number=number,
                user_id=user_id,
                total_amount=order.total_amount.amount,
                currency=currency,
            )
        )
        return order

    @property
    def currency(self) -> str:
        return self.lines[0].unit_price.currency

    @property
    def total_amount(self) -> Money:
        return sum_money([line.total_price for line in self.lines], self.currency)

    @property
    def refundable_amount(self) -> Money:
        return self.paid_amount - self.refunded_amount

    def _move_to(self, target: OrderStatus, now: datetime) -> None:
        if target not in ORDER_TRANSITIONS[self.status]:
            raise IllegalTransition("order", self.status.value, target.value)
        self.status = target
        self.updated_at = now
        self.version += 1

    def mark_paid(self, amount: Money, now: datetime) -> None:
        """The provider confirmed `amount` (the caller checked it matches the total)."""
        if amount != self.total_amount:
            raise InvalidValue("amount", f"paid {amount}, but the order totals {self.total_amount}")
        self._move_to(OrderStatus.PAID, now)
        self.paid_amount = amount
        self.record(
            OrderPaid(
                order_id=self.id,
                order_number=self.number,
                user_id=self.user_id,
                amount=amount.amount,
                currency=amount.currency,
            )
        )

    def ship(self, tracking_number: str | None, now: datetime) -> None:
        self._move_to(OrderStatus.SHIPPED, now)
        self.tracking_number = tracking_number
        self.record(
            OrderShipped(
                order_id=self.id,
                order_number=self.number,
                user_id=self.user_id,
                tracking_number=tracking_number,
            )
        )

    def deliver(self, now: datetime) -> None:
        self._move_to(OrderStatus.DELIVERED, now)
        self.record(
            OrderDelivered(order_id=self.id, order_number=self.number, user_id=self.user_id)
        )

    def cancel(self, reason: str, now: datetime) -> None:
        """Cancel a pending or paid order. The caller releases its stock and refunds it."""
        self._move_to(OrderStatus.CANCELLED, now)
        self.record(
            OrderCancelled(
                order_id=self.id, order_number=self.number, user_id=self.user_id, reason=reason
            )
        )

    def accept_late_payment(self, amount: Money, now: datetime) -> None:
        """Money arrived for an order that was cancelled before it was paid (an expired
        order whose customer paid at the last second). It is recorded so that it can be
        refunded; the order stays cancelled."""
        if self.status is not OrderStatus.CANCELLED or self.paid_amount.is_positive:
            raise IllegalTransition("order", self.status.value, "late payment")
        if amount != self.total_amount:
            raise InvalidValue("amount", f"paid {amount}, but the order totals {self.total_amount}")
        self.paid_amount = amount
        self.updated_at = now
        self.version += 1

    def check_refund(self, amount: Money) -> None:
        """Raise unless `amount` may be refunded now (positive, within what is left)."""
        if self.status not in REFUNDABLE_STATUSES or not self.paid_amount.is_positive:
            raise IllegalTransition("order", self.status.value, "refunded")
        if amount.currency != self.currency:
            raise CurrencyMismatch(f"the order is in {self.currency}, not {amount.currency}")
        if not amount.is_positive:
            raise InvalidValue("amount", "a refund must be positive")
        if amount > self.refundable_amount:
            raise RefundExceedsPayment(
                f"refund of {amount} exceeds the {self.refundable_amount} left to refund"
            )

    def record_refund(self, refund_id: str, amount: Money, now: datetime) -> None:
        self.check_refund(amount)
        self.refunded_amount = self.refunded_amount + amount
        self.updated_at = now
        self.version += 1
        self.record(
            OrderRefunded(
                order_id=self.id,
                order_number=self.number,
                user_id=self.user_id,
                refund_id=refund_id,
                amount=amount.amount,
                currency=amount.currency,
                refunded_total=self.refunded_amount.amount,
            )
        )
