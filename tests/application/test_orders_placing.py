"""Placing an order from the cart: stock reserved all or nothing, prices kept, one
payment intent per order, and the idempotency key that makes a retry safe."""

from __future__ import annotations

import pytest

from application.catalog import ProductChanges
from application.orders import PlacedOrder
from application.ports.errors import PaymentProviderError
from domain.catalog import Product
from domain.errors import (
    Conflict,
    EmptyCart,
    IdempotencyKeyReused,
    InvalidValue,
    OutOfStock,
    PermissionDenied,
)
from domain.money import Money
from domain.orders import OrderStatus
from domain.payments import PaymentStatus
from entrypoints.container import Container
from tests.application.shopping import (
    Account,
    CartFiller,
    KeyIssuer,
    OrderPlacer,
    ProductFactory,
    all_orders,
    an_address,
    gateway,
    outbox_events,
    stock_of,
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

    assert await all_orders(shop, customer) == []
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
    assert await all_orders(shop, customer) == []
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
    assert len(await all_orders(shop, customer)) == 1
    assert await all_orders(shop, other_customer) == []


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
    assert await all_orders(shop, customer) == []


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
    assert await all_orders(shop, customer) == []


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
    assert len(await all_orders(shop, customer)) == 1
    assert (await shop.carts().view(customer.principal)).item_count == 1


async def test_same_key_with_another_address_is_refused(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    await cart_with((mug, 2))
    first = await place(key="checkout-1")
    await cart_with((mug, 1))

    with pytest.raises(IdempotencyKeyReused):
        await place(key="checkout-1", address=an_address(city="Shelbyville"))

    orders = await all_orders(shop, customer)
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

    [order] = await all_orders(shop, customer)
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
