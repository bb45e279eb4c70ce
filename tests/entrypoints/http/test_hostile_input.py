"""Hostile input found by black-box testing, replayed over HTTP on SQLite and PostgreSQL:
bodies that are not UTF-8, control characters anywhere, numbers past what storage holds,
path ids that cannot be ids, foreign currencies and look-alike emails. Each is a clear
400 or 404 problem, never a 500, and nothing of it is stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from domain.users import User
from domain.values import Email
from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    PASSWORD,
    Account,
    Client,
    a_product,
    an_address,
    assert_problem,
    checkout,
    error_fields,
    login,
    pay,
    place_order,
    put_in_cart,
    register,
)

HUGE = 99999999999999999999999


@pytest.fixture
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def user_emails(client: Client, admin: Account) -> list[str]:
    response = await client.get("/users", params={"limit": 100}, headers=admin.headers)
    assert response.status_code == 200, response.text
    return [user["email"] for user in response.json()["items"]]


# --- 3. Bodies that are not UTF-8 ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
async def test_a_body_that_is_not_utf8_is_400(client: Client, path: str) -> None:
    body = b'{"email":"\xff\xfe@x.com","password":"\xc3\x28","full_name":"x"}'

    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})

    assert error_fields(response) == {"body"}
    assert "UTF-8" in response.json()["errors"][0]["message"]


async def test_a_lone_surrogate_in_a_body_is_400(client: Client, admin: Account) -> None:
    body = b'{"email":"sur@example.com","password":"correct horse battery","full_name":"\\ud800"}'

    response = await client.post(
        "/auth/register", content=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400)
    assert "sur@example.com" not in await user_emails(client, admin)


# --- 4. Control characters -----------------------------------------------------------------


async def test_nul_in_a_name_is_refused_and_no_account_is_made(
    client: Client, admin: Account
) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "nul@example.com", "password": PASSWORD, "full_name": "a\u0000b"},
    )

    assert error_fields(response) == {"full_name"}
    assert "nul@example.com" not in await user_emails(client, admin)


@pytest.mark.parametrize("email", ["bob\u0000@example.com", "bob@exam\u0000ple.com"])
async def test_nul_in_an_email_makes_no_account(client: Client, admin: Account, email: str) -> None:
    registered = await client.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Bob"}
    )
    login_attempt = await client.post("/auth/login", json={"email": email, "password": PASSWORD})

    assert error_fields(registered) == {"email"}
    assert error_fields(login_attempt) == {"email"}
    assert all("bob" not in address for address in await user_emails(client, admin))


@pytest.mark.parametrize("path", ["/products/%00", "/products/a%00b", "/products/%1b%5b2J"])
async def test_a_control_character_in_the_path_is_400(client: Client, path: str) -> None:
    response = await client.get(path)

    assert error_fields(response) == {"path"}


@pytest.mark.parametrize(
    "params", [{"q": "\x00"}, {"category": "a\x00"}, {"cursor": "\x07"}, {"sort\x00": "price"}]
)
async def test_a_control_character_in_a_query_parameter_is_400(
    client: Client, params: dict[str, str]
) -> None:
    response = await client.get("/products", params=params)

    assert error_fields(response) == set(params)


async def test_a_query_string_that_is_not_utf8_is_400(client: Client) -> None:
    response = await client.get("/products?q=%ff%fe")

    assert error_fields(response) == {"query"}


async def test_a_control_character_in_the_idempotency_key_is_400_and_places_no_order(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    response = await checkout(client, customer, key="key\x00one")
    orders = await client.get("/orders", headers=customer.headers)

    assert error_fields(response) == {"idempotency-key"}
    assert orders.json()["items"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Mug\x00"), ("name", "Mug\tLarge"), ("category", "kitchen\n"), ("name", "\x85")],
)
async def test_product_text_with_control_characters_is_refused(
    client: Client, staff: Account, field: str, value: str
) -> None:
    response = await client.post(
        "/products", json=a_product(**{field: value}), headers=staff.headers
    )
    listing = await client.get("/products")

    assert error_fields(response) == {field}
    assert listing.json()["items"] == []


async def test_a_description_keeps_its_tabs_and_line_breaks_but_not_other_controls(
    client: Client, staff: Account
) -> None:
    kept = await client.post(
        "/products", json=a_product(description="Sturdy.\n\tHolds 300 ml."), headers=staff.headers
    )
    refused = await client.post(
        "/products", json=a_product(description="Sturdy.\x00"), headers=staff.headers
    )

    assert kept.status_code == 201, kept.text
    assert kept.json()["description"] == "Sturdy.\n\tHolds 300 ml."
    assert error_fields(refused) == {"description"}


async def test_a_control_character_deep_in_a_body_is_named_by_its_path(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    response = await client.post(
        "/orders",
        json={"shipping_address": an_address(line1="1 Main\x00St")},
        headers={**customer.headers, "Idempotency-Key": "k-1"},
    )

    assert error_fields(response) == {"shipping_address.line1"}


async def test_a_control_character_in_a_list_item_is_named_by_its_position(
    client: Client, admin: Account
) -> None:
    response = await client.post(
        "/api-keys",
        json={"name": "partner", "scopes": ["orders:read", "products:read\x00"]},
        headers=admin.headers,
    )

    assert error_fields(response) == {"scopes[1]"}


def a_cursor(*key: object) -> str:
    raw = json.dumps(list(key)).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("name", a_cursor("Mug\x00", "00000000-0000-4000-8000-000000000001")),
        ("name", a_cursor("Mug", "00000000-0000-4000-8000-00000000000\x00")),
        ("price", a_cursor(2**63, "00000000-0000-4000-8000-000000000001")),
        ("price", a_cursor(HUGE, "00000000-0000-4000-8000-000000000001")),
    ],
)
async def test_a_forged_cursor_holding_what_storage_cannot_take_is_400(
    client: Client, mug: dict[str, Any], sort: str, cursor: str
) -> None:
    response = await client.get("/products", params={"sort": sort, "cursor": cursor})

    assert error_fields(response) == {"cursor"}


# --- 5. Numbers past what storage holds --------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": str(HUGE)},
        {"max_price": str(HUGE)},
        {"min_price": str(2**63)},
        {"limit": str(HUGE)},
        {"limit": "0"},
        {"limit": "101"},
    ],
)
async def test_a_numeric_query_parameter_out_of_range_is_400(
    client: Client, params: dict[str, str]
) -> None:
    response = await client.get("/products", params=params)

    assert error_fields(response) == set(params)


async def test_the_largest_price_filter_still_works(client: Client) -> None:
    response = await client.get("/products", params={"min_price": 0, "max_price": 10**15})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": {"amount": HUGE, "currency": "USD"}}, "price.amount"),
        ({"price": {"amount": 2**53 + 1, "currency": "USD"}}, "price.amount"),
        ({"price": {"amount": -HUGE, "currency": "USD"}}, "price.amount"),
        ({"inventory_count": HUGE}, "inventory_count"),
        ({"inventory_count": 2**31}, "inventory_count"),
    ],
)
async def test_a_number_out_of_range_in_a_new_product_is_400_and_nothing_is_stored(
    client: Client, staff: Account, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post("/products", json=a_product(**overrides), headers=staff.headers)
    listing = await client.get("/products")

    assert error_fields(response) == {field}
    assert listing.json()["items"] == []


@pytest.mark.parametrize("delta", [HUGE, -HUGE, 2**31, -(2**31)])
async def test_an_inventory_delta_out_of_range_is_400(
    client: Client, staff: Account, mug: dict[str, Any], delta: int
) -> None:
    response = await client.post(
        f"/products/{mug['id']}/inventory", json={"delta": delta}, headers=staff.headers
    )
    product = await client.get(f"/products/{mug['id']}")

    assert error_fields(response) == {"delta"}
    assert product.json()["inventory_count"] == mug["inventory_count"]


@pytest.mark.parametrize("quantity", [HUGE, 100, 0, -1])
async def test_a_cart_quantity_out_of_range_is_400(
    client: Client, customer: Account, mug: dict[str, Any], quantity: int
) -> None:
    response = await client.put(
        f"/cart/items/{mug['id']}", json={"quantity": quantity}, headers=customer.headers
    )
    cart = await client.get("/cart", headers=customer.headers)

    assert error_fields(response) == {"quantity"}
    assert cart.json()["items"] == []


async def test_a_refund_amount_out_of_range_is_400(
    client: Client, container: Container, admin: Account, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])

    response = await client.post(
        f"/orders/{order['id']}/refunds",
        json={"amount": {"amount": HUGE, "currency": "USD"}},
        headers=admin.headers,
    )

    assert error_fields(response) == {"amount.amount"}


async def test_an_upload_size_out_of_range_is_400(client: Client, customer: Account) -> None:
    response = await client.post(
        "/uploads",
        json={"filename": "a.png", "content_type": "image/png", "size": HUGE},
        headers=customer.headers,
    )

    assert error_fields(response) == {"size"}


# --- 6. Path ids that cannot be ids ------------------------------------------------------

NOT_IDS = ["x" * 65, "%EF%BD%82%EF%BD%8F%EF%BD%82", "a%20b", "'%20OR%201=1--", "a.b", "%C3%A9"]


@pytest.mark.parametrize("bad_id", NOT_IDS)
async def test_a_product_id_that_cannot_be_an_id_is_404_without_a_query(
    client: Client, sql_statements: list[str], bad_id: str
) -> None:
    sql_statements.clear()

    response = await client.get(f"/products/{bad_id}")

    assert_problem(response, 404)
    assert sql_statements == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orders/{bad}"),
        ("POST", "/orders/{bad}/cancel"),
        ("GET", "/orders/{bad}/payments"),
        ("PUT", "/cart/items/{bad}"),
        ("DELETE", "/cart/items/{bad}"),
        ("GET", "/uploads/{bad}"),
    ],
)
async def test_ids_that_cannot_be_ids_are_404_before_any_lookup(
    client: Client, customer: Account, sql_statements: list[str], method: str, path: str
) -> None:
    sql_statements.clear()

    response = await client.request(
        method, path.format(bad="x" * 65), json={"quantity": 1}, headers=customer.headers
    )

    assert_problem(response, 404)
    assert sql_statements == []


async def test_admin_routes_answer_404_for_ids_that_cannot_be_ids_without_a_query(
    client: Client, admin: Account, sql_statements: list[str]
) -> None:
    for path in ("/users/a.b", "/api-keys/a.b", "/products/a.b/images/x"):
        sql_statements.clear()
        response = await client.request(
            "PATCH" if path.startswith("/users") else "DELETE",
            path,
            json={"role": "staff"},
            headers=admin.headers,
        )
        assert_problem(response, 404)
        assert sql_statements == [], path


async def test_a_well_formed_id_that_names_nothing_is_still_looked_up(
    client: Client, sql_statements: list[str]
) -> None:
    sql_statements.clear()

    response = await client.get("/products/00000000-0000-4000-8000-999999999999")

    assert_problem(response, 404)
    assert sql_statements  # the rule only spares queries for ids that cannot exist


# --- 7. Currency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "message"), [("QQQ", "ISO 4217"), ("EUR", "USD"), ("usd", "ISO 4217")]
)
async def test_a_price_in_another_currency_than_the_shops_is_400(
    client: Client, staff: Account, currency: str, message: str
) -> None:
    response = await client.post(
        "/products",
        json=a_product(price={"amount": 1200, "currency": currency}),
        headers=staff.headers,
    )
    listing = await client.get("/products")

    assert error_fields(response) == {"price.currency"}
    assert message in response.json()["errors"][0]["message"]
    assert listing.json()["items"] == []


async def test_a_price_change_to_another_currency_is_400(
    client: Client, staff: Account, mug: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/products/{mug['id']}",
        json={"price": {"amount": 900, "currency": "EUR"}},
        headers=staff.headers,
    )
    product = await client.get(f"/products/{mug['id']}")

    assert error_fields(response) == {"price.currency"}
    assert product.json()["price"] == mug["price"]


async def test_a_price_filter_in_another_currency_is_400(
    client: Client, mug: dict[str, Any]
) -> None:
    foreign = await client.get("/products", params={"min_price": 1, "currency": "EUR"})
    own = await client.get("/products", params={"min_price": 1, "currency": "USD"})

    assert error_fields(foreign) == {"currency"}
    assert [p["id"] for p in own.json()["items"]] == [mug["id"]]


async def test_a_refund_in_another_currency_is_400_and_refunds_nothing(
    client: Client, container: Container, admin: Account, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])
    await pay(container, order["id"])

    response = await client.post(
        f"/orders/{order['id']}/refunds",
        json={"amount": {"amount": 100, "currency": "EUR"}},
        headers=admin.headers,
    )
    after = await client.get(f"/orders/{order['id']}", headers=admin.headers)

    assert error_fields(response) == {"amount.currency"}
    assert after.json()["refunded_amount"]["amount"] == 0


# --- 8. Look-alike emails ----------------------------------------------------------------


@pytest.mark.parametrize(
    "look_alike",
    ["\uff42\uff4f\uff42@example.com", "BOB@example.com", "bob@\uff45xample.com"],
)
async def test_a_look_alike_email_cannot_make_a_second_account(
    client: Client, admin: Account, other_customer: Account, look_alike: str
) -> None:
    response = await client.post(
        "/auth/register", json={"email": look_alike, "password": PASSWORD, "full_name": "Eve"}
    )

    assert_problem(response, 409)
    assert (await user_emails(client, admin)).count("bob@example.com") == 1


async def test_a_look_alike_email_signs_in_to_the_one_account(
    client: Client, other_customer: Account
) -> None:
    account = await login(client, "\uff42\uff4f\uff42@example.com")

    assert account.id == other_customer.id
    assert account.email == "bob@example.com"


async def test_an_email_registered_in_fullwidth_is_stored_normalised(client: Client) -> None:
    account = await register(client, "\uff43\uff41\uff4c@example.com")

    assert account.email == "cal@example.com"


@pytest.mark.parametrize(
    "invisible", ["bob\u200b@example.com", "\u202ebob@example.com", "bo\u00adb@example.com"]
)
async def test_an_email_with_invisible_characters_is_400(
    client: Client, admin: Account, invisible: str
) -> None:
    response = await client.post(
        "/auth/register", json={"email": invisible, "password": PASSWORD, "full_name": "Eve"}
    )

    assert error_fields(response) == {"email"}
    assert all("bob" not in address for address in await user_emails(client, admin))


async def test_an_account_stored_before_the_rule_is_still_listed(
    client: Client, container: Container, admin: Account
) -> None:
    legacy = "zed\u200b@example.com"  # what a release without the rule let through
    user = User.register(
        user_id=container.ids().new_id(),
        email=Email.restored(legacy),
        full_name="Zed",
        password_hash="x",
        now=container.clock().now(),
    )
    async with container.unit_of_work()() as uow:
        await uow.users.add(user)
        await uow.commit()

    assert legacy in await user_emails(client, admin)
    assert (await client.get(f"/users/{user.id}", headers=admin.headers)).status_code == 200
