"""Refunding an order: partial and full refunds, their bounds, and who may refund."""

from __future__ import annotations

import pytest

from application.orders import PlacedOrder
from domain.errors import (
    IllegalTransition,
    InvalidValue,
    NotFound,
    PermissionDenied,
    RefundExceedsPayment,
)
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    KeyIssuer,
    outbox_events,
)

# --- refunds -------------------------------------------------------------------------------


async def test_admin_refunds_part_then_the_rest(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id

    partial = await shop.orders().refund_order(
        admin.principal, order_id, Money(1000, "USD"), "scratched"
    )
    [payment] = await shop.orders().list_payments(customer.principal, order_id)
    assert partial.refunded_amount == Money(1000, "USD")
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED

    rest = await shop.orders().refund_order(admin.principal, order_id)

    assert rest.refunded_amount == Money(2400, "USD")
    assert rest.status is OrderStatus.PAID
    [payment] = await shop.orders().list_payments(customer.principal, order_id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [(r.amount.amount, r.reason) for r in payment.refunds] == [
        (1000, "scratched"),
        (1400, None),
    ]
    assert [e["amount"] for e in await outbox_events(shop, "order_refunded")] == [1000, 1400]


async def test_refunds_never_exceed_the_payment(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    await shop.orders().refund_order(admin.principal, order_id, Money(2000, "USD"))

    with pytest.raises(RefundExceedsPayment):
        await shop.orders().refund_order(admin.principal, order_id, Money(401, "USD"))

    order = await shop.orders().get_order(customer.principal, order_id)
    assert order.refunded_amount == Money(2000, "USD")
    await shop.orders().refund_order(admin.principal, order_id, Money(400, "USD"))
    with pytest.raises(RefundExceedsPayment):
        await shop.orders().refund_order(admin.principal, order_id, Money(1, "USD"))


async def test_refund_larger_than_the_payment_is_refused_outright(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    with pytest.raises(RefundExceedsPayment):
        await shop.orders().refund_order(admin.principal, paid_order.order.id, Money(2401, "USD"))

    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert payment.refunds == []
    assert payment.status is PaymentStatus.COMPLETED


async def test_an_unpaid_order_cannot_be_refunded(
    shop: Container, admin: Account, placed_order: PlacedOrder
) -> None:
    for amount in (None, Money(100, "USD")):
        with pytest.raises(IllegalTransition):
            await shop.orders().refund_order(admin.principal, placed_order.order.id, amount)


async def test_refund_in_another_currency_is_refused(
    shop: Container, customer: Account, admin: Account, paid_order: PlacedOrder
) -> None:
    with pytest.raises(InvalidValue) as raised:
        await shop.orders().refund_order(admin.principal, paid_order.order.id, Money(100, "EUR"))
    assert raised.value.field == "amount.currency"

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.refunded_amount == Money(0, "USD")


@pytest.mark.parametrize("amount", [0, -100])
async def test_refund_must_be_positive(
    shop: Container, admin: Account, paid_order: PlacedOrder, amount: int
) -> None:
    with pytest.raises(InvalidValue):
        await shop.orders().refund_order(admin.principal, paid_order.order.id, Money(amount, "USD"))


async def test_refund_reason_is_bounded(
    shop: Container, admin: Account, paid_order: PlacedOrder
) -> None:
    with pytest.raises(InvalidValue):
        await shop.orders().refund_order(admin.principal, paid_order.order.id, None, "x" * 501)


async def test_only_admins_refund(
    shop: Container,
    customer: Account,
    staff: Account,
    api_key: KeyIssuer,
    paid_order: PlacedOrder,
) -> None:
    writer = await api_key("orders:write", "orders:read")

    for outsider in (customer.principal, staff.principal, writer):
        with pytest.raises(PermissionDenied):
            await shop.orders().refund_order(outsider, paid_order.order.id)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.refunded_amount == Money(0, "USD")


async def test_shipped_and_delivered_orders_can_be_refunded(
    shop: Container, admin: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    await shop.orders().ship_order(staff.principal, order_id)
    after_shipping = await shop.orders().refund_order(admin.principal, order_id, Money(400, "USD"))
    await shop.orders().deliver_order(staff.principal, order_id)

    after_delivery = await shop.orders().refund_order(admin.principal, order_id)

    assert after_shipping.refunded_amount == Money(400, "USD")
    assert after_delivery.refunded_amount == Money(2400, "USD")
    assert after_delivery.status is OrderStatus.DELIVERED


async def test_refund_of_an_unknown_order_is_not_found(shop: Container, admin: Account) -> None:
    with pytest.raises(NotFound):
        await shop.orders().refund_order(admin.principal, "no-such-order")
