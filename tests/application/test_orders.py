"""Orders: placing them from the cart (idempotently), reading, cancelling, shipping, and
expiring the unpaid ones. Refunds are in test_refunds.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.catalog import ProductChanges
from application.orders import PlacedOrder
from application.ports.errors import PaymentProviderError
from application.ports.persistence import OrderQuery, PageRequest
from domain.catalog import Product
from domain.errors import (
    Conflict,
    EmptyCart,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidValue,
    NotFound,
    OutOfStock,
    PermissionDenied,
)
from domain.money import Money
from domain.orders import Order, OrderStatus
from domain.payments import PaymentOutcome, PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    PAYMENT_TIMEOUT,
    Account,
    CartFiller,
    KeyIssuer,
    OrderPlacer,
    ProductFactory,
    an_address,
    clock,
    every_page,
    gateway,
    outbox_events,
    pay,
    stock_of,
)

ALL = PageRequest(limit=100)


async def _all_orders(
    shop: Container, who: Account, status: OrderStatus | None = None
) -> list[Order]:
    return await every_page(
        lambda page: shop.orders().list_orders(who.principal, OrderQuery(status=status, page=page))
    )


# --- placing an order ----------------------------------------------------------------------


async def test_placing_an_order_reserves_stock_and_empties_the_cart(
    shop: Container,
    customer: Account,
    product: ProductFactory,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    mug = await product("Mug", price=1200, stock=5)
    lamp = await product("Lamp", price=4599, stock=3)
    await cart_with((mug, 2), (lamp, 3))

    placed = await place()

    order = placed.order
    assert order.status is OrderStatus.PENDING
    assert order.user_id == customer.id
    assert {(line.name, line.quantity.value, line.unit_price.amount) for line in order.lines} == {
        ("Mug", 2, 1200),
        ("Lamp", 3, 4599),
    }
    assert order.total_amount == Money(2 * 1200 + 3 * 4599, "USD")
    assert order.refunded_amount == Money(0, "USD")
    assert order.shipping_address == an_address()
    assert await stock_of(shop, mug) == 3
    assert await stock_of(shop, lamp) == 0
    assert (await shop.carts().view(customer.principal)).items == []
    assert placed.payment.status is PaymentStatus.PENDING
    assert placed.payment.amount == order.total_amount
    assert placed.payment.intent_id is not None
    assert placed.payment.client_secret
    [event] = await outbox_events(shop, "order_placed")
    assert event["order_id"] == order.id
    assert event["total_amount"] == 2 * 1200 + 3 * 4599
    assert event["currency"] == "USD"


async def test_orders_get_increasing_numbers(
    shop: Container, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 1))
    first = await place()
    await cart_with((mug, 1))
    second = await place()

    assert second.order.number > first.order.number
    assert second.order.id != first.order.id


async def test_order_keeps_the_name_and_price_it_was_bought_at(
    shop: Container, customer: Account, staff: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    await shop.catalog().change_product(
        staff.principal, mug.id, ProductChanges(name="Fancy mug", price=Money(9900, "USD"))
    )

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    [line] = order.lines
    assert line.name == "Mug"
    assert line.unit_price == Money(1200, "USD")
    assert order.total_amount == Money(2400, "USD")


async def test_order_keeps_its_lines_after_the_product_is_archived(
    shop: Container, customer: Account, admin: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    await shop.catalog().archive_product(admin.principal, mug.id)

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert [line.name for line in order.lines] == ["Mug"]


async def test_payment_intent_is_created_once_under_the_orders_own_key(
    shop: Container, placed_order: PlacedOrder
) -> None:
    fake = gateway(shop)
    order = placed_order.order

    # Asking the provider again with key order:<id> finds the same intent: a retry of the
    # intent creation can never charge twice.
    again = await fake.create_intent(
        order_id=order.id, amount=order.total_amount, idempotency_key=f"order:{order.id}"
    )

    assert again.id == placed_order.payment.intent_id
    assert fake.intents_created == 1
    assert again.amount == order.total_amount
    assert again.order_id == order.id


async def test_an_empty_cart_cannot_be_ordered(
    shop: Container, customer: Account, place: OrderPlacer
) -> None:
    with pytest.raises(EmptyCart):
        await place()

    assert await _all_orders(shop, customer) == []
    assert gateway(shop).create_intent_calls == 0
    assert await outbox_events(shop, "order_placed") == []


async def test_out_of_stock_on_a_later_line_reserves_nothing(
    shop: Container,
    customer: Account,
    staff: Account,
    product: ProductFactory,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    # Lines are reserved in product-id order: the mug's reservation comes first and must be
    # undone when the lamp's fails.
    mug = await product("Mug", stock=5)
    lamp = await product("Lamp", stock=3)
    await cart_with((mug, 2), (lamp, 3))
    await shop.catalog().adjust_inventory(staff.principal, lamp.id, -2)

    with pytest.raises(OutOfStock) as refused:
        await place()

    assert refused.value.product_id == lamp.id
    assert await stock_of(shop, mug) == 5
    assert await stock_of(shop, lamp) == 1
    assert (await shop.carts().view(customer.principal)).item_count == 5
    assert await _all_orders(shop, customer) == []
    assert gateway(shop).create_intent_calls == 0


async def test_the_last_unit_goes_to_exactly_one_buyer(
    shop: Container,
    customer: Account,
    other_customer: Account,
    product: ProductFactory,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    last = await product("Last one", stock=1)
    await cart_with((last, 1))
    await cart_with((last, 1), who=other_customer)

    await place()
    with pytest.raises(OutOfStock):
        await place(other_customer)

    assert await stock_of(shop, last) == 0
    assert len(await _all_orders(shop, customer)) == 1
    assert await _all_orders(shop, other_customer) == []


async def test_a_product_archived_in_the_cart_stops_the_order(
    shop: Container,
    admin: Account,
    product: ProductFactory,
    cart_with: CartFiller,
    place: OrderPlacer,
    customer: Account,
) -> None:
    mug = await product("Mug", stock=5)
    lamp = await product("Lamp", stock=5)
    await cart_with((mug, 1), (lamp, 1))
    await shop.catalog().archive_product(admin.principal, lamp.id)

    with pytest.raises(Conflict):
        await place()

    assert await stock_of(shop, mug) == 5
    assert await _all_orders(shop, customer) == []


@pytest.mark.parametrize("key", ["", "   ", None, "k" * 256, "line\nbreak"])
async def test_placing_needs_a_usable_idempotency_key(
    shop: Container,
    customer: Account,
    mug: Product,
    cart_with: CartFiller,
    key: str | None,
) -> None:
    await cart_with((mug, 1))

    with pytest.raises(InvalidValue):
        await shop.orders().place_order(
            customer.principal,
            idempotency_key=key,  # type: ignore[arg-type]
            shipping_address=an_address(),
        )

    assert await stock_of(shop, mug) == 5
    assert await _all_orders(shop, customer) == []


async def test_same_key_and_address_returns_the_same_order(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 2))
    first = await place(key="checkout-1")
    await cart_with((mug, 1))  # a new cart does not turn a retry into a new order

    again = await place(key="checkout-1")

    assert again.order.id == first.order.id
    assert again.payment.intent_id == first.payment.intent_id
    assert gateway(shop).create_intent_calls == 1
    assert await stock_of(shop, mug) == 3
    assert len(await _all_orders(shop, customer)) == 1
    assert (await shop.carts().view(customer.principal)).item_count == 1


async def test_same_key_with_another_address_is_refused(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 2))
    first = await place(key="checkout-1")
    await cart_with((mug, 1))

    with pytest.raises(IdempotencyKeyReused):
        await place(key="checkout-1", address=an_address(city="Shelbyville"))

    orders = await _all_orders(shop, customer)
    assert [order.id for order in orders] == [first.order.id]
    assert await stock_of(shop, mug) == 3


async def test_idempotency_keys_belong_to_one_user(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    await cart_with((mug, 1), who=other_customer)

    ann = await place(key="checkout-1")
    bob = await place(other_customer, key="checkout-1")

    assert ann.order.id != bob.order.id
    assert bob.order.user_id == other_customer.id
    assert await stock_of(shop, mug) == 3


async def test_order_placed_while_the_provider_is_down_waits_for_a_retry(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    fake = gateway(shop)
    await cart_with((mug, 2))
    fake.go_down()

    with pytest.raises(PaymentProviderError):
        await place(key="checkout-1")

    [order] = await _all_orders(shop, customer)
    assert order.status is OrderStatus.PENDING
    [payment] = await shop.orders().list_payments(customer.principal, order.id)
    assert payment.intent_id is None
    assert await stock_of(shop, mug) == 3
    assert (await shop.carts().view(customer.principal)).items == []

    fake.come_back()
    retried = await place(key="checkout-1")
    again = await place(key="checkout-1")

    assert retried.order.id == order.id
    assert retried.payment.intent_id is not None
    assert again.payment.intent_id == retried.payment.intent_id
    assert fake.intents_created == 1
    assert await stock_of(shop, mug) == 3


async def test_lost_provider_response_never_makes_a_second_intent(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    fake = gateway(shop)
    await cart_with((mug, 1))
    fake.lose_next_response()

    with pytest.raises(PaymentProviderError):
        await place(key="checkout-1")
    retried = await place(key="checkout-1")

    assert retried.payment.intent_id is not None
    assert fake.intents_created == 1


async def test_api_keys_cannot_place_orders(
    shop: Container, api_key: KeyIssuer, mug: Product
) -> None:
    key = await api_key("orders:write", "orders:read")

    with pytest.raises(PermissionDenied):
        await shop.orders().place_order(
            key, idempotency_key="checkout-1", shipping_address=an_address()
        )


# --- reading orders ------------------------------------------------------------------------


async def test_owner_staff_and_orders_read_key_see_an_order(
    shop: Container,
    customer: Account,
    staff: Account,
    admin: Account,
    api_key: KeyIssuer,
    placed_order: PlacedOrder,
) -> None:
    reader = await api_key("orders:read")
    order_id = placed_order.order.id

    for who in (customer.principal, staff.principal, admin.principal, reader):
        assert (await shop.orders().get_order(who, order_id)).id == order_id


async def test_anyone_else_is_told_the_order_does_not_exist(
    shop: Container, other_customer: Account, api_key: KeyIssuer, placed_order: PlacedOrder
) -> None:
    product_key = await api_key("products:read", "products:write", "orders:write")

    for outsider in (other_customer.principal, product_key):
        with pytest.raises(NotFound):
            await shop.orders().get_order(outsider, placed_order.order.id)
    with pytest.raises(NotFound):
        await shop.orders().get_order(other_customer.principal, "no-such-order")


async def test_users_list_their_own_orders_newest_first(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    mine = []
    for _ in range(3):
        clock(shop).advance(60)
        await cart_with((mug, 1))
        mine.append((await place()).order.id)
    await cart_with((mug, 1), who=other_customer)
    await place(other_customer)

    listed = await _all_orders(shop, customer)

    assert [order.id for order in listed] == list(reversed(mine))


async def test_staff_and_orders_read_keys_list_every_order(
    shop: Container,
    customer: Account,
    other_customer: Account,
    staff: Account,
    api_key: KeyIssuer,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    ann = await place()
    await cart_with((mug, 1), who=other_customer)
    bob = await place(other_customer)
    reader = await api_key("orders:read")

    by_staff = await _all_orders(shop, staff)
    by_key = await every_page(lambda page: shop.orders().list_orders(reader, OrderQuery(page=page)))

    assert {o.id for o in by_staff} == {ann.order.id, bob.order.id}
    assert {o.id for o in by_key} == {ann.order.id, bob.order.id}


async def test_a_customer_cannot_list_someone_elses_orders_by_filtering(
    shop: Container,
    customer: Account,
    other_customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1), who=other_customer)
    await place(other_customer)

    # A customer asking for someone else's orders still sees only their own.
    page = await shop.orders().list_orders(
        customer.principal, OrderQuery(user_id=other_customer.id, page=ALL)
    )

    assert page.items == []


async def test_order_list_filters_by_status(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 1))
    paid = await place()
    await pay(shop, paid)
    await cart_with((mug, 1))
    pending = await place()

    assert [o.id for o in await _all_orders(shop, customer, OrderStatus.PAID)] == [paid.order.id]
    assert [o.id for o in await _all_orders(shop, customer, OrderStatus.PENDING)] == [
        pending.order.id
    ]
    assert await _all_orders(shop, customer, OrderStatus.SHIPPED) == []


async def test_api_key_without_orders_read_cannot_list_orders(
    shop: Container, api_key: KeyIssuer
) -> None:
    key = await api_key("orders:write", "products:read")

    with pytest.raises(PermissionDenied):
        await shop.orders().list_orders(key, OrderQuery())


# --- cancelling ----------------------------------------------------------------------------


async def test_owner_cancels_a_pending_order_and_the_stock_comes_back(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    cancelled = await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(0, "USD")
    assert await stock_of(shop, mug) == 5
    assert placed_order.payment.intent_id is not None
    intent = await gateway(shop).retrieve_intent(placed_order.payment.intent_id)
    assert intent.outcome is PaymentOutcome.CANCELLED
    [payment] = await shop.orders().list_payments(customer.principal, placed_order.order.id)
    assert payment.status is PaymentStatus.CANCELLED
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["order_id"] == placed_order.order.id


async def test_cancelling_a_paid_order_refunds_it_in_full(
    shop: Container, customer: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    cancelled = await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(2400, "USD")
    assert await stock_of(shop, mug) == 5
    [payment] = await shop.orders().list_payments(customer.principal, paid_order.order.id)
    assert payment.status is PaymentStatus.REFUNDED
    assert [refund.amount for refund in payment.refunds] == [Money(2400, "USD")]
    [refunded] = await outbox_events(shop, "order_refunded")
    assert refunded["amount"] == 2400


async def test_a_shipped_order_cannot_be_cancelled(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id)

    for who in (customer, staff):
        with pytest.raises(IllegalTransition):
            await shop.orders().cancel_order(who.principal, paid_order.order.id)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.SHIPPED
    assert order.refunded_amount == Money(0, "USD")
    assert await stock_of(shop, mug) == 3


async def test_another_user_cannot_cancel_an_order(
    shop: Container,
    customer: Account,
    other_customer: Account,
    api_key: KeyIssuer,
    placed_order: PlacedOrder,
    mug: Product,
) -> None:
    writer = await api_key("orders:write", "orders:read")

    for outsider in (other_customer.principal, writer):
        with pytest.raises(NotFound):
            await shop.orders().cancel_order(outsider, placed_order.order.id)

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING
    assert await stock_of(shop, mug) == 3


async def test_cancelling_twice_releases_the_stock_once(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    with pytest.raises(IllegalTransition):
        await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert await stock_of(shop, mug) == 5


async def test_staff_cancels_a_customers_order(
    shop: Container, staff: Account, customer: Account, paid_order: PlacedOrder
) -> None:
    cancelled = await shop.orders().cancel_order(staff.principal, paid_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.refunded_amount == Money(2400, "USD")
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["reason"] == "cancelled by staff"


async def test_cancelling_while_the_provider_is_down_still_cancels_an_unpaid_order(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()

    cancelled = await shop.orders().cancel_order(customer.principal, placed_order.order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5


async def test_cancelling_a_paid_order_while_the_provider_is_down_changes_nothing(
    shop: Container, customer: Account, paid_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()

    with pytest.raises(PaymentProviderError):
        await shop.orders().cancel_order(customer.principal, paid_order.order.id)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.PAID
    assert await stock_of(shop, mug) == 3


# --- shipping and delivery -----------------------------------------------------------------


async def test_staff_ships_and_delivers_a_paid_order(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id

    shipped = await shop.orders().ship_order(staff.principal, order_id, " 1Z999 ")
    delivered = await shop.orders().deliver_order(staff.principal, order_id)

    assert shipped.status is OrderStatus.SHIPPED
    assert shipped.tracking_number == "1Z999"
    assert delivered.status is OrderStatus.DELIVERED
    seen = await shop.orders().get_order(customer.principal, order_id)
    assert seen.status is OrderStatus.DELIVERED
    [event] = await outbox_events(shop, "order_shipped")
    assert event["tracking_number"] == "1Z999"


async def test_orders_write_key_ships_and_delivers(
    shop: Container, api_key: KeyIssuer, paid_order: PlacedOrder
) -> None:
    writer = await api_key("orders:write")

    await shop.orders().ship_order(writer, paid_order.order.id)
    delivered = await shop.orders().deliver_order(writer, paid_order.order.id)

    assert delivered.status is OrderStatus.DELIVERED
    assert delivered.tracking_number is None


async def test_customers_and_read_keys_cannot_ship_or_deliver(
    shop: Container,
    customer: Account,
    staff: Account,
    api_key: KeyIssuer,
    paid_order: PlacedOrder,
) -> None:
    reader = await api_key("orders:read", "products:write")
    order_id = paid_order.order.id

    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.orders().ship_order(outsider, order_id)
    await shop.orders().ship_order(staff.principal, order_id)
    for outsider in (customer.principal, reader):
        with pytest.raises(PermissionDenied):
            await shop.orders().deliver_order(outsider, order_id)

    order = await shop.orders().get_order(customer.principal, order_id)
    assert order.status is OrderStatus.SHIPPED


async def test_an_unpaid_order_cannot_be_shipped_or_delivered(
    shop: Container, customer: Account, staff: Account, placed_order: PlacedOrder
) -> None:
    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, placed_order.order.id)
    with pytest.raises(IllegalTransition):
        await shop.orders().deliver_order(staff.principal, placed_order.order.id)

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING


async def test_a_paid_order_must_ship_before_it_is_delivered(
    shop: Container, staff: Account, paid_order: PlacedOrder
) -> None:
    with pytest.raises(IllegalTransition):
        await shop.orders().deliver_order(staff.principal, paid_order.order.id)


async def test_an_order_ships_once_and_a_cancelled_one_never(
    shop: Container,
    customer: Account,
    staff: Account,
    paid_order: PlacedOrder,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id)
    await cart_with((mug, 1))
    dropped = await place()
    await shop.orders().cancel_order(customer.principal, dropped.order.id)

    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, paid_order.order.id)
    with pytest.raises(IllegalTransition):
        await shop.orders().ship_order(staff.principal, dropped.order.id)


@pytest.mark.parametrize("tracking", ["", "   ", "x" * 101])
async def test_tracking_number_must_be_sensible(
    shop: Container, staff: Account, customer: Account, paid_order: PlacedOrder, tracking: str
) -> None:
    with pytest.raises(InvalidValue):
        await shop.orders().ship_order(staff.principal, paid_order.order.id, tracking)

    order = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert order.status is OrderStatus.PAID


async def test_shipping_an_unknown_order_is_not_found(shop: Container, staff: Account) -> None:
    with pytest.raises(NotFound):
        await shop.orders().ship_order(staff.principal, "no-such-order")
    with pytest.raises(NotFound):
        await shop.orders().deliver_order(staff.principal, "no-such-order")


# --- payments of an order ------------------------------------------------------------------


async def test_owner_and_staff_see_the_payments_of_an_order(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    for who in (customer, staff):
        [payment] = await shop.orders().list_payments(who.principal, paid_order.order.id)
        assert payment.order_id == paid_order.order.id
        assert payment.amount == Money(2400, "USD")
        assert payment.status is PaymentStatus.COMPLETED


async def test_others_cannot_see_the_payments_of_an_order(
    shop: Container, other_customer: Account, api_key: KeyIssuer, paid_order: PlacedOrder
) -> None:
    reader = await api_key("products:read")

    for outsider in (other_customer.principal, reader):
        with pytest.raises(NotFound):
            await shop.orders().list_payments(outsider, paid_order.order.id)
    with pytest.raises(NotFound):
        await shop.orders().list_payments(other_customer.principal, "no-such-order")


# --- expiring unpaid orders ----------------------------------------------------------------


async def test_unpaid_orders_expire_and_release_their_stock(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT + timedelta(seconds=1))

    expired = await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT)

    assert expired == 1
    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5
    assert placed_order.payment.intent_id is not None
    intent = await gateway(shop).retrieve_intent(placed_order.payment.intent_id)
    assert intent.outcome is PaymentOutcome.CANCELLED
    [event] = await outbox_events(shop, "order_cancelled")
    assert event["reason"] == "payment not received in time"


async def test_expiry_runs_are_idempotent(
    shop: Container, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT + timedelta(seconds=1))
    await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 0
    assert await stock_of(shop, mug) == 5


async def test_orders_within_the_payment_window_do_not_expire(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    clock(shop).advance(PAYMENT_TIMEOUT - timedelta(seconds=1))

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 0

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.PENDING
    assert await stock_of(shop, mug) == 3


async def test_paid_orders_never_expire(
    shop: Container,
    customer: Account,
    paid_order: PlacedOrder,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    unpaid = await place()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 1

    paid = await shop.orders().get_order(customer.principal, paid_order.order.id)
    assert paid.status is OrderStatus.PAID
    expired = await shop.orders().get_order(customer.principal, unpaid.order.id)
    assert expired.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 3


async def test_expiry_works_in_batches(
    shop: Container, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    for _ in range(3):
        await cart_with((mug, 1))
        await place()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT, limit=2) == 2
    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT, limit=2) == 1
    assert await stock_of(shop, mug) == 5


async def test_expiry_while_the_provider_is_down_still_frees_the_stock(
    shop: Container, customer: Account, placed_order: PlacedOrder, mug: Product
) -> None:
    gateway(shop).go_down()
    clock(shop).advance(PAYMENT_TIMEOUT * 2)

    assert await shop.orders().expire_unpaid_orders(PAYMENT_TIMEOUT) == 1

    order = await shop.orders().get_order(customer.principal, placed_order.order.id)
    assert order.status is OrderStatus.CANCELLED
    assert await stock_of(shop, mug) == 5
