"""Request bodies are JSON validated strictly (the contract: Money is an integer, never a string
or a float), while query and path parameters, which are always strings on the wire,
still convert to their types."""

from __future__ import annotations

from typing import Any

from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    a_product,
    an_address,
    assert_problem,
    error_fields,
)


async def test_a_price_given_as_a_string_is_refused_naming_the_field(
    client: Client, staff: Account
) -> None:
    body = a_product(price={"amount": "1200", "currency": "USD"})

    response = await client.post("/products", json=body, headers=staff.headers)

    assert error_fields(response) == {"price.amount"}
    assert "int" in assert_problem(response, 400)["errors"][0]["message"]


async def test_a_price_with_a_fraction_of_a_minor_unit_is_refused(
    client: Client, staff: Account
) -> None:
    body = a_product(price={"amount": 1200.5, "currency": "USD"})

    response = await client.post("/products", json=body, headers=staff.headers)

    assert error_fields(response) == {"price.amount"}


async def test_a_whole_number_written_with_a_decimal_point_is_that_integer(
    client: Client, staff: Account
) -> None:
    # JSON has one kind of number and JSON Schema's `integer` admits 1200.0: a client
    # generated from the OpenAPI document may send it so.
    body = a_product(price={"amount": 1200.0, "currency": "USD"}, inventory_count=10.0)

    response = await client.post("/products", json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    assert response.json()["price"]["amount"] == 1200
    assert response.json()["inventory_count"] == 10


async def test_a_stock_count_given_as_a_string_is_refused(client: Client, staff: Account) -> None:
    response = await client.post(
        "/products", json=a_product(inventory_count="10"), headers=staff.headers
    )

    assert error_fields(response) == {"inventory_count"}


async def test_a_quantity_given_as_a_string_is_refused(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    response = await client.put(
        f"/cart/items/{mug['id']}", json={"quantity": "2"}, headers=customer.headers
    )

    assert error_fields(response) == {"quantity"}


async def test_a_bad_item_in_a_list_is_named_by_its_position(
    client: Client, admin: Account
) -> None:
    response = await client.post(
        "/api-keys", json={"name": "partner", "scopes": ["orders:read", 7]}, headers=admin.headers
    )

    assert error_fields(response) == {"scopes[1]"}


async def test_a_boolean_given_as_a_string_is_refused(
    client: Client, admin: Account, customer: Account
) -> None:
    response = await client.patch(
        f"/users/{customer.id}", json={"is_active": "false"}, headers=admin.headers
    )

    assert error_fields(response) == {"is_active"}


async def test_a_nested_address_field_of_the_wrong_type_is_named(
    client: Client, customer: Account
) -> None:
    response = await client.post(
        "/orders",
        json={"shipping_address": an_address(postal_code=12345)},
        headers={**customer.headers, "Idempotency-Key": "k-1"},
    )

    assert error_fields(response) == {"shipping_address.postal_code"}


async def test_unknown_and_missing_fields_are_still_named(client: Client, staff: Account) -> None:
    unknown = await client.post("/products", json=a_product(role="admin"), headers=staff.headers)
    body = a_product()
    del body["name"]
    missing = await client.post("/products", json=body, headers=staff.headers)

    assert error_fields(unknown) == {"role"}
    assert error_fields(missing) == {"name"}


async def test_a_body_that_is_not_an_object_is_refused(client: Client, staff: Account) -> None:
    response = await client.post("/products", json=[a_product()], headers=staff.headers)

    assert error_fields(response) == {"body"}


async def test_well_typed_bodies_are_accepted(client: Client, staff: Account) -> None:
    response = await client.post("/products", json=a_product(), headers=staff.headers)

    assert response.status_code == 201, response.text
    assert response.json()["price"] == {"amount": 1200, "currency": "USD"}


async def test_query_and_path_parameters_still_convert_from_strings(
    client: Client, mug: dict[str, Any]
) -> None:
    listed = await client.get(
        "/products", params={"min_price": "1000", "in_stock": "true", "limit": "5"}
    )
    found = await client.get(f"/products/{mug['id']}")

    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["items"]] == [mug["id"]]
    assert found.status_code == 200, found.text
