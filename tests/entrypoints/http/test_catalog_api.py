"/products: anyone browses; staff and `products:write` keys maintain; admins archive."

from __future__ import annotations

from typing import Any

import pytest

from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    a_product,
    assert_problem,
    create_product,
    error_fields,
    place_order,
)


async def test_a_new_product_has_the_documented_shape(client: Client, staff: Account) -> None:
    response = await client.post("/products", json=a_product(), headers=staff.headers)

    assert response.status_code == 201
    product = response.json()
    assert set(product) == {
        "id",
        "name",
        "description",
        "price",
        "inventory_count",
        "category",
        "images",
        "created_at",
        "updated_at",
        "sku",
    }
    assert product["sku"] is None
    assert product["price"] == {"amount": 1200, "currency": "USD"}
    assert product["images"] == []
    assert product["created_at"].endswith("Z")
    fetched = await client.get(f"/products/{product['id']}")
    assert fetched.json() == product


async def test_anyone_may_browse_without_credentials(client: Client, mug: dict[str, Any]) -> None:
    listed = await client.get("/products")
    one = await client.get(f"/products/{mug['id']}")

    assert [p["id"] for p in listed.json()["items"]] == [mug["id"]]
    assert listed.json()["next_cursor"] is None
    assert one.status_code == 200


async def test_an_unknown_product_is_404(client: Client) -> None:
    body = assert_problem(await client.get("/products/nope"), 404)

    assert body["instance"] == "/products/nope"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": {"amount": -1, "currency": "USD"}}, "price"),
        ({"price": {"amount": 1, "currency": "usd"}}, "price.currency"),
        ({"price": {"amount": 19.99, "currency": "USD"}}, "price.amount"),
        ({"inventory_count": -5}, "inventory_count"),
        ({"name": "  "}, "name"),
        ({"category": ""}, "category"),
        ({"id": "mine"}, "id"),
        ({"price": {"amount": 1, "currency": "USD", "discount": 1}}, "price.discount"),
        ({"sku": "has space"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": 12}, "sku"),
    ],
)
async def test_invalid_products_are_refused_by_field(
    client: Client, staff: Account, changes: dict[str, Any], field: str
) -> None:
    response = await client.post("/products", json=a_product(**changes), headers=staff.headers)

    assert error_fields(response) == {field}


async def test_a_missing_field_is_named(client: Client, staff: Account) -> None:
    body = a_product()
    del body["price"]

    response = await client.post("/products", json=body, headers=staff.headers)

    assert error_fields(response) == {"price"}


async def test_staff_change_any_field(client: Client, staff: Account, mug: dict[str, Any]) -> None:
    response = await client.patch(
        f"/products/{mug['id']}",
        json={"name": "Big Mug", "price": {"amount": 1500, "currency": "USD"}},
        headers=staff.headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Big Mug"
    assert body["price"]["amount"] == 1500
    assert body["description"] == mug["description"]


async def test_a_sku_is_unique_across_creates_and_changes(
    client: Client, staff: Account, mug: dict[str, Any]
) -> None:
    made = await client.post("/products", json=a_product(sku="MUG-1"), headers=staff.headers)
    assert made.status_code == 201
    assert made.json()["sku"] == "MUG-1"

    assert_problem(
        await client.post("/products", json=a_product(sku="MUG-1"), headers=staff.headers), 409
    )
    assert_problem(
        await client.patch(f"/products/{mug['id']}", json={"sku": "MUG-1"}, headers=staff.headers),
        409,
    )
    renamed = await client.patch(
        f"/products/{mug['id']}", json={"sku": "MUG-2"}, headers=staff.headers
    )
    assert renamed.json()["sku"] == "MUG-2"
    assert (await client.get(f"/products/{mug['id']}")).json()["sku"] == "MUG-2"


async def test_a_change_cannot_null_a_field(
    client: Client, staff: Account, mug: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/products/{mug['id']}", json={"name": None}, headers=staff.headers
    )

    assert error_fields(response) == {"name"}


async def test_inventory_restock_and_correction_never_below_zero(
    client: Client, staff: Account, mug: dict[str, Any]
) -> None:
    url = f"/products/{mug['id']}/inventory"

    restocked = await client.post(url, json={"delta": 5}, headers=staff.headers)
    corrected = await client.post(url, json={"delta": -15}, headers=staff.headers)
    too_far = await client.post(url, json={"delta": -1}, headers=staff.headers)
    zero = await client.post(url, json={"delta": 0}, headers=staff.headers)

    assert restocked.json()["inventory_count"] == 15
    assert corrected.json()["inventory_count"] == 0
    assert_problem(too_far, 409)
    assert error_fields(zero) == {"delta"}


async def test_archiving_takes_a_product_out_of_the_shop_but_not_out_of_orders(
    client: Client, admin: Account, customer: Account, mug: dict[str, Any]
) -> None:
    order = await place_order(client, customer, mug["id"])

    archived = await client.delete(f"/products/{mug['id']}", headers=admin.headers)
    again = await client.delete(f"/products/{mug['id']}", headers=admin.headers)

    assert archived.status_code == 204
    assert_problem(again, 404)
    assert_problem(await client.get(f"/products/{mug['id']}"), 404)
    assert (await client.get("/products")).json()["items"] == []
    kept = await client.get(f"/orders/{order['id']}", headers=customer.headers)
    assert kept.json()["items"][0]["name"] == "Mug"


async def test_customers_and_anonymous_callers_cannot_maintain_the_catalog(
    client: Client, customer: Account, staff: Account, mug: dict[str, Any]
) -> None:
    url = f"/products/{mug['id']}"
    for headers, status in ((customer.headers, 403), ({}, 401)):
        for response in [
            await client.post("/products", json=a_product(), headers=headers),
            await client.patch(url, json={"name": "x"}, headers=headers),
            await client.post(f"{url}/inventory", json={"delta": 1}, headers=headers),
            await client.delete(url, headers=headers),
        ]:
            assert_problem(response, status)
    # Archiving is for admins only.
    assert_problem(await client.delete(url, headers=staff.headers), 403)


@pytest.fixture
async def shelf(client: Client, staff: Account) -> dict[str, dict[str, Any]]:
    products = {}
    for name, amount, stock, category, description in [
        ("Teapot", 3000, 3, "kitchen", "Holds six cups"),
        ("Atlas", 2500, 0, "books", "Maps of the world"),
        ("Mug", 1200, 10, "kitchen", "A sturdy mug"),
        ("Novel", 900, 4, "books", "A gripping story about tea"),
    ]:
        products[name] = await create_product(
            client,
            staff,
            name=name,
            price={"amount": amount, "currency": "USD"},
            inventory_count=stock,
            category=category,
            description=description,
        )
    return products


async def _names(client: Client, **params: Any) -> list[str]:
    response = await client.get("/products", params=params)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


@pytest.mark.usefixtures("shelf")
async def test_filters(client: Client) -> None:
    assert await _names(client, category="books", sort="name") == ["Atlas", "Novel"]
    assert await _names(client, q="tea", sort="name") == ["Novel", "Teapot"]
    assert await _names(client, min_price=1000, max_price=2600, sort="price") == ["Mug", "Atlas"]
    assert await _names(client, in_stock="true", sort="name") == ["Mug", "Novel", "Teapot"]
    assert await _names(client, in_stock="false") == ["Atlas"]


@pytest.mark.usefixtures("shelf")
async def test_sorting(client: Client) -> None:
    assert await _names(client, sort="price") == ["Novel", "Mug", "Atlas", "Teapot"]
    assert await _names(client, sort="-price") == ["Teapot", "Atlas", "Mug", "Novel"]
    assert await _names(client, sort="name") == ["Atlas", "Mug", "Novel", "Teapot"]
    assert await _names(client, sort="created_at") == ["Teapot", "Atlas", "Mug", "Novel"]
    assert await _names(client, sort="-created_at") == ["Novel", "Mug", "Atlas", "Teapot"]
    assert await _names(client) == await _names(client, sort="-created_at")


@pytest.mark.usefixtures("shelf")
async def test_keyset_pages_cover_the_listing_once(client: Client) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "price"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/products", params=params)).json()
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["Novel", "Mug", "Atlas", "Teapot"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "popularity"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"min_price": -1}, "min_price"),
        ({"min_price": 10, "max_price": 5}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
async def test_bad_listing_parameters_are_400(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/products", params=params)

    assert error_fields(response) == {field}
