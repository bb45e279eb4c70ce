"""/cart: each signed-in user's own cart, shown at today's prices."""

from __future__ import annotations

from typing import Any

import pytest

from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    assert_problem,
    create_product,
    error_fields,
    put_in_cart,
)


async def test_an_empty_cart(client: Client, customer: Account) -> None:
    response = await client.get("/cart", headers=customer.headers)

    assert response.json() == {
        "items": [],
        "total": {"amount": 0, "currency": "USD"},
        "item_count": 0,
    }


async def test_setting_lines_totals_the_cart(
    client: Client, staff: Account, customer: Account, mug: dict[str, Any]
) -> None:
    pot = await create_product(
        client, staff, name="Teapot", price={"amount": 3000, "currency": "USD"}
    )

    await put_in_cart(client, customer, mug["id"], 2)
    response = await client.put(
        f"/cart/items/{pot['id']}", json={"quantity": 1}, headers=customer.headers
    )

    assert response.status_code == 200
    cart = response.json()
    assert cart["item_count"] == 3
    assert cart["total"] == {"amount": 5400, "currency": "USD"}
    lines = {item["product_id"]: item for item in cart["items"]}
    assert lines[mug["id"]] == {
        "product_id": mug["id"],
        "name": "Mug",
        "unit_price": {"amount": 1200, "currency": "USD"},
        "quantity": 2,
        "line_total": {"amount": 2400, "currency": "USD"},
    }


async def test_setting_a_line_again_replaces_it(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 2)
    await put_in_cart(client, customer, mug["id"], 5)

    cart = (await client.get("/cart", headers=customer.headers)).json()

    assert [item["quantity"] for item in cart["items"]] == [5]


@pytest.mark.parametrize("quantity", [0, 100, -1])
async def test_quantities_outside_1_to_99_are_400(
    client: Client, customer: Account, mug: dict[str, Any], quantity: int
) -> None:
    response = await client.put(
        f"/cart/items/{mug['id']}", json={"quantity": quantity}, headers=customer.headers
    )

    assert error_fields(response) == {"quantity"}


async def test_more_than_in_stock_is_409(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    response = await client.put(
        f"/cart/items/{mug['id']}", json={"quantity": 11}, headers=customer.headers
    )

    assert assert_problem(response, 409)["type"].endswith("out-of-stock")


async def test_unknown_or_archived_products_are_404(
    client: Client, admin: Account, customer: Account, mug: dict[str, Any]
) -> None:
    unknown = await client.put(
        "/cart/items/no-such-product", json={"quantity": 1}, headers=customer.headers
    )
    await client.delete(f"/products/{mug['id']}", headers=admin.headers)
    archived = await client.put(
        f"/cart/items/{mug['id']}", json={"quantity": 1}, headers=customer.headers
    )

    assert_problem(unknown, 404)
    assert_problem(archived, 404)


async def test_removing_a_line_and_emptying_the_cart(
    client: Client, staff: Account, customer: Account, mug: dict[str, Any]
) -> None:
    pot = await create_product(client, staff, name="Teapot")
    await put_in_cart(client, customer, mug["id"], 1)
    await put_in_cart(client, customer, pot["id"], 1)

    removed = await client.delete(f"/cart/items/{mug['id']}", headers=customer.headers)
    after_remove = (await client.get("/cart", headers=customer.headers)).json()
    cleared = await client.delete("/cart", headers=customer.headers)
    after_clear = (await client.get("/cart", headers=customer.headers)).json()

    assert removed.status_code == cleared.status_code == 204
    assert [item["product_id"] for item in after_remove["items"]] == [pot["id"]]
    assert after_clear["items"] == []


async def test_each_user_has_their_own_cart(
    client: Client, customer: Account, other_customer: Account, mug: dict[str, Any]
) -> None:
    await put_in_cart(client, customer, mug["id"], 1)

    other = (await client.get("/cart", headers=other_customer.headers)).json()

    assert other["items"] == []


async def test_a_cart_line_accepts_only_a_quantity(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    response = await client.put(
        f"/cart/items/{mug['id']}",
        json={"quantity": 1, "unit_price": {"amount": 1, "currency": "USD"}},
        headers=customer.headers,
    )

    assert error_fields(response) == {"unit_price"}


async def test_the_cart_needs_a_signed_in_user(client: Client, mug: dict[str, Any]) -> None:
    for response in [
        await client.get("/cart"),
        await client.put(f"/cart/items/{mug['id']}", json={"quantity": 1}),
        await client.delete(f"/cart/items/{mug['id']}"),
        await client.delete("/cart"),
    ]:
        assert_problem(response, 401)
