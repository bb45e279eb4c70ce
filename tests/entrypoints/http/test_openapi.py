"""/schema/openapi.json is the contract, machine-readable; /schema documents it offline."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from typing import Any

import pytest

from domain.money import MAX_AMOUNT
from tests.entrypoints.http.shop_api import Client

# Every HTTP path and method of the contract this app serves. (/files/{key}, the embedded
# default's stand-in for S3 behind presigned URLs, is not an API route and stays out of
# the document.)
IMPLEMENTED = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"),
    ("get", "/users/me"),
    ("patch", "/users/me"),
    ("get", "/users"),
    ("get", "/users/{user_id}"),
    ("patch", "/users/{user_id}"),
    ("post", "/api-keys"),
    ("get", "/api-keys"),
    ("delete", "/api-keys/{key_id}"),
    ("get", "/products"),
    ("get", "/products/{product_id}"),
    ("post", "/products"),
    ("patch", "/products/{product_id}"),
    ("delete", "/products/{product_id}"),
    ("post", "/products/{product_id}/inventory"),
    ("post", "/products/{product_id}/images"),
    ("post", "/products/{product_id}/images/{image_id}/complete"),
    ("delete", "/products/{product_id}/images/{image_id}"),
    ("post", "/uploads"),
    ("get", "/uploads/{upload_id}"),
    ("get", "/cart"),
    ("put", "/cart/items/{product_id}"),
    ("delete", "/cart/items/{product_id}"),
    ("delete", "/cart"),
    ("post", "/orders"),
    ("get", "/orders"),
    ("get", "/orders/{order_id}"),
    ("post", "/orders/{order_id}/cancel"),
    ("post", "/orders/{order_id}/ship"),
    ("post", "/orders/{order_id}/deliver"),
    ("post", "/orders/{order_id}/refunds"),
    ("get", "/orders/{order_id}/payments"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("post", "/webhooks/stripe"),
    ("get", "/metrics"),
    ("get", "/admin/audit"),
}
ANYONE = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"),
    ("get", "/products"),
    ("get", "/products/{product_id}"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    # Stripe authenticates with the Stripe-Signature header, not with a user or a key.
    ("post", "/webhooks/stripe"),
    # Scraped by Prometheus, like the health checks; served only where operators reach it.
    ("get", "/metrics"),
}
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_it_is_openapi_3_1_and_lists_every_implemented_route(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert set(_operations(document)) == IMPLEMENTED


def test_operations_are_tagged_and_described(document: dict[str, Any]) -> None:
    tags = {tag["name"] for tag in document["tags"]}
    for key, operation in _operations(document).items():
        assert operation["tags"], key
        assert set(operation["tags"]) <= tags, key
        assert operation.get("description"), key


def test_protected_routes_declare_their_security(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    for key, operation in _operations(document).items():
        if key in ANYONE:
            assert not operation.get("security"), key
        else:
            assert operation["security"], key
            assert "401" in operation["responses"], key


def test_errors_are_documented_as_problem_details(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    for key, operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"], (key, status)


def test_checkout_documents_the_idempotency_key(document: dict[str, Any]) -> None:
    operation = document["paths"]["/orders"]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]

    assert header["name"] == "Idempotency-Key"
    assert header["required"] is True
    assert {"201", "400", "401", "409"} <= set(operation["responses"])


def test_money_is_integer_minor_units(document: dict[str, Any]) -> None:
    money = document["components"]["schemas"]["Money"]

    assert money["properties"]["amount"]["type"] == "integer"
    assert set(money["required"]) == {"amount", "currency"}


async def test_the_documentation_page_loads_nothing_from_elsewhere(client: Client) -> None:
    page = await client.get("/schema")

    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text[:500]
    for asset in assets:
        assert asset.startswith("/static/swagger-ui/"), asset
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["content-type"].startswith(
            ("text/css", "text/javascript", "application/javascript")
        )


def test_logout_documents_a_bad_refresh_token_as_400_and_a_bad_access_token_as_401(
    document: dict[str, Any],
) -> None:
    responses = document["paths"]["/auth/logout"]["post"]["responses"]

    assert set(responses) == {"204", "400", "401", "403", "413", "429"}
    assert "refresh_token" in responses["400"]["description"]
    assert "access token" in responses["401"]["description"]
    for status in ("400", "401", "403"):
        assert list(responses[status]["content"]) == ["application/problem+json"]


def test_metrics_are_documented_as_prometheus_text(document: dict[str, Any]) -> None:
    responses = document["paths"]["/metrics"]["get"]["responses"]

    assert list(responses["200"]["content"]) == ["text/plain; version=0.0.4"]


def test_every_operation_with_a_body_documents_413(document: dict[str, Any]) -> None:
    with_a_body = {
        key: operation
        for key, operation in _operations(document).items()
        if "requestBody" in operation
    }

    assert len(with_a_body) >= 15
    for key, operation in with_a_body.items():
        assert "413" in operation["responses"], key


def test_every_request_body_refuses_unknown_fields_and_has_an_example(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    bodies = 0
    for key, operation in _operations(document).items():
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None or key == ("post", "/webhooks/stripe"):
            continue
        reference = json.dumps(content["schema"])
        [name] = re.findall(r"#/components/schemas/(\w+)", reference)
        body = schemas[name]
        assert body["additionalProperties"] is False, key
        assert body["examples"], key
        bodies += 1
    assert bodies >= 18


def test_operations_have_stable_ids_summaries_and_the_package_version(
    document: dict[str, Any],
) -> None:
    operations = _operations(document)
    ids = [operation["operationId"] for operation in operations.values()]

    assert len(set(ids)) == len(ids)
    assert operations["post", "/orders"]["operationId"] == "place_order"
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id) for operation_id in ids)
    for operation in operations.values():
        assert not re.search("[a-z][A-Z]", operation["summary"]), operation["summary"]
    assert document["info"]["version"] == version("hexmart")


def test_the_input_rules_are_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    order = document["paths"]["/orders/{order_id}"]["get"]
    [order_id] = order["parameters"]
    products = {p["name"]: p["schema"] for p in document["paths"]["/products"]["get"]["parameters"]}
    price = schemas["NewProduct"]["properties"]["price"]

    assert order_id["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert products["currency"]["enum"] == ["USD"]
    assert products["cursor"]["pattern"] == "^[A-Za-z0-9_-]{0,1024}$"
    assert price["properties"]["amount"]["maximum"] == MAX_AMOUNT
    assert price["properties"]["currency"]["enum"] == ["USD"]
    assert schemas["Registration"]["properties"]["email"]["maxLength"] == 254
    assert re.match(schemas["Registration"]["properties"]["email"]["pattern"], "ann@example.com")
    assert schemas["InventoryAdjustment"]["properties"]["delta"]["maximum"] == 10**9
    name = schemas["NewProduct"]["properties"]["name"]["pattern"]
    assert re.match(name, "  Mug  ")
    assert not re.match(name, "   ")
    assert not re.match(name, "Mug\x00")
    assert not re.match(name, "M" * 201)


def test_links_chain_the_flows(document: dict[str, Any]) -> None:
    def links(path: str, method: str) -> dict[str, Any]:
        responses = document["paths"][path][method]["responses"]
        [success] = [status for status in responses if status.startswith("2")]
        found: dict[str, Any] = responses[success]["links"]
        return found

    ids = {operation["operationId"] for operation in _operations(document).values()}
    placed = links("/orders", "post")

    assert {link["operationId"] for link in placed.values()} >= {
        "get_order",
        "cancel_order",
        "ship_order",
        "list_payments",
        "refund_order",
    }
    assert placed["GetOrder"]["parameters"] == {"order_id": "$response.body#/order/id"}
    assert {"get_product", "request_image_upload", "adjust_inventory"} <= {
        link["operationId"] for link in links("/products", "post").values()
    }
    assert links("/api-keys", "post")["RevokeKey"]["operationId"] == "revoke_key"
    assert links("/uploads", "post")["GetUpload"]["operationId"] == "get_upload"
    assert links("/auth/login", "post")["Refresh"]["operationId"] == "refresh"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for response in operation.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in ids, (method, path)


def test_each_error_status_names_its_problem_types(document: dict[str, Any]) -> None:
    responses = document["paths"]["/orders"]["post"]["responses"]
    conflict = responses["409"]["content"]["application/problem+json"]["schema"]["$ref"]
    name = conflict.rsplit("/", 1)[-1]
    types = document["components"]["schemas"][name]["allOf"][1]["properties"]["type"]["enum"]

    assert "urn:hexmart:problem:idempotency-key-reused" in types
    assert "urn:hexmart:problem:out-of-stock" in types
