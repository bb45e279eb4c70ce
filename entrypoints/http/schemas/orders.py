"""Orders, their payments and refunds."""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.orders import PlacedOrder as PlacedOrderResult
from application.ports.persistence import AuditEntry
from domain import orders, payments, values
from entrypoints.http.schemas.common import Money, money_out, rfc3339


class Address(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None

    def value(self) -> values.Address:
        return values.Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
        )


class Checkout(msgspec.Struct, forbid_unknown_fields=True):
    shipping_address: Address


class OrderLine(msgspec.Struct):
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    total_price: Money


class Order(msgspec.Struct):
    id: str
    number: int
    user_id: str
    status: orders.OrderStatus
    items: list[OrderLine]
    total_amount: Money
    refunded_amount: Money
    shipping_address: Address
    tracking_number: str | None
    created_at: datetime
    updated_at: datetime


class OrderHistoryEntry(msgspec.Struct):
    """A status change (or refund): `event` is placed, paid, cancelled, expired, shipped,
    delivered or refunded; `status` the order's status after it. `actor`: for staff, who
    (`user:<id>`, `api-key:<id>`, `cli:<operator>`, `system`); for the customer,
    `customer` (themselves) or `shop`."""

    at: datetime
    event: str
    status: str | None
    actor: str


class OrderDetail(Order):
    """An order with its history, oldest first."""

    history: list[OrderHistoryEntry] = msgspec.field(default_factory=list)


class OrderPage(msgspec.Struct):
    items: list[Order]
    next_cursor: str | None


class Payment(msgspec.Struct):
    """What a client needs to pay: `client_secret` goes to the provider's checkout."""

    id: str
    status: payments.PaymentStatus
    client_secret: str | None
    provider: str


class PlacedOrder(msgspec.Struct):
    order: Order
    payment: Payment


class Shipment(msgspec.Struct, forbid_unknown_fields=True):
    tracking_number: str | None = None


class RefundRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Without `amount`, everything not refunded yet is refunded."""

    amount: Money | None = None
    reason: str | None = None


class Refund(msgspec.Struct):
    id: str
    amount: Money
    reason: str | None
    created_at: datetime


class PaymentRecord(msgspec.Struct):
    id: str
    status: payments.PaymentStatus
    provider: str
    amount: Money
    refunded_amount: Money
    refunds: list[Refund]
    client_secret: str | None
    created_at: datetime
    updated_at: datetime


class PaymentList(msgspec.Struct):
    items: list[PaymentRecord]
    next_cursor: str | None = None


def address_out(address: values.Address) -> Address:
    return Address(
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        postal_code=address.postal_code,
        country=address.country,
    )


def order_out(order: orders.Order) -> Order:
    return Order(
        id=order.id,
        number=order.number,
        user_id=order.user_id,
        status=order.status,
        items=[
            OrderLine(
                product_id=line.product_id,
                name=line.name,
                quantity=line.quantity.value,
                unit_price=money_out(line.unit_price),
                total_price=money_out(line.total_price),
            )
            for line in order.lines
        ],
        total_amount=money_out(order.total_amount),
        refunded_amount=money_out(order.refunded_amount),
        shipping_address=address_out(order.shipping_address),
        tracking_number=order.tracking_number,
        created_at=rfc3339(order.created_at),
        updated_at=rfc3339(order.updated_at),
    )


def placed_order_out(placed: PlacedOrderResult) -> PlacedOrder:
    payment = placed.payment
    return PlacedOrder(
        order=order_out(placed.order),
        payment=Payment(
            id=payment.id,
            status=payment.status,
            client_secret=payment.client_secret,
            provider=payment.provider,
        ),
    )


def payment_record_out(payment: payments.Payment, *, show_secret: bool) -> PaymentRecord:
    """`show_secret`: only the paying customer needs the client secret."""
    return PaymentRecord(
        id=payment.id,
        status=payment.status,
        provider=payment.provider,
        amount=money_out(payment.amount),
        refunded_amount=money_out(payment.refunded_amount),
        refunds=[
            Refund(
                id=refund.id,
                amount=money_out(refund.amount),
                reason=refund.reason,
                created_at=rfc3339(refund.created_at),
            )
            for refund in payment.refunds
        ],
        client_secret=payment.client_secret if show_secret else None,
        created_at=rfc3339(payment.created_at),
        updated_at=rfc3339(payment.updated_at),
    )


def order_detail_out(
    order: orders.Order, history: list[AuditEntry], *, full_actors: bool
) -> OrderDetail:
    """`full_actors`: name who acted (staff, admins, API keys); else only whether it was
    the customer or the shop."""

    def actor(entry: AuditEntry) -> str:
        if full_actors:
            return entry.actor_name
        return "customer" if entry.actor_user_id == order.user_id else "shop"

    summary = order_out(order)
    return OrderDetail(
        **{field: getattr(summary, field) for field in summary.__struct_fields__},
        history=[
            OrderHistoryEntry(
                at=rfc3339(entry.at),
                event=entry.action.removeprefix("order."),
                status=entry.summary.get("status"),
                actor=actor(entry),
            )
            for entry in history
        ],
    )
