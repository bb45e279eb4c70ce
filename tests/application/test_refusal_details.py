"""What a client is told when a use case refuses input: the field and the reason of each
refusal (problem details show both), at the exact limits."""

from __future__ import annotations

import pytest

from application.catalog import ProductQuery
from application.orders import PlacedOrder
from application.pagination import decode_cursor, encode_cursor
from application.ports.persistence import PageRequest
from application.uploads import UploadPolicy
from domain.catalog import Product
from domain.errors import RefundExceedsPayment
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import PASSWORD, Account, CartFiller, an_address, pay
from tests.refusals import fails_with, refused


@pytest.mark.parametrize("key", ["", "   "])
async def test_an_order_needs_an_idempotency_key(
    shop: Container, customer: Account, cart_with: CartFiller, mug: Product, key: str
) -> None:
    await cart_with((mug, 1))
    with refused("Idempotency-Key", "is required"):
        await shop.orders().place_order(
            customer.principal, idempotency_key=key, shipping_address=an_address()
        )


async def test_an_idempotency_key_is_at_most_255_printable_characters(
    shop: Container, customer: Account, cart_with: CartFiller, mug: Product
) -> None:
    await cart_with((mug, 1))
    reason = "must be at most 255 printable characters"
    for key in ("k" * 256, "key\x00"):
        with refused("Idempotency-Key", reason):
            await shop.orders().place_order(
                customer.principal, idempotency_key=key, shipping_address=an_address()
            )
    placed = await shop.orders().place_order(
        customer.principal, idempotency_key="k" * 255, shipping_address=an_address()
    )
    assert placed.order.status.value == "pending"


async def test_a_tracking_number_is_1_to_100_characters(
    shop: Container, staff: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    for tracking in ("", "   ", "t" * 101):
        with refused("tracking_number", "must be 1 to 100 characters"):
            await shop.orders().ship_order(staff.principal, order_id, tracking)
    shipped = await shop.orders().ship_order(staff.principal, order_id, " " + "t" * 100 + " ")
    assert shipped.tracking_number == "t" * 100


async def test_a_refund_reason_is_at_most_500_characters(
    shop: Container, admin: Account, paid_order: PlacedOrder
) -> None:
    order_id = paid_order.order.id
    with refused("reason", "must be at most 500 characters"):
        await shop.refunds().refund_order(admin.principal, order_id, reason="r" * 501)
    refunded = await shop.refunds().refund_order(
        admin.principal, order_id, Money(100, "USD"), reason="r" * 500
    )
    assert refunded.refunded_amount == Money(100, "USD")


async def test_a_refund_in_another_currency_names_the_currency_field(
    shop: Container, admin: Account, paid_order: PlacedOrder
) -> None:
    with refused("amount.currency", "must be USD, the currency the order was paid in"):
        await shop.refunds().refund_order(admin.principal, paid_order.order.id, Money(100, "EUR"))


async def test_refunding_all_of_a_refunded_order_says_nothing_is_left(
    shop: Container, admin: Account, paid_order: PlacedOrder
) -> None:
    await shop.refunds().refund_order(admin.principal, paid_order.order.id)
    with fails_with(RefundExceedsPayment, "nothing is left to refund"):
        await shop.refunds().refund_order(admin.principal, paid_order.order.id)


def test_page_limits_are_1_to_100() -> None:
    assert PageRequest(limit=1).limit == 1
    assert PageRequest(limit=100).limit == 100
    for limit in (0, 101, True, 1.0):
        with refused("limit", "must be between 1 and 100"):
            PageRequest(limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        encode_cursor("a", "p-1")[:-2] + "zz",
        "bnVsbA",  # null
        "WzFd",  # [1]
        "WzEsMl0",  # [1,2]
        "W3RydWUsInAtMSJd",  # [true,"p-1"]
        "W1tdLCJwLTEiXQ",  # [[],"p-1"]
        "WzEsImEgYiJd",  # [1,"a b"]
        "WyJcdTAwMDAiLCJwLTEiXQ",  # ["\u0000","p-1"]
    ],
)
def test_a_cursor_the_api_did_not_make_is_refused(cursor: str) -> None:
    with refused("cursor", "is not a cursor this API produced"):
        decode_cursor(cursor)


@pytest.mark.parametrize("value", ["a", 5, None])
def test_a_cursor_the_api_made_decodes_to_what_it_holds(value: object) -> None:
    assert decode_cursor(encode_cursor(value, "p-1")) == (value, "p-1")


async def test_price_filters_are_checked_before_listing(shop: Container) -> None:
    catalog = shop.catalog()
    for field in ("min_price", "max_price"):
        with refused(field, "must not be negative"):
            await catalog.list_products(ProductQuery(**{field: -1}))
    with refused("min_price", "must not be greater than max_price"):
        await catalog.list_products(ProductQuery(min_price=2, max_price=1))
    with refused("q", "must be at most 200 characters"):
        await catalog.list_products(ProductQuery(text="q" * 201))
    page = await catalog.list_products(ProductQuery(min_price=0, max_price=0, text="q" * 200))
    assert page.items == []


def test_the_shop_currency_is_named_when_another_is_given(shop: Container) -> None:
    catalog = shop.catalog()
    assert catalog.require_shop_currency("price.currency", "USD") == "USD"
    with refused("price.currency", "must be USD, the shop's currency"):
        catalog.require_shop_currency("price.currency", "EUR")


def test_an_upload_names_the_allowed_types_and_size() -> None:
    policy = UploadPolicy(max_bytes=10, content_types=frozenset({"image/png", "image/jpeg"}))
    assert policy.check(" Image/PNG ", 10) == "image/png"
    assert policy.check("image/jpeg", 1) == "image/jpeg"
    with refused("content_type", "must be a string"):
        policy.check(None, 1)  # type: ignore[arg-type]
    with refused("content_type", "must be one of: image/jpeg, image/png"):
        policy.check("image/gif", 1)
    for size in (0, 11):
        with refused("size", "must be between 1 and 10 bytes"):
            policy.check("image/png", size)
    for size in (True, 1.0):
        with refused("size", "must be a whole number of bytes"):
            policy.check("image/png", size)  # type: ignore[arg-type]


async def test_a_password_change_needs_both_passwords_and_the_right_current_one(
    shop: Container, customer: Account
) -> None:
    accounts = shop.user_accounts()
    with refused("new_password", "current_password and new_password go together"):
        await accounts.update_me(customer.principal, new_password="a-new-password-1")
    with refused("new_password", "current_password and new_password go together"):
        await accounts.update_me(customer.principal, current_password=PASSWORD)
    with refused("current_password", "is not your current password"):
        await accounts.update_me(
            customer.principal,
            current_password="not-the-password-1",
            new_password="a-new-password-1",
        )
    with refused("password", "must be at least 10 characters"):
        await accounts.update_me(
            customer.principal, current_password=PASSWORD, new_password="short"
        )


async def test_paying_and_refunding_leaves_the_order_refunded_in_full(
    shop: Container, admin: Account, placed_order: PlacedOrder
) -> None:
    await pay(shop, placed_order)
    refunded = await shop.refunds().refund_order(admin.principal, placed_order.order.id)
    assert refunded.refunded_amount == refunded.paid_amount == Money(2400, "USD")
